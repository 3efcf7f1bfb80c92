using System.Buffers.Binary;
using CsCheck;

namespace FisherUnlearn.Engine.Tests.Support;

/// <summary>
/// One change to a file's bytes, as damage or a careless edit makes it. A position past the end means the end, so a
/// change generated for the original length still applies after an earlier one shortened the file. Each prints as the
/// C# that rebuilds it, so a case CsCheck shrinks to pastes straight into a regression test.
/// </summary>
internal abstract record Mutation
{
    public abstract byte[] Apply(byte[] bytes);

    public static byte[] ApplyAll(byte[] bytes, IEnumerable<Mutation> mutations) => mutations.Aggregate(bytes, (b, m) => m.Apply(b));

    protected static string Bytes(byte[] bytes) => $"[{string.Join(", ", bytes.Select(b => $"0x{b:X2}"))}]";
}

/// <summary>Keeps the first <paramref name="Length"/> bytes.</summary>
internal sealed record Truncate(int Length) : Mutation
{
    public override byte[] Apply(byte[] bytes) => bytes[..Math.Min(Length, bytes.Length)];

    public override string ToString() => $"new Truncate({Length})";
}

/// <summary>Flips the bits of <paramref name="Mask"/> in the byte at <paramref name="At"/>.</summary>
internal sealed record FlipBits(int At, byte Mask) : Mutation
{
    public override byte[] Apply(byte[] bytes)
    {
        var copy = (byte[])bytes.Clone();
        if (At < copy.Length)
        {
            copy[At] ^= Mask;
        }

        return copy;
    }

    public override string ToString() => $"new FlipBits({At}, 0x{Mask:X2})";
}

/// <summary>Overwrites the bytes from <paramref name="At"/> (as many as the file still has).</summary>
internal sealed record Overwrite(int At, byte[] With) : Mutation
{
    public override byte[] Apply(byte[] bytes)
    {
        var copy = (byte[])bytes.Clone();
        var at = Math.Min(At, copy.Length);
        With.AsSpan(0, Math.Min(With.Length, copy.Length - at)).CopyTo(copy.AsSpan(at));
        return copy;
    }

    public override string ToString() => $"new Overwrite({At}, {Bytes(With)})";
}

/// <summary>Inserts bytes before position <paramref name="At"/>.</summary>
internal sealed record Insert(int At, byte[] Added) : Mutation
{
    public override byte[] Apply(byte[] bytes)
    {
        var at = Math.Min(At, bytes.Length);
        return [.. bytes.AsSpan(0, at), .. Added, .. bytes.AsSpan(at)];
    }

    public override string ToString() => $"new Insert({At}, {Bytes(Added)})";
}

/// <summary>Deletes up to <paramref name="Count"/> bytes from <paramref name="At"/>.</summary>
internal sealed record Delete(int At, int Count) : Mutation
{
    public override byte[] Apply(byte[] bytes)
    {
        var at = Math.Min(At, bytes.Length);
        var end = Math.Min(at + Count, bytes.Length);
        return [.. bytes.AsSpan(0, at), .. bytes.AsSpan(end)];
    }

    public override string ToString() => $"new Delete({At}, {Count})";
}

/// <summary>Writes <paramref name="Value"/> (its low <paramref name="Width"/> bytes) over a header's size or length field.</summary>
internal sealed record SetField(int At, int Width, bool BigEndian, long Value) : Mutation
{
    public override byte[] Apply(byte[] bytes)
    {
        var copy = (byte[])bytes.Clone();
        if (At + Width <= copy.Length)
        {
            Span<byte> value = stackalloc byte[8];
            if (BigEndian)
            {
                BinaryPrimitives.WriteInt64BigEndian(value, Value);
                value[(8 - Width)..].CopyTo(copy.AsSpan(At));
            }
            else
            {
                BinaryPrimitives.WriteInt64LittleEndian(value, Value);
                value[..Width].CopyTo(copy.AsSpan(At));
            }
        }

        return copy;
    }

    public override string ToString() => $"new SetField({At}, {Width}, BigEndian: {(BigEndian ? "true" : "false")}, {Value}L)";
}

/// <summary>Where a format keeps a size, length, count or offset: the byte it starts at and how many bytes it has.</summary>
internal readonly record struct Field(int At, int Width, bool BigEndian = false);

