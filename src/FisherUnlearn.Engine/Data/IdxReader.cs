using System.Buffers.Binary;
using System.IO.Compression;
using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Engine.Data;

/// <summary>
/// Reads IDX files (the MNIST format: big-endian magic <c>00 00 08 ndim</c>, ndim sizes, then unsigned bytes),
/// plain or gzipped (detected by the gzip magic <c>1f 8b</c>, not by the name). Every size is checked before a
/// buffer is allocated.
/// </summary>
public static class IdxReader
{
    public const int ImagesMagic = 0x00000803;
    public const int LabelsMagic = 0x00000801;

    /// <summary>Largest accepted sample count: far above any dataset a CPU tool trains on.</summary>
    public const int MaxSamples = 50_000_000;

    /// <summary>Largest accepted image side.</summary>
    public const int MaxSide = 16_384;

    // Deflate cannot expand more than about 1032:1, so a gzip file of n bytes holds at most this much.
    private const long MaxDeflateRatio = 1032;

    // Bytes of data per byte of a gzip file read into memory before any arrive: far more than images compress to (MNIST
    // 4.8:1), far less than deflate's 1032:1 that a damaged count could claim.
    private const long ExpectedDeflateRatio = 64;

    /// <summary>An IDX payload: the sizes after the magic and the raw bytes.</summary>
    public sealed record IdxContent(int[] Dimensions, byte[] Data);

    /// <summary>Reads an <c>idx3-ubyte</c> image file: N x rows x cols bytes.</summary>
    public static IdxContent ReadImages(string path) => Read(path, ImagesMagic, "an IDX image file, whose magic number is 0x00000803");

    /// <summary>Reads an <c>idx1-ubyte</c> label file: N bytes.</summary>
    public static IdxContent ReadLabels(string path) => Read(path, LabelsMagic, "an IDX label file, whose magic number is 0x00000801");

