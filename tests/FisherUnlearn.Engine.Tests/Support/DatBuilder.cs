namespace FisherUnlearn.Engine.Tests.Support;

/// <summary>Builds TorchSharp <c>.dat</c> state dicts byte by byte (as <c>module.save</c> writes them), so tests can
/// declare any element type and shape.</summary>
internal static class DatBuilder
{
    /// <summary>One entry: its name, TorchSharp element type code (6 = float32), shape and raw data bytes.</summary>
    public sealed record Entry(string Name, long ElementType, long[] Shape, byte[] Data);

    public static Entry Floats(string name, long[] shape, params float[] values) =>
        new(name, 6, shape, [.. values.SelectMany(BitConverter.GetBytes)]);

    public static byte[] StateDict(params Entry[] entries)
    {
        using var output = new MemoryStream();
        using (var writer = new BinaryWriter(output, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            Leb128(writer, entries.Length);
            foreach (var entry in entries)
            {
                writer.Write(entry.Name);
                Leb128(writer, entry.ElementType);
                Leb128(writer, entry.Shape.Length);
                foreach (var d in entry.Shape)
                {
                    Leb128(writer, d);
                }

                writer.Write(entry.Data);
            }
        }

        return output.ToArray();
    }

    private static void Leb128(BinaryWriter writer, long value)
    {
        var bits = (ulong)value;
        do
        {
            var b = (byte)(bits & 0x7f);
            bits >>= 7;
            writer.Write(bits == 0 ? b : (byte)(b | 0x80));
        }
        while (bits != 0);
    }
}
