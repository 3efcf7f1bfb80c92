using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace FisherUnlearn.Engine.Tests.Support;

/// <summary>
/// Builds PyTorch <c>.pt</c> files byte by byte: a zip file holding <c>archive/data.pkl</c> (a protocol-2 pickle,
/// written opcode by opcode as <c>torch.save(model.state_dict())</c> writes it) and one <c>archive/data/&lt;key&gt;</c>
/// entry per storage. Tests can then give any view (offset, shape, stride) of any storage.
/// </summary>
internal static class PtBuilder
{
    /// <summary>One tensor: its name, the storage it views, and the view.</summary>
    public sealed record TensorView(string Name, string Storage, long Offset, long[] Shape, long[] Stride);

    /// <summary>A storage of float32 values, declared with its own element count.</summary>
    public sealed record FloatStorage(string Key, float[] Values);

    public static TensorView Contiguous(string name, string storage, long offset, params long[] shape)
    {
        var stride = new long[shape.Length];
        long step = 1;
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            stride[d] = step;
            step *= shape[d];
        }

        return new TensorView(name, storage, offset, shape, stride);
    }

    /// <summary>A state_dict of float tensors as torch.save writes it, with the <c>_metadata</c> attribute.</summary>
    public static byte[] StateDict(IReadOnlyList<FloatStorage> storages, params TensorView[] tensors) =>
        Zip(StateDictPickle(storages, tensors), storages.ToDictionary(s => s.Key, s => s.Values.SelectMany(BitConverter.GetBytes).ToArray()));

    public static byte[] StateDictPickle(IReadOnlyList<FloatStorage> storages, params TensorView[] tensors)
    {
        var p = new Pickle();
        p.Proto().Global("collections", "OrderedDict").Put(0).EmptyTuple().Reduce().Mark();
        foreach (var tensor in tensors)
        {
            var declared = storages.FirstOrDefault(s => s.Key == tensor.Storage)?.Values.Length ?? 0;
            p.Str(tensor.Name).Global("torch._utils", "_rebuild_tensor_v2").Mark()
                .Mark().Str("storage").Global("torch", "FloatStorage").Str(tensor.Storage).Str("cpu").Int(declared).Tuple().PersistentId()
                .Int(tensor.Offset).Ints(tensor.Shape).Ints(tensor.Stride).False()
                .Get(0).EmptyTuple().Reduce() // backward_hooks: OrderedDict()
                .Tuple().Reduce();
        }

        p.SetItems()
            .EmptyDict().Str("_metadata").Get(0).EmptyTuple().Reduce().Mark().Str(string.Empty).EmptyDict().Str("version").Int(1).SetItem().SetItems().SetItem()
            .Build().Stop();
        return p.ToArray();
    }

    /// <summary>A zip file as torch.save writes it (stored, not compressed), with the given pickle and storages.</summary>
    public static byte[] Zip(byte[]? pickle, IReadOnlyDictionary<string, byte[]> storages, string folder = "archive")
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Add(string name, byte[] bytes)
            {
                using var stream = zip.CreateEntry($"{folder}/{name}", CompressionLevel.NoCompression).Open();
                stream.Write(bytes);
            }

            if (pickle is not null)
            {
                Add("data.pkl", pickle);
            }

            Add("byteorder", "little"u8.ToArray());
            foreach (var (key, bytes) in storages)
            {
                Add($"data/{key}", bytes);
            }

            Add("version", "3\n"u8.ToArray());
        }

        return output.ToArray();
    }

    /// <summary>Pickle opcodes, written one by one.</summary>
    public sealed class Pickle
    {
        private readonly List<byte> bytes = [];

        public Pickle Op(params byte[] codes)
        {
            bytes.AddRange(codes);
            return this;
        }

        public Pickle Proto() => Op(0x80, 2);

        public Pickle Global(string module, string name) => Op((byte)'c').Op(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

        public Pickle Str(string text)
        {
            var utf8 = Encoding.UTF8.GetBytes(text);
            var length = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(length, utf8.Length);
            return Op((byte)'X').Op(length).Op(utf8);
        }

        public Pickle Int(long value)
        {
            if (value is >= 0 and < 256)
            {
                return Op((byte)'K', (byte)value);
            }

            if (value is >= int.MinValue and <= int.MaxValue)
            {
                var four = new byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(four, (int)value);
                return Op((byte)'J').Op(four);
            }

            var eight = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(eight, value);
            return Op(0x8a, 8).Op(eight); // LONG1
        }

        public Pickle Ints(long[] values)
        {
            Mark();
            foreach (var value in values)
            {
                Int(value);
            }

            return Tuple();
        }

        public Pickle Mark() => Op((byte)'(');

        public Pickle Tuple() => Op((byte)'t');

        public Pickle EmptyTuple() => Op((byte)')');

        public Pickle EmptyDict() => Op((byte)'}');

        public Pickle Reduce() => Op((byte)'R');

        public Pickle Build() => Op((byte)'b');

        public Pickle SetItem() => Op((byte)'s');

        public Pickle SetItems() => Op((byte)'u');

        public Pickle False() => Op(0x89);

        public Pickle PersistentId() => Op((byte)'Q');

        public Pickle Put(byte slot) => Op((byte)'q', slot);

        public Pickle Get(byte slot) => Op((byte)'h', slot);

        public Pickle Stop() => Op((byte)'.');

        public byte[] ToArray() => [.. bytes];
    }
}
