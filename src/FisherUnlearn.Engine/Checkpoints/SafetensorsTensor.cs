using System.Runtime.InteropServices;
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
        using var cpu = tensor.detach().cpu().contiguous();
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
        for (var i = 0; i < count; i++)
        {
            result[i] = DType switch
            {
                SafetensorsDType.F32 => BitConverter.ToSingle(bytes.Slice(i * 4, 4)),
                SafetensorsDType.F64 => (float)BitConverter.ToDouble(bytes.Slice(i * 8, 8)),
                SafetensorsDType.F16 => (float)BitConverter.ToHalf(bytes.Slice(i * 2, 2)),
                SafetensorsDType.BF16 => BitConverter.Int32BitsToSingle(BitConverter.ToUInt16(bytes.Slice(i * 2, 2)) << 16),
                SafetensorsDType.I64 => BitConverter.ToInt64(bytes.Slice(i * 8, 8)),
                SafetensorsDType.I32 => BitConverter.ToInt32(bytes.Slice(i * 4, 4)),
                SafetensorsDType.I16 => BitConverter.ToInt16(bytes.Slice(i * 2, 2)),
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
    public long CountNonFinite()
    {
        long bad = 0;
        var bytes = Data.AsSpan();
        switch (DType)
        {
            case SafetensorsDType.F32:
                foreach (var v in MemoryMarshal.Cast<byte, float>(bytes))
                {
                    bad += float.IsFinite(v) ? 0 : 1;
                }

                break;
            case SafetensorsDType.F64:
                foreach (var v in MemoryMarshal.Cast<byte, double>(bytes))
                {
                    bad += double.IsFinite(v) ? 0 : 1;
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
}
