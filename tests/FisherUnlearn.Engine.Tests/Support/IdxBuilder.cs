using System.Buffers.Binary;
using System.IO.Compression;

namespace FisherUnlearn.Engine.Tests.Support;

/// <summary>Builds small IDX files (plain or gzipped) for tests.</summary>
internal static class IdxBuilder
{
    public static byte[] Images(int count, int rows, int cols, Func<int, int, byte>? pixel = null, int magic = 0x00000803)
    {
        var bytes = new byte[16 + (count * rows * cols)];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), cols);
        for (var i = 0; i < count * rows * cols; i++)
        {
            bytes[16 + i] = pixel?.Invoke(i / (rows * cols), i % (rows * cols)) ?? (byte)(i % 256);
        }

        return bytes;
    }

    public static byte[] Header(int magic, params int[] dims)
    {
        var bytes = new byte[4 + (4 * dims.Length)];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (var d = 0; d < dims.Length; d++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + (4 * d)), dims[d]);
        }

        return bytes;
    }

    public static byte[] Labels(params byte[] labels)
    {
        var bytes = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 0x00000801);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), labels.Length);
        labels.CopyTo(bytes, 8);
        return bytes;
    }

    public static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }
}
