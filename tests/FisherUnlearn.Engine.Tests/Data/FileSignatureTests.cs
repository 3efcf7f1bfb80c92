using System.IO.Compression;
using System.Text;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Tests.Support;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Tests.Data;

/// <summary>
/// A file of another format than the one declared is FUL4002 naming what it is (QA: a ZIP read as safetensors data "claims
/// 67324752 bytes", a gzip read as CSV had "the quote at line 1, column 58"), and a checkpoint that is another format is
/// FUL4022 saying so.
/// </summary>
public sealed class FileSignatureTests : IDisposable
{
    private readonly TestFolder folder = new();

    public void Dispose() => folder.Dispose();

    private DatasetManifest Manifest(string format, DatasetSplit train) => new()
    {
        Id = "tiny",
        ManifestPath = folder.PathOf("tiny.dataset.json"),
        Format = format,
        Classes = 3,
        Train = train,
        Location = new SourceLocation(folder.PathOf("tiny.dataset.json")),
    };

    private static byte[] ZipOf(string name, string content)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = zip.CreateEntry(name).Open();
            entry.Write(Encoding.UTF8.GetBytes(content));
        }

        return buffer.ToArray();
    }

    private static byte[] GzipOf(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return buffer.ToArray();
    }

    [Fact]
    public void A_zip_declared_as_safetensors_data_is_FUL4002_naming_what_it_is()
    {
        var path = folder.Write("train.safetensors", ZipOf("data.pkl", "not tensors"));

        var ex = EngineAssert.Fails("FUL4002", () => DatasetLoader.Load(Manifest("safetensors", new DatasetSplit { Path = path }), "train"));

        Assert.Contains("is not a safetensors file (found a ZIP archive", ex.Diagnostic.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("claims", ex.Diagnostic.Message, StringComparison.Ordinal);
        Assert.Equal(path, ex.Diagnostic.Location.File);
    }

    [Fact]
    public void A_gzip_file_declared_as_csv_is_FUL4002_and_utf16_text_still_reads()
    {
        var gzipped = folder.Write("train.csv", GzipOf("f1,y\n0.5,1\n"));
        var utf16 = folder.Write("utf16.csv", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("f1,y\n0.5,1\n0.25,2\n")]);

        var ex = EngineAssert.Fails("FUL4002", () => DatasetLoader.Load(Manifest("csv", new DatasetSplit { Path = gzipped, LabelColumn = "y" }), "train"));
        var data = DatasetLoader.Load(Manifest("csv", new DatasetSplit { Path = utf16, LabelColumn = "y" }), "train");

        Assert.Contains("is not a CSV text file (found gzip-compressed data)", ex.Diagnostic.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("quote", ex.Diagnostic.Message, StringComparison.Ordinal);
        Assert.Equal([1L, 2L], data.Labels);
    }

    [Fact]
    public void A_zip_named_as_a_safetensors_checkpoint_is_FUL4022_pointing_at_a_pt_path()
    {
        var path = folder.Write("m.safetensors", ZipOf("archive/data.pkl", "pickle"));

        var ex = EngineAssert.Fails("FUL4022", () => SafetensorsFile.Read(path));

        Assert.Contains("it is a ZIP archive (a PyTorch .pt file or a NumPy .npz file is one), not a safetensors file; a PyTorch state_dict is read from a .pt or .pth path",
            ex.Diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Signatures_are_recognised_and_every_format_accepts_its_own_files()
    {
        var idx = IdxBuilder.Labels(0, 1, 2);
        var safetensors = folder.PathOf("ok.safetensors");
        SafetensorsFile.Write(safetensors, new Dictionary<string, SafetensorsTensor> { ["a"] = SafetensorsTensor.FromFloats([1], [1f]) });

        Assert.Equal("an IDX file", FileSignature.Recognise(idx));
        Assert.Equal("gzip-compressed data", FileSignature.Recognise(IdxBuilder.Gzip(idx)));
        Assert.Equal("a safetensors file", FileSignature.Recognise(FileSignature.Head(safetensors)));
        Assert.True(FileSignature.IsSafetensors(FileSignature.Head(safetensors)));
        // Read from a file, as the readers read it (the pointer's signature is longer than an IDX magic).
        var pointer = folder.Write("pointer.csv", "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 12345\n"u8.ToArray());
        Assert.StartsWith("a Git LFS pointer", FileSignature.Recognise(FileSignature.Head(pointer)), StringComparison.Ordinal);
        var lfs = EngineAssert.Fails("FUL4002", () => DatasetLoader.Load(Manifest("csv", new DatasetSplit { Path = pointer, LabelColumn = "y" }), "train"));
        Assert.Contains("is not a CSV text file (found a Git LFS pointer ('git lfs pull' fetches the file itself))", lfs.Diagnostic.Message, StringComparison.Ordinal);
        Assert.Equal("a NumPy .npy array", FileSignature.Recognise([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]));
        Assert.Null(FileSignature.Recognise("f1,y\n0.5,1\n"u8));
        Assert.Null(FileSignature.Recognise([]));
        Assert.Equal(1f, SafetensorsFile.Read(safetensors).Tensors["a"].ToFloats()[0]);
    }
}
