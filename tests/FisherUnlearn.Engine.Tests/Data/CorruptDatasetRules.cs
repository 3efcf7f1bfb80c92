using System.IO.Compression;
using System.Text;
using CsCheck;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Tests.Support;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Tests.Data;

/// <summary>
/// Damaged dataset files of every format, made at random from small valid ones (seeded: a failure prints the seed and
/// the shrunk damage, as the C# that rebuilds it), loaded as a split: each loads whole (as many features as samples
/// times the sample shape, all finite, IDX pixels in 0..1, every label one of the classes) or is refused with a FUL4xxx
/// located at a file of the dataset, never another exception, never a hang, and never allocating more than the
/// files' bytes (decompressed, for gzip) justify.
/// </summary>
public sealed class CorruptDatasetRules : IDisposable
{
    private const int Iterations = 500;

    private const int Classes = 3;

    private readonly TestFolder folder = new();

    public void Dispose() => folder.Dispose();

    private string ManifestPath => folder.PathOf("tiny.dataset.json");

    private DatasetManifest Manifest(string format, DatasetSplit train) => new()
    {
        Id = "tiny",
        ManifestPath = ManifestPath,
        Format = format,
        Classes = Classes,
        Train = train,
        Location = new SourceLocation(ManifestPath),
    };

    private static void AssertWhole(DataSplit data, bool pixels)
    {
        Assert.All(data.SampleShape, d => Assert.True(d > 0));
        Assert.Equal(data.SampleShape.Aggregate(1L, (product, d) => product * d), data.FeatureSize);
        Assert.Equal(data.Count, data.Labels.Count);
        Assert.Equal((long)data.Count * data.FeatureSize, data.Features.Length);
        foreach (var value in data.Features.Span)
        {
            Assert.True(float.IsFinite(value) && (!pixels || value is >= 0 and <= 1), $"a feature was loaded as {value}");
        }

        Assert.All(data.Labels, label => Assert.InRange(label, 0, Classes - 1));
    }

    // Loads the split whose files were just written (and deletes them), checking the contract.
    private void LoadsWholeOrRefuses(string format, DatasetSplit split, IReadOnlyList<(string Path, byte[] Bytes)> files)
    {
        try
        {
            InputContract.LoadsWholeOrRefuses(() => DatasetLoader.Load(Manifest(format, split), "train"), files.Sum(f => Inflated(f.Bytes)),
                [ManifestPath, .. files.Select(f => f.Path)], data => AssertWhole(data, pixels: format == "idx"));
        }
        finally
        {
            foreach (var (path, _) in files)
            {
                File.Delete(path);
            }
        }
    }

    private (string Path, byte[] Bytes) Write(string extension, byte[] bytes) => (folder.Write($"{Guid.NewGuid():N}{extension}", bytes), bytes);

    /// <summary>The bytes a file holds: for a gzip file, as many as it inflates to before it ends or its damage stops the
    /// inflation (the data a reader can be given, whatever its header declares).</summary>
    private static long Inflated(byte[] bytes)
    {
        if (bytes is not [0x1f, 0x8b, ..])
        {
            return bytes.Length;
        }

        long total = 0;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            var buffer = new byte[4096];
            int read;
            while ((read = gzip.Read(buffer)) > 0 && total < (1L << 28))
            {
                total += read;
            }
        }
        catch (InvalidDataException)
        {
            // Damaged from here on: what inflated before counts.
        }