    private static IdxContent Read(string path, int expectedMagic, string what)
    {
        EngineException.ThrowIfDataMissing(path);

        EngineException.ThrowIfNotRegular(path);

        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            var fileLength = file.Length;
            var gzipped = IsGzip(file);
            using var stream = gzipped ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : (Stream)file;

            Span<byte> word = stackalloc byte[4];
            if (!TryReadExactly(stream, word))
            {
                throw EngineException.Create(DiagnosticCatalogue.DataTruncated, path, path, "it ends before the 4-byte IDX magic");
            }

            var magic = BinaryPrimitives.ReadInt32BigEndian(word);
            if (magic != expectedMagic)
            {
                // What it is when that is plain (a ZIP, a NumPy array, a Git LFS pointer...), beside the number: from the
                // file's own first bytes (the magic alone is too short for most signatures), or the decompressed ones.
                var kind = magic == LabelsMagic ? "an IDX label file" : magic == ImagesMagic ? "an IDX image file"
                    : FileSignature.IsIdx(word) ? null : FileSignature.Recognise(gzipped ? word : FileSignature.Head(path));
                throw EngineException.Create(DiagnosticCatalogue.DataBadMagic, path, path, what, kind is null ? $"magic 0x{magic:X8}" : $"{kind}, magic 0x{magic:X8}");
            }

            // The sizes are unsigned 32-bit big-endian numbers; they are shown as such (0xFFFFFFFF is 4294967295, not -1).
            var declared = new long[expectedMagic & 0xFF];
            for (var d = 0; d < declared.Length; d++)
            {
                if (!TryReadExactly(stream, word))
                {
                    throw EngineException.Create(DiagnosticCatalogue.DataTruncated, path, path, $"it ends inside the header (dimension {d + 1} of {declared.Length})");
                }

                declared[d] = BinaryPrimitives.ReadUInt32BigEndian(word);
            }

            var payload = CheckDimensions(path, declared);
            var dimensions = Array.ConvertAll(declared, d => (int)d);
            var headerLength = 4L + (4L * dimensions.Length);
            if (!gzipped && fileLength != headerLength + payload)
            {
                throw EngineException.Create(DiagnosticCatalogue.DataTruncated, path, path,
                    $"the header declares {Shape(declared)} ({payload} data bytes), but the file has {fileLength - headerLength} after the header");
            }

            if (gzipped && payload + headerLength > fileLength * MaxDeflateRatio)
            {
                throw EngineException.Create(DiagnosticCatalogue.DataBadHeader, path, path,
                    $"{Describe(declared)} ({payload} bytes), more than a {fileLength}-byte gzip file can hold");
            }

            var data = gzipped ? TryInflate(stream, payload, fileLength) : TryRead(stream, payload);
            if (data is null)
            {
                throw EngineException.Create(DiagnosticCatalogue.DataTruncated, path, path,
                    $"the header declares {Shape(declared)} ({payload} data bytes), but the data ends early");
            }

            if (gzipped && stream.ReadByte() >= 0)
            {
                // A damaged stream can inflate to more than it held (QA: one byte flipped mid-file); its CRC-32 and size,
                // at the end of the stream, tell. Read through to them: a mismatch is InvalidDataException below, "its
                // gzip data is damaged". Only an intact stream has extra bytes (read in a small buffer: time, no memory;
                // at most DrainLimit of them, so that a wrong file that inflates far is not a long wait).
                Drain(stream, DrainLimit);
                throw EngineException.Create(DiagnosticCatalogue.DataTruncated, path, path,
                    $"bytes follow the {payload} data bytes that the header declares ({Describe(declared)})");
            }

            return new IdxContent(dimensions, data);
        }
        catch (InvalidDataException ex)
        {
            // .NET reports a damaged deflate stream or checksum in words about zip archives ("unsupported compression
            // method"): the file's bytes are damaged, not its permissions.
            throw EngineException.At(DiagnosticCatalogue.DataTruncated, new SourceLocation(path), ex, path, "its gzip data is damaged (a bad block or checksum)");
        }
        catch (IOException ex)
        {
            throw EngineException.At(DiagnosticCatalogue.DataUnreadable, new SourceLocation(path), ex, path, ex.Message);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw EngineException.At(DiagnosticCatalogue.DataUnreadable, new SourceLocation(path), ex, path, ex.Message);
        }
    }

    // How many bytes past its declared data a gzipped file is read to reach its checksum.
    private const long DrainLimit = 64L << 20;

    private static void Drain(Stream stream, long limit)
    {
        var buffer = new byte[1 << 16];
        for (long read = 0; read < limit;)
        {
            var count = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, limit - read));
            if (count == 0)
            {
                return;
            }

            read += count;
        }
    }

    private static long CheckDimensions(string path, long[] dimensions)
    {
        long payload = 1;
        for (var d = 0; d < dimensions.Length; d++)
        {
            var limit = d == 0 ? MaxSamples : MaxSide;
            if (dimensions[d] > limit || (d > 0 && dimensions[d] == 0))
            {
                throw EngineException.Create(DiagnosticCatalogue.DataBadHeader, path, path,
                    $"{Describe(dimensions)} (dimension {d + 1} must be in {(d == 0 ? 0 : 1)}..{limit})");
            }

            payload *= dimensions[d];
            if (payload > Array.MaxLength)
            {
                throw EngineException.Create(DiagnosticCatalogue.DataBadHeader, path, path,
                    $"{Describe(dimensions)}, more than {Array.MaxLength} bytes of data");
            }
        }

        return payload;
    }

    private static string Describe(IEnumerable<long> dimensions) => string.Join(" x ", dimensions);

    // "800 labels" for a labels file, "800 x 28 x 28" for images: what the header's sizes count.
    private static string Shape(long[] dimensions) => dimensions.Length == 1 ? $"{dimensions[0]} labels" : Describe(dimensions);

    private static bool IsGzip(FileStream file)
    {
        Span<byte> head = stackalloc byte[2];
        var read = file.Read(head);
        file.Position = 0;
        return read == 2 && head[0] == 0x1f && head[1] == 0x8b;
    }

    private static byte[]? TryRead(Stream stream, long length)
    {
        var data = new byte[length];
        return TryReadExactly(stream, data) ? data : null;
    }

    // The data of a gzip file, in an array of what the file would hold at ExpectedDeflateRatio that then doubles only
    // when full: a damaged count costs memory in proportion to the file and the data it holds, not to what it declares.
    // Null when the data end early.
    private static byte[]? TryInflate(Stream stream, long length, long fileLength)
    {
        var data = new byte[Math.Min(length, Math.Max(fileLength * ExpectedDeflateRatio, 1 << 16))];
        var filled = 0;
        while (TryReadExactly(stream, data.AsSpan(filled)))
        {
            if (data.Length == length)
            {
                return data;
            }

            filled = data.Length;
            Array.Resize(ref data, (int)Math.Min(length, 2L * data.Length));
        }

        return null;
    }

    private static bool TryReadExactly(Stream stream, Span<byte> buffer)
    {
        try
        {
            stream.ReadExactly(buffer);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
    }
}
