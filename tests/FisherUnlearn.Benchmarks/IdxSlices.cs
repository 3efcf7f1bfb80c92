using System.Buffers.Binary;
using System.IO.Compression;

/// <summary>
/// Writes a contiguous range of samples of a gzipped IDX pair (images and labels) as a new gzipped IDX pair, so that a
/// benchmark network can hold two datasets with disjoint samples cut from the one set of digits the repository carries.
/// </summary>
internal static class IdxSlices
{
    public static void Write(string images, string labels, int start, int count, string toImages, string toLabels)
    {
        Slice(images, start, count, toImages);
        Slice(labels, start, count, toLabels);
    }

    private static void Slice(string from, int start, int count, string to)
    {
        byte[] bytes;
        using (var input = new GZipStream(File.OpenRead(from), CompressionMode.Decompress))
        using (var buffer = new MemoryStream())
        {
            input.CopyTo(buffer);
            bytes = buffer.ToArray();
        }

        // Magic: 0, 0, type, number of dimensions; then one big-endian int32 per dimension, the first the sample count.
        var dimensions = bytes[3];
        var header = 4 + (4 * dimensions);
        var total = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
        if (start < 0 || count < 0 || start + count > total)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"{from} holds {total} samples, not {start}..{start + count - 1}");
        }

        var sampleBytes = (bytes.Length - header) / total;
        var result = new byte[header + (count * sampleBytes)];
        bytes.AsSpan(0, header).CopyTo(result);
        BinaryPrimitives.WriteInt32BigEndian(result.AsSpan(4), count);
        bytes.AsSpan(header + (start * sampleBytes), count * sampleBytes).CopyTo(result.AsSpan(header));
        using var output = new GZipStream(File.Create(to), CompressionLevel.Optimal);
        output.Write(result);
    }
}
