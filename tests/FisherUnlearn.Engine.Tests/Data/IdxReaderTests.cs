using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Tests.Support;

namespace FisherUnlearn.Engine.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly TestFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Images_and_labels_round_trip_plain_or_gzipped(bool gzip)
    {
        // arrange
        var images = IdxBuilder.Images(3, 4, 5);
        var labels = IdxBuilder.Labels(2, 0, 1);
        var imagesPath = folder.Write("images.idx", gzip ? IdxBuilder.Gzip(images) : images);
        var labelsPath = folder.Write("labels.idx", gzip ? IdxBuilder.Gzip(labels) : labels);
        var before = File.ReadAllBytes(imagesPath);

        // act
        var readImages = IdxReader.ReadImages(imagesPath);
        var readLabels = IdxReader.ReadLabels(labelsPath);

        // assert
        Assert.Equal([3, 4, 5], readImages.Dimensions);
        Assert.Equal(images[16..], readImages.Data);
        Assert.Equal([3], readLabels.Dimensions);
        Assert.Equal(new byte[] { 2, 0, 1 }, readLabels.Data);
        Assert.Equal(before, File.ReadAllBytes(imagesPath));
    }

    [Fact]
    public void A_gzip_file_compressed_far_beyond_images_loads_whole()
    {
        // 300 blank 28 x 28 images: 235200 bytes from a few hundred, so the data outgrow the first buffer more than once.
        var images = IdxBuilder.Images(300, 28, 28, (_, _) => 0);
        var path = folder.Write("blank.idx.gz", IdxBuilder.Gzip(images));

        var read = IdxReader.ReadImages(path);

        Assert.True(new FileInfo(path).Length * 64 < 235200 / 2);
        Assert.Equal([300, 28, 28], read.Dimensions);
        Assert.Equal(images[16..], read.Data);
    }

    [Fact]
    public void Missing_file_is_FUL4001_with_the_path()
    {
        var path = folder.PathOf("nope.idx");
        var ex = EngineAssert.Fails("FUL4001", () => IdxReader.ReadImages(path));
        Assert.Equal(path, ex.Diagnostic.Location.File);
    }

    [Fact]
    public void Labels_file_read_as_images_is_bad_magic_FUL4002()
    {
        var path = folder.Write("labels.idx", IdxBuilder.Labels(1, 2));
        var ex = EngineAssert.Fails("FUL4002", () => IdxReader.ReadImages(path));
        Assert.Contains("is not an IDX image file, whose magic number is 0x00000803 (found an IDX label file, magic 0x00000801)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_numpy_array_read_as_idx_says_what_it_is_from_more_bytes_than_the_magic()
    {
        var path = folder.Write("images.idx", [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0x76, 0]);
        var ex = EngineAssert.Fails("FUL4002", () => IdxReader.ReadImages(path));
        Assert.Contains("(found a NumPy .npy array, magic 0x934E554D)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_zip_read_as_idx_says_what_it_is()
    {
        var path = folder.Write("images.idx", [(byte)'P', (byte)'K', 3, 4, 20, 0, 0, 0, 8, 0]);
        var ex = EngineAssert.Fails("FUL4002", () => IdxReader.ReadImages(path));
        Assert.Contains("(found a ZIP archive (a PyTorch .pt file or a NumPy .npz file is one), magic 0x504B0304)", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Truncated_data_is_FUL4003(bool gzip)
    {
        var images = IdxBuilder.Images(4, 6, 6)[..^10];
        var path = folder.Write("short.idx", gzip ? IdxBuilder.Gzip(images) : images);
        EngineAssert.Fails("FUL4003", () => IdxReader.ReadImages(path));
    }

    [Fact]
    public void A_short_file_says_what_its_header_counts_and_what_the_file_holds()
    {
        var labels = folder.Write("labels.idx", IdxBuilder.Labels(1, 2, 3, 4, 5)[..^2]);
        var images = folder.Write("images.idx", IdxBuilder.Images(4, 6, 6)[..^10]);

        Assert.Contains("the header declares 5 labels (5 data bytes), but the file has 3 after the header",
            EngineAssert.Fails("FUL4003", () => IdxReader.ReadLabels(labels)).Message, StringComparison.Ordinal);
        Assert.Contains("the header declares 4 x 6 x 6 (144 data bytes), but the file has 134 after the header",
            EngineAssert.Fails("FUL4003", () => IdxReader.ReadImages(images)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extra_bytes_are_FUL4003()
    {
        var path = folder.Write("long.idx", [.. IdxBuilder.Labels(1, 2), 7]);
        EngineAssert.Fails("FUL4003", () => IdxReader.ReadLabels(path));
    }

    [Fact]
    public void File_shorter_than_the_magic_is_FUL4003()
    {
        var path = folder.Write("tiny.idx", [0, 0]);
        EngineAssert.Fails("FUL4003", () => IdxReader.ReadImages(path));
    }

    [Theory]
    [InlineData(int.MaxValue, 28, 28)]
    [InlineData(-1, 28, 28)]
    [InlineData(10, 0, 28)]
    [InlineData(10, 100_000, 28)]
    public void Absurd_dimensions_are_refused_before_allocating_FUL4004(int count, int rows, int cols)
    {
        var path = folder.Write("absurd.idx", IdxBuilder.Header(0x00000803, count, rows, cols));
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        EngineAssert.Fails("FUL4004", () => IdxReader.ReadImages(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocated < 10_000_000);
    }

    [Fact]
    public void Gzip_too_small_for_its_header_is_refused_before_allocating_FUL4004()
    {
        // 40,000 x 100 x 100 = 400 MB could not come out of a gzip file of a few dozen bytes.
        var path = folder.Write("bomb.idx.gz", IdxBuilder.Gzip(IdxBuilder.Header(0x00000803, 40_000, 100, 100)));
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        EngineAssert.Fails("FUL4004", () => IdxReader.ReadImages(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocated < 10_000_000);
    }

    [Fact]
    public void A_gzip_file_whose_checksum_fails_is_damaged_data_not_a_permissions_problem()
    {
        var gz = IdxBuilder.Gzip(IdxBuilder.Images(4, 6, 6));
        gz[^6] ^= 0xFF; // The CRC-32 in the gzip trailer.
        var path = folder.Write("crc.gz", gz);

        var ex = Assert.Throws<EngineException>(() => IdxReader.ReadImages(path));

        Assert.Equal("FUL4003", ex.Code);
        Assert.DoesNotContain("permissions", ex.Diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_damaged_gzip_file_that_inflates_to_more_than_its_header_declares_is_said_to_be_damaged()
    {
        // QA: a byte flipped mid-file made the data inflate longer, and the message blamed "bytes that follow the data"
        // where the gzip checksum, at the end of the stream, fails: the file's gzip data is damaged.
        byte[] longer = [.. IdxBuilder.Images(4, 6, 6), 1, 2, 3];
        var damaged = IdxBuilder.Gzip(longer);
        damaged[^6] ^= 0xFF; // the CRC-32 in the gzip trailer no longer matches what inflates
        var damagedPath = folder.Write("damaged.gz", damaged);
        var intactPath = folder.Write("intact.gz", IdxBuilder.Gzip(longer));

        Assert.Contains("its gzip data is damaged", EngineAssert.Fails("FUL4003", () => IdxReader.ReadImages(damagedPath)).Message, StringComparison.Ordinal);
        // Intact, the extra bytes are what is wrong.
        Assert.Contains("bytes follow the 144 data bytes", EngineAssert.Fails("FUL4003", () => IdxReader.ReadImages(intactPath)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_gzip_is_refused()
    {
        var gz = IdxBuilder.Gzip(IdxBuilder.Images(4, 6, 6));
        for (var i = 12; i < gz.Length - 8; i++)
        {
            gz[i] ^= 0x5A;
        }

        var path = folder.Write("corrupt.gz", gz);
        var ex = Assert.Throws<EngineException>(() => IdxReader.ReadImages(path));
        Assert.Contains(ex.Code, new[] { "FUL4010", "FUL4003", "FUL4002", "FUL4004" });
    }

    [Fact]
    public void A_count_of_0xFFFFFFFF_is_shown_unsigned()
    {
        var path = folder.Write("labels.idx", [.. IdxBuilder.Header(IdxReader.LabelsMagic), 0xFF, 0xFF, 0xFF, 0xFF]);

        var ex = EngineAssert.Fails("FUL4004", () => IdxReader.ReadLabels(path));

        Assert.Contains("declares 4294967295 (dimension 1 must be in 0..", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("-1", ex.Message, StringComparison.Ordinal);
    }
}