/// <summary>Generators of damage to a valid file.</summary>
internal static class Corruption
{
    /// <summary>What a damaged size field tends to hold: the edges of the integer types and of the readers' own limits
    /// (100 000 000-byte safetensors header, 50 000 000 IDX samples, 16 384 image side), small numbers, and numbers of
    /// every magnitude up to 2^40 (log-uniform: as likely a few thousand as a few million).</summary>
    public static readonly Gen<long> FieldValues = Gen.Frequency(
        (3, Gen.OneOf(0L, 1L, -1L, 2L, 3L, 7L, 8L, 127L, 128L, 255L, 256L, 0x7FFFL, 0xFFFFL, 0x10000L, 16_384L, 16_385L, 50_000_000L, 50_000_001L,
            100_000_000L, 100_000_001L, int.MaxValue, int.MinValue, 1L + int.MaxValue, uint.MaxValue, 1L << 32, 1L << 40, 1L << 53, long.MaxValue, long.MinValue)),
        (2, Gen.Long[-16, 4096]),
        (2, Gen.Int[0, 39].SelectMany(bits => Gen.Long[1L << bits, (2L << bits) - 1])),
        (1, Gen.Long));

    /// <summary>One change to a file of <paramref name="length"/> bytes whose header keeps sizes at <paramref name="fields"/>:
    /// a truncation at any length, flipped bits, overwritten, inserted or deleted bytes, or a size field set to a value
    /// from <see cref="FieldValues"/>.</summary>
    public static Gen<Mutation> Any(int length, IReadOnlyList<Field> fields)
    {
        var at = Gen.Int[0, Math.Max(length - 1, 0)];
        var some = Gen.Byte.Array[1, 8];
        var choices = new List<(int, IGen<Mutation>)>
        {
            (2, at.Select(n => (Mutation)new Truncate(n))),
            (3, Gen.Select(at, Gen.Byte[1, 255], (n, mask) => (Mutation)new FlipBits(n, mask))),
            (2, Gen.Select(at, some, (n, bytes) => (Mutation)new Overwrite(n, bytes))),
            (2, Gen.Select(at, Gen.Byte.Array[1, 16], (n, bytes) => (Mutation)new Insert(n, bytes))),
            (2, Gen.Select(at, Gen.Int[1, 16], (n, count) => (Mutation)new Delete(n, count))),
        };
        if (fields.Count > 0)
        {
            choices.Add((4, Gen.Select(Gen.OneOf([.. fields]), FieldValues, (f, value) => (Mutation)new SetField(f.At, f.Width, f.BigEndian, value))));
        }

        return Gen.Frequency([.. choices]);
    }

    /// <summary>The bytes a tensor of these dimensions takes, or <paramref name="cap"/> + 1 when it takes more (a negative
    /// dimension counts as huge); never overflows.</summary>
    public static long TensorBytes(long elementSize, IEnumerable<long> dimensions, long cap = 4096) => dimensions.Contains(0)
        ? 0
        : dimensions.Aggregate(elementSize, (product, d) => Math.Min(product * (d < 0 ? cap + 1 : Math.Min(d, cap + 1)), cap + 1));

    /// <summary>One to three changes, applied in order.</summary>
    public static Gen<Mutation[]> Some(int length, IReadOnlyList<Field> fields) => Any(length, fields).Array[1, 3];

    /// <summary>The fields of a zip file's headers that hold sizes, offsets and counts (local and central headers, end
    /// record), found by their signatures.</summary>
    public static IReadOnlyList<Field> ZipFields(byte[] zip)
    {
        var fields = new List<Field>();
        for (var i = 0; i + 4 <= zip.Length; i++)
        {
            var signature = BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(i));
            int[] offsets = signature switch
            {
                0x04034b50 => [8, 18, 22, 26, 28], // local: method, compressed and uncompressed size, name and extra lengths (2 or 4 bytes)
                0x02014b50 => [10, 20, 24, 28, 30, 42], // central: method, sizes, name and extra lengths, local header offset
                0x06054b50 => [8, 10, 12, 16, 20], // end: entries on disk and in all, directory size and offset, comment length
                _ => [],
            };
            foreach (var offset in offsets)
            {
                var width = (signature, offset) switch
                {
                    (0x04034b50, 8 or 26 or 28) or (0x02014b50, 10 or 28 or 30) or (0x06054b50, 8 or 10 or 20) => 2,
                    _ => 4,
                };
                fields.Add(new Field(i + offset, width));
            }
        }

        return fields;
    }
}