        return Math.Max(total, bytes.Length);
    }

    private static string Print<T>((T Target, Mutation[] Damage) input) => $"{input.Target}: {string.Join(", ", input.Damage.Select(m => m.ToString()))}";

    /// <summary>Which IDX file is damaged, and whether before it is gzipped, after, or not gzipped.</summary>
    private enum IdxDamage
    {
        PlainImages,
        PlainLabels,
        GzippedDamagedImages,
        GzippedDamagedLabels,
        DamagedGzippedImages,
        DamagedGzippedLabels,
    }

    // Noise, which gzip cannot shrink: a damaged count may then ask for more than the data there is, yet less than the
    // 1032:1 that deflate can expand.
    private static readonly byte[] Images = IdxBuilder.Images(3, 16, 16, (sample, pixel) => (byte)new Random((sample * 256) + pixel).Next(256));

    private static readonly byte[] Labels = IdxBuilder.Labels(2, 0, 1);

    private static (byte[] Images, byte[] Labels) IdxFiles(IdxDamage target, Mutation[] damage)
    {
        var images = target.ToString().EndsWith("Images", StringComparison.Ordinal);
        var plain = images ? Images : Labels;
        var damaged = target switch
        {
            IdxDamage.PlainImages or IdxDamage.PlainLabels => Mutation.ApplyAll(plain, damage),
            IdxDamage.GzippedDamagedImages or IdxDamage.GzippedDamagedLabels => IdxBuilder.Gzip(Mutation.ApplyAll(plain, damage)),
            _ => Mutation.ApplyAll(IdxBuilder.Gzip(plain), damage),
        };
        return images ? (damaged, Labels) : (Images, damaged);
    }

    [Fact]
    public void Damaged_idx_files_plain_or_gzipped_load_whole_or_are_refused_with_FUL4()
    {
        // The magic and the sizes, big-endian 32-bit words, of the file as it is before gzip.
        Field[] imageFields = [new(0, 4, true), new(4, 4, true), new(8, 4, true), new(12, 4, true)];
        Field[] labelFields = [new(0, 4, true), new(4, 4, true)];
        Gen.Enum<IdxDamage>().SelectMany(target =>
        {
            var images = target.ToString().EndsWith("Images", StringComparison.Ordinal);
            var before = target.ToString().StartsWith("Damaged", StringComparison.Ordinal) ? IdxBuilder.Gzip(images ? Images : Labels) : images ? Images : Labels;
            return Corruption.Some(before.Length, target.ToString().StartsWith("Damaged", StringComparison.Ordinal) ? [] : images ? imageFields : labelFields)
                .Select(damage => (target, damage));
        }).Sample(input =>
        {
            var (images, labels) = IdxFiles(input.target, input.damage);
            var (imagesFile, labelsFile) = (Write(".idx3-ubyte", images), Write(".idx1-ubyte", labels));
            LoadsWholeOrRefuses("idx", new DatasetSplit { Images = imagesFile.Path, Labels = labelsFile.Path }, [imagesFile, labelsFile]);
        }, iter: Iterations, print: Print);
    }

    private static readonly byte[] Csv = Encoding.UTF8.GetBytes("f1,f2,y\n0.5,1,2\n0.25,0,0\n-3e2,\"4\",1\n");

    private void CsvLoadsWholeOrRefuses(byte[] bytes)
    {
        var file = Write(".csv", bytes);
        LoadsWholeOrRefuses("csv", new DatasetSplit { Path = file.Path, LabelColumn = "y" }, [file]);
    }

    [Fact]
    public void Damaged_csv_files_load_whole_or_are_refused_with_FUL4() =>
        Corruption.Some(Csv.Length, []).Select(damage => ("csv", damage))
            .Sample(input => CsvLoadsWholeOrRefuses(Mutation.ApplyAll(Csv, input.damage)), iter: Iterations, print: Print);

    /// <summary>A CSV file's text, printed as a C# string literal.</summary>
    private sealed record CsvText(string Text)
    {
        public override string ToString() => $"new CsvText(\"{string.Concat(Text.Select(c => c switch
        {
            '"' => "\\\"",
            '\\' => "\\\\",
            < ' ' or > '~' => $"\\u{(int)c:X4}",
            _ => c.ToString(),
        }))}\")";
    }

    [Fact]
    public void Csv_files_of_any_cells_load_whole_or_are_refused_with_FUL4()
    {
        var header = Gen.Frequency((6, Gen.OneOf("f1,f2,y", "y,f1", "\"f1\",\"y\"", " y , f1 ", "f1,\"a,b\",y")), (1, Gen.OneOf("f1,y,y", "y", "f1,f2", string.Empty)));
        var cell = Gen.Frequency(
            (8, Gen.OneOf("0", "1", "2", "0.5", "-3e2", " 2 ", "\"1\"", "+1", "1.", ".5")),
            (1, Gen.OneOf("-1", "3", "1e39", "-1e39", "NaN", "Infinity", "-Infinity", "∞", string.Empty, "\"", "1\0", "0x10", "9223372036854775808", "1,5", "\"\"\"\"", "1_0",
                "1e", "١")));
        var files = header.SelectMany(head =>
        {
            var columns = head.Split(',').Length;
            var row = Gen.Frequency((8, cell.Array[columns]), (1, cell.Array[0, 4])).Select(cells => string.Join(",", cells));
            return Gen.Select(Gen.OneOf(string.Empty, "\uFEFF"), row.Array[0, 4], Gen.OneOf("\n", "\r\n", "\r"),
                (bom, rows, newline) => new CsvText(bom + string.Join(newline, [head, .. rows]) + newline));
        });
        files.Sample(csv => CsvLoadsWholeOrRefuses(Encoding.UTF8.GetBytes(csv.Text)), iter: Iterations);
    }

    private static readonly byte[][] SafetensorsData =
    [
        SafetensorsFile.Serialize(new Dictionary<string, SafetensorsTensor>
        {
            ["x"] = new(SafetensorsDType.U8, [3, 1, 2], [0, 255, 51, 102, 7, 8]),
            ["y"] = new(SafetensorsDType.U8, [3], [2, 0, 1]),
        }),
        SafetensorsFile.Serialize(new Dictionary<string, SafetensorsTensor>
        {
            ["x"] = SafetensorsTensor.FromFloats([2, 2], [0.5f, -1, 3, 1e-3f]),
            ["y"] = new(SafetensorsDType.I64, [2], [.. BitConverter.GetBytes(1L), .. BitConverter.GetBytes(2L)]),
        }),
    ];

    private void SafetensorsLoadsWholeOrRefuses(byte[] bytes)
    {
        var file = Write(".safetensors", bytes);
        LoadsWholeOrRefuses("safetensors", new DatasetSplit { Path = file.Path }, [file]);
    }

    [Fact]
    public void Damaged_safetensors_datasets_load_whole_or_are_refused_with_FUL4() =>
        Gen.Int[0, SafetensorsData.Length - 1]
            .SelectMany(b => Corruption.Some(SafetensorsData[b].Length, [new Field(0, 8)]).Select(damage => (b, damage)))
            .Sample(input => SafetensorsLoadsWholeOrRefuses(Mutation.ApplyAll(SafetensorsData[input.b], input.damage)), iter: Iterations, print: Print);

    [Fact]
    public void Safetensors_datasets_of_any_well_formed_header_load_whole_or_are_refused_with_FUL4() =>
        RawSafetensors.Headers(new("x", ["F32", "U8"], 3), new("y", ["I64", "I32", "U8"], 1)).Sample(file => SafetensorsLoadsWholeOrRefuses(file.ToBytes()), iter: Iterations);

    // The cases the properties found, as CsCheck shrank them.

    [Fact]
    public void Features_whose_one_sample_holds_more_values_than_an_int_counts_are_FUL4008_not_an_overflow()
    {
        // With no samples no data contradicts the shape: DataSplit's checked product of the sample shape threw OverflowException.
        var file = Write(".safetensors", new RawSafetensors("{\"__metadata__\":{\"format\":\"pt\"},\"x\":{\"dtype\":\"U8\",\"shape\":[0,2147483647,3],\"data_offsets\":[0,0]},\"y\":{\"dtype\":\"I64\",\"shape\":[0],\"data_offsets\":[0,0]}}  ", Convert.FromHexString("")).ToBytes());

        var ex = EngineAssert.Fails("FUL4008", () => DatasetLoader.Load(Manifest("safetensors", new DatasetSplit { Path = file.Path }), "train"));

        Assert.Contains("'x' has shape [0, 2147483647, 3]; one sample of more than 2147483647 values is more than the engine holds", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_damaged_count_in_a_gzipped_idx_file_costs_memory_for_the_data_there_is_not_for_the_count()
    {
        // 1976 images of 16 x 16 fit deflate's 1032:1 from a 795-byte gzip file: all 505856 bytes were allocated before the
        // data ran out.
        var (images, labels) = IdxFiles(IdxDamage.GzippedDamagedImages, [new SetField(4, 4, BigEndian: true, 1976L)]);
        var split = new DatasetSplit { Images = Write(".idx3-ubyte", images).Path, Labels = Write(".idx1-ubyte", labels).Path };

        var (_, error, allocated) = InputContract.Measure(() => DatasetLoader.Load(Manifest("idx", split), "train"));

        Assert.Equal("FUL4003", Assert.IsType<EngineException>(error).Code);
        Assert.Contains("1976 x 16 x 16 (505856 data bytes), but the data ends early", error.Message, StringComparison.Ordinal);
        Assert.True(allocated <= InputContract.AllocationBound(Inflated(images) + labels.Length), $"the load allocated {allocated} bytes");
    }
}
