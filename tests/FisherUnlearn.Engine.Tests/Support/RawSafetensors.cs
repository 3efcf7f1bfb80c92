using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using CsCheck;

namespace FisherUnlearn.Engine.Tests.Support;

/// <summary>A safetensors file of any header text and data bytes; the length field is the header's own. Prints as the C#
/// that rebuilds it.</summary>
internal sealed record RawSafetensors(string Header, byte[] Data)
{
    public byte[] ToBytes()
    {
        var json = Encoding.UTF8.GetBytes(Header);
        var bytes = new byte[8 + json.Length + Data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        Data.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }

    public override string ToString() =>
        $"new RawSafetensors(\"{Header.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\", Convert.FromHexString(\"{Convert.ToHexString(Data)}\"))";

    /// <summary>A tensor a file of <see cref="Headers"/> should hold: its name, the dtypes and rank it may have.</summary>
    public sealed record Expected(string Name, string[] DTypes, int Rank);

    /// <summary>
    /// Well-formed JSON headers of every kind a careless writer or damage could produce, most with one defect: the
    /// <paramref name="tensors"/> in order (or others, empty, odd or reserved names, or one twice) with their dtypes or
    /// others, known or not, shapes of their rank or another, of small, zero, huge, negative and non-integer dimensions
    /// (the first often shared, as a dataset's sample count is), data offsets that fit the shapes or not, unknown fields,
    /// metadata of strings or not, and data as long as the offsets need, give or take a few bytes.
    /// </summary>
    public static Gen<RawSafetensors> Headers(params Expected[] tensors)
    {
        var dimension = Gen.Frequency(
            (12, Gen.Int[0, 4].Select(d => d.ToString(CultureInfo.InvariantCulture))),
            (1, Gen.OneOf("65536", "2147483647", "2147483648", "4294967296", "9223372036854775807", "18446744073709551616", "-1", "1.5", "1e2", "\"2\"", "null")));
        var manyOnes = Gen.Int[5, 70].Select(rank => Enumerable.Repeat("1", rank).ToArray());
        var anyDType = Gen.Frequency(
            (12, Gen.OneOf("F32", "U8", "I64", "I32", "F64", "F16", "BF16", "BOOL", "I8", "I16")),
            (1, Gen.OneOf("f32", "F8_E4M3", "U16", "", "F32 ")));
        var extraField = Gen.Frequency((15, Gen.Const(string.Empty)), (1, Gen.OneOf(",\"extra\":1", ",\"dtype\":\"F32\"", ",\"shape\":null")));
        var offsets = Gen.Frequency((10, Gen.Const((string?)null)), (1, OffsetPairs));
        var leading = Gen.Frequency((3, Gen.Const(true)), (1, Gen.Const(false)));
        Gen<EntryText> Entry(string name, Gen<string> dtype, Gen<string[]> shape) =>
            Gen.Select(dtype, shape, leading, offsets, extraField, (type, dims, lead, pair, extra) => new EntryText(name, type, dims, lead, pair, extra));
        var expected = tensors.Aggregate(Gen.Const(Array.Empty<EntryText>()), (entries, t) => Gen.Select(entries,
            Entry(t.Name, Gen.Frequency((6, Gen.OneOf(t.DTypes)), (1, anyDType)), Gen.Frequency((6, dimension.Array[t.Rank]), (2, dimension.Array[0, 4]), (1, manyOnes))),
            (before, entry) => (EntryText[])[.. before, entry]));
        var others = Gen.OneOf([.. tensors.Select(t => t.Name), "__metadata__", string.Empty, "z", "\\n", "x\\u0000y"])
            .SelectMany(name => Entry(name, anyDType, dimension.Array[0, 4])).Array[0, 4];
        var named = Gen.Frequency((6, expected), (1, others));
        var metadata = Gen.Frequency((6, Gen.Const(string.Empty)), (2, Gen.OneOf("\"__metadata__\":{\"format\":\"pt\"}", "\"__metadata__\":{}")),
            (1, Gen.OneOf("\"__metadata__\":{\"n\":1}", "\"__metadata__\":[]")));
        var wellFormed = Gen.Select(named, dimension, metadata, Gen.Frequency((6, Gen.Const(0)), (1, Gen.OneOf(-1, 1, -8, 8))),
            Gen.OneOf(Fill.Zeros, Fill.Small, Fill.Random), Gen.Int, Gen.Bool, Build);
        var notAnObject = Gen.Select(Gen.OneOf("[]", "1", "\"s\"", "null", "{}", "{\"x\":1}", "{\"x\":[]}", "{\"x\":{\"dtype\":1}}"), Gen.Byte.Array[0, 8],
            (header, data) => new RawSafetensors(header, data));
        return Gen.Frequency((12, wellFormed), (1, notAnObject));
    }

    private static readonly Gen<string> OffsetPairs = Gen.Select(Corruption.FieldValues, Corruption.FieldValues, Gen.Frequency((8, Gen.Const(string.Empty)), (1, Gen.Const(",0"))),
        (begin, end, more) => $"[{begin},{end}{more}]");

    private enum Fill
    {
        Zeros,
        Small,
        Random,
    }

    // A tensor's entry; Leading: its first dimension is the one all such entries share.
    private sealed record EntryText(string Name, string DType, string[] Shape, bool Leading, string? Offsets, string Extra);

    private static RawSafetensors Build(EntryText[] entries, string leading, string metadata, int lengthDelta, Fill fill, int seed, bool pad)
    {
        var parts = new List<string>();
        if (metadata.Length > 0)
        {
            parts.Add(metadata);
        }

        long position = 0;
        foreach (var entry in entries)
        {
            string[] shape = entry.Leading && entry.Shape.Length > 0 ? [leading, .. entry.Shape[1..]] : entry.Shape;
            // Offsets that fit the shape, when the shape and dtype say how many bytes (capped: a few KB of data at most).
            var size = entry.DType switch
            {
                "F64" or "I64" => 8,
                "F32" or "I32" => 4,
                "F16" or "BF16" or "I16" => 2,
                _ => 1,
            };
            var dimensions = shape.Select(d => long.TryParse(d, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : (long?)null).ToArray();
            var length = dimensions.All(d => d is not null) ? Corruption.TensorBytes(size, dimensions.Select(d => d!.Value)) : 4;
            var offsets = entry.Offsets ?? $"[{position},{position + length}]";
            position += length;
            parts.Add($"\"{entry.Name}\":{{\"dtype\":\"{entry.DType}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":{offsets}{entry.Extra}}}");
        }

        var header = $"{{{string.Join(",", parts)}}}";
        if (pad)
        {
            header = header.PadRight(header.Length + ((8 - ((8 + Encoding.UTF8.GetByteCount(header)) % 8)) % 8));
        }

        var data = new byte[Math.Clamp(position + lengthDelta, 0, 4096)];
        var random = new Random(seed);
        switch (fill)
        {
            case Fill.Small:
                for (var i = 0; i < data.Length; i++)
                {
                    data[i] = (byte)random.Next(3);
                }

                break;
            case Fill.Random:
                random.NextBytes(data);
                break;
        }

        return new RawSafetensors(header, data);
    }
}
