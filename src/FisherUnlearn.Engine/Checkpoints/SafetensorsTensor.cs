using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using FisherUnlearn.Engine.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Checkpoints;

/// <summary>One tensor of a safetensors file: its element type, shape and little-endian bytes.</summary>
public sealed class SafetensorsTensor
{
    public SafetensorsTensor(SafetensorsDType dtype, IReadOnlyList<long> shape, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        long elements = 1;
        foreach (var d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            elements = checked(elements * d);
        }

        if (checked(elements * dtype.Size()) != data.LongLength)
        {
            throw new ArgumentException($"A {dtype} tensor of shape [{string.Join(", ", shape)}] takes {elements * dtype.Size()} bytes, not {data.LongLength}.", nameof(data));
        }

        DType = dtype;
        Shape = [.. shape];
        Data = data;
    }

    public SafetensorsDType DType { get; }

    public IReadOnlyList<long> Shape { get; }

    /// <summary>The raw little-endian element bytes (owned by this object: do not change them).</summary>
    public byte[] Data { get; }

    public long ElementCount => Data.LongLength / DType.Size();

    public static SafetensorsTensor FromFloats(IReadOnlyList<long> shape, ReadOnlySpan<float> values) =>
        new(SafetensorsDType.F32, shape, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>Copies a TorchSharp tensor (any device, any layout) into safetensors form.</summary>
    public static SafetensorsTensor FromTensor(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var dtype = SafetensorsDTypes.FromScalarType(tensor.dtype);
        using var cpu = TensorCopies.DetachedContiguousCpu(tensor);
        return new SafetensorsTensor(dtype, cpu.shape, cpu.bytes.ToArray());
    }

    /// <summary>A new CPU tensor holding a copy of the data. The caller owns it.</summary>
    public Tensor ToTensor()
    {
        var tensor = torch.empty([.. Shape], DType.ToScalarType());
        if (Data.Length > 0)
        {
            tensor.bytes = Data;
        }

        return tensor;
    }

    /// <summary>The values as float32 (F32 as stored; F64, F16, BF16 and integers converted).</summary>
    public float[] ToFloats()
    {
        var count = checked((int)ElementCount);
        var result = new float[count];
        var bytes = Data.AsSpan();
        if (DType == SafetensorsDType.F32 && BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(bytes).CopyTo(result); // The stored bytes are this machine's floats.
            return result;
        }

        for (var i = 0; i < count; i++)
        {
            result[i] = DType switch
            {
                SafetensorsDType.F32 => BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4, 4)),
                SafetensorsDType.F64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(i * 8, 8)),
                SafetensorsDType.F16 => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.Slice(i * 2, 2)),
                SafetensorsDType.BF16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(i * 2, 2)) << 16),
                SafetensorsDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(bytes.Slice(i * 8, 8)),
                SafetensorsDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(bytes.Slice(i * 4, 4)),
                SafetensorsDType.I16 => BinaryPrimitives.ReadInt16LittleEndian(bytes.Slice(i * 2, 2)),
                SafetensorsDType.I8 => (sbyte)bytes[i],
                _ => bytes[i],
            };
        }

        return result;
    }

    /// <summary>The values as int64; only for integer and bool types.</summary>
    public long[] ToInt64s()
    {
        var count = checked((int)ElementCount);
        var result = new long[count];
        var bytes = Data.AsSpan();
        for (var i = 0; i < count; i++)
        {
            result[i] = DType switch
            {
                SafetensorsDType.I64 => BitConverter.ToInt64(bytes.Slice(i * 8, 8)),
                SafetensorsDType.I32 => BitConverter.ToInt32(bytes.Slice(i * 4, 4)),
                SafetensorsDType.I16 => BitConverter.ToInt16(bytes.Slice(i * 2, 2)),
                SafetensorsDType.I8 => (sbyte)bytes[i],
                SafetensorsDType.U8 or SafetensorsDType.BOOL => bytes[i],
                _ => throw new InvalidOperationException($"A {DType} tensor does not hold integers."),
            };
        }

        return result;
    }

    /// <summary>How many elements are NaN or infinite (0 for non-float types).</summary>
    public long CountNonFinite() => CountNonFinite(DType, Data);

    /// <summary>How many elements of little-endian <paramref name="bytes"/> of <paramref name="dtype"/> are NaN or
    /// infinite, or (F64) become infinite as the float32 the engine computes in (0 for non-float types).</summary>
    public static long CountNonFinite(SafetensorsDType dtype, ReadOnlySpan<byte> bytes)
    {
        long bad = 0;
        switch (dtype)
        {
            case SafetensorsDType.F32:
                bad = CountAllOnes(MemoryMarshal.Cast<byte, uint>(bytes), 0x7F800000u); // The exponent bits of NaN and infinity.
                break;
            case SafetensorsDType.F64:
                foreach (var v in MemoryMarshal.Cast<byte, double>(bytes))
                {
                    bad += float.IsFinite((float)v) ? 0 : 1; // 1e39 is a finite double and an infinite float32
                }

                break;
            case SafetensorsDType.F16:
                foreach (var v in MemoryMarshal.Cast<byte, ushort>(bytes))
                {
                    bad += (v & 0x7C00) == 0x7C00 ? 1 : 0;
                }

                break;
            case SafetensorsDType.BF16:
                foreach (var v in MemoryMarshal.Cast<byte, ushort>(bytes))
                {
                    bad += (v & 0x7F80) == 0x7F80 ? 1 : 0;
                }

                break;
        }

        return bad;
    }

    // How many values have every bit of the mask set (vectorised: this scan runs over every weight of every checkpoint read).
    private static long CountAllOnes(ReadOnlySpan<uint> values, uint mask)
    {
        long count = 0;
        var i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<uint>.Count)
        {
            var masks = new Vector<uint>(mask);
            var counts = Vector<uint>.Zero;
            var lanes = MemoryMarshal.Cast<uint, Vector<uint>>(values);
            foreach (var lane in lanes)
            {
                // Equals gives all ones (uint.MaxValue) in a matching lane; shifting right by 31 leaves 1. No lane can
                // count past uint.MaxValue: a span holds fewer elements than that.
                counts += Vector.ShiftRightLogical(Vector.Equals(lane & masks, masks), 31);
            }

            count = Vector.Sum(counts);
            i = lanes.Length * Vector<uint>.Count;
        }

        for (; i < values.Length; i++)
        {
            count += (values[i] & mask) == mask ? 1 : 0;
        }

        return count;
    }
}
