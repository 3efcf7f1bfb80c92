using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Checkpoints;

/// <summary>
/// Reads a <c>torch.save(model.state_dict())</c> zip file as <c>torch.load</c> does, with its own strict unpickler:
/// the pickle may hold only dicts, tensors and plain values, never other classes or calls (so a whole pickled model
/// or a pickle that would run code is refused, and nothing in it is executed). Each storage is read once from its zip
/// entry; each tensor is the view (offset, shape, stride) the pickle gives, checked against its storage before it is
/// taken, then copied into a contiguous tensor of its own. Every problem is an <see cref="InvalidDataException"/>
/// whose message is one line saying what is wrong.
/// </summary>
internal static class PyTorchCheckpointReader
{
    // A state_dict's pickle holds names and sizes only; the weights are in the storages.
    private const long MaxPickleLength = 100_000_000;

    // Deflate cannot expand more than about 1032:1.
    private const long MaxDeflateRatio = 1032;

    private static readonly Dictionary<string, SafetensorsDType> StorageTypes = new(StringComparer.Ordinal)
    {
        ["DoubleStorage"] = SafetensorsDType.F64,
        ["FloatStorage"] = SafetensorsDType.F32,
        ["HalfStorage"] = SafetensorsDType.F16,
        ["BFloat16Storage"] = SafetensorsDType.BF16,
        ["LongStorage"] = SafetensorsDType.I64,
        ["IntStorage"] = SafetensorsDType.I32,
        ["ShortStorage"] = SafetensorsDType.I16,
        ["CharStorage"] = SafetensorsDType.I8,
        ["ByteStorage"] = SafetensorsDType.U8,
        ["BoolStorage"] = SafetensorsDType.BOOL,
    };

    public static Dictionary<string, Tensor> Read(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        CheckSignature(file);
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"it starts like a zip file but is not a readable one ({EngineException.FirstLine(ex.Message)})", ex);
        }

        using (archive)
        {
            // Two entries of one name are read as the first by this reader and as the last by Python's zipfile: which
            // weights the file holds would depend on who reads it.
            if (archive.Entries.GroupBy(e => e.FullName, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            {
                throw new InvalidDataException($"the zip file has {twice.Count()} entries named '{twice.Key}'; torch.save writes each once");
            }

            var pickles = archive.Entries.Where(e => e.Name == "data.pkl" && e.FullName.Count(c => c == '/') == 1).ToArray();
            if (pickles.Length != 1)
            {
                throw new InvalidDataException(pickles.Length == 0
                    ? "the zip file has no '<folder>/data.pkl' entry, so it is not a torch.save checkpoint"
                    : $"the zip file has {pickles.Length} '<folder>/data.pkl' entries ({string.Join(", ", pickles.Select(p => $"'{p.FullName}'"))}); torch.save writes one");
            }

            var prefix = pickles[0].FullName[..^"data.pkl".Length];
            if (archive.GetEntry(prefix + "byteorder") is { } byteOrder && Encoding.ASCII.GetString(ReadEntry(byteOrder, file.Length, 16, "byteorder")).Trim() == "big")
            {
                throw new InvalidDataException("it was saved on a big-endian machine; load and save it again on a little-endian one");
            }

            var root = new Unpickler(ReadEntry(pickles[0], file.Length, MaxPickleLength, pickles[0].FullName)).Load();
            return Build(root, archive, prefix, file.Length);
        }
    }

    private static void CheckSignature(FileStream file)
    {
        Span<byte> head = stackalloc byte[4];
        var read = file.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        file.Position = 0;
        if (read == 4 && head.SequenceEqual("PK\u0003\u0004"u8))
        {
            return;
        }

        if (read >= 3 && head[0] == 0x80 && head[1] == 0x02 && head[2] == 0x8a)
        {
            throw new InvalidDataException("it is in torch.save's legacy format (PyTorch before 1.6), which is not supported; "
                + "load it in a current PyTorch and save it again with torch.save(model.state_dict(), path)");
        }

        throw new InvalidDataException((file.Length == 0 ? "the file is empty" : "it does not start with the zip signature 'PK'")
            + ", so it is not a PyTorch zip checkpoint (torch.save(model.state_dict(), path) writes one)");
    }

    // The bytes of one zip entry, after checking that its declared length is plausible for the file.
    private static byte[] ReadEntry(ZipArchiveEntry entry, long fileLength, long limit, string what)
    {
        var length = entry.Length;
        if (length > limit || length > Array.MaxLength)
        {
            throw new InvalidDataException($"'{entry.FullName}' ({what}) holds {length} bytes, more than {Math.Min(limit, Array.MaxLength)}");
        }

        if (entry.CompressedLength > fileLength || length > Math.Max(entry.CompressedLength, 1) * MaxDeflateRatio)
        {
            throw new InvalidDataException($"the zip entry '{entry.FullName}' claims {length} bytes, more than the {fileLength}-byte file can hold");
        }

        var bytes = new byte[length];
        try
        {
            using var stream = entry.Open();
            stream.ReadExactly(bytes);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"the zip entry '{entry.FullName}' ends before its {length} bytes", ex);
        }

        return bytes;
    }

    private static Dictionary<string, Tensor> Build(object? root, ZipArchive archive, string prefix, long fileLength)
    {
        if (root is not PickleDict dict)
        {
            throw new InvalidDataException($"its pickle holds {Describe(root)}, not a state_dict (a dict of tensors)");
        }

        var storages = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        long repeated = 0; // Bytes of the views so far that repeat their storage's values.
        try
        {
            foreach (var (key, value) in dict.Items)
            {
                if (key is not string name || value is not TensorRecord record)
                {
                    throw new InvalidDataException($"the entry '{key}' is not a tensor but {Describe(value)}");
                }

                if (state.ContainsKey(name))
                {
                    throw new InvalidDataException($"the entry '{name}' appears twice");
                }

                if (!storages.TryGetValue(record.Storage.Key, out var storage))
                {
                    storage = LoadStorage(archive, prefix, record.Storage, name, fileLength);
                    storages.Add(record.Storage.Key, storage);
                }

                state.Add(name, View(name, record, storage, fileLength, ref repeated));
            }

            return state;
        }
        catch
        {
            foreach (var tensor in state.Values)
            {
                tensor.Dispose();
            }

            throw;
        }
        finally
        {
            foreach (var storage in storages.Values)
            {
                storage.Dispose();
            }
        }
    }

    // The whole storage, from its zip entry's full length (torch.load's storage size), as a 1-D tensor.
    private static Tensor LoadStorage(ZipArchive archive, string prefix, StorageRef storage, string user, long fileLength)
    {
        var entryName = $"{prefix}data/{storage.Key}";
        var entry = archive.GetEntry(entryName)
            ?? throw new InvalidDataException($"the storage '{storage.Key}' of tensor '{user}' is missing: the zip file has no entry '{entryName}'");
        var size = storage.DType.Size();
        // torch.save writes each storage's bytes exactly (numel x element size): more is not a checkpoint torch.save made
        // (and may be a zip bomb of padding), less cannot hold the tensors.
        if (entry.Length % size != 0 || entry.Length / size != storage.Elements)
        {
            throw new InvalidDataException($"the storage '{storage.Key}' declares {storage.Elements} {storage.DType} elements "
                + $"({storage.Elements * size} bytes), but its entry '{entryName}' holds {entry.Length} bytes");
        }

        var bytes = ReadEntry(entry, fileLength, Array.MaxLength, $"storage of tensor '{user}'");
        return new SafetensorsTensor(storage.DType, [bytes.LongLength / size], bytes).ToTensor();
    }

    // The tensor the pickle describes: its view of the storage, checked to lie inside it, copied to its own memory. A view
    // may repeat values (stride 0, as expand() makes), but the views that do may not together make more bytes than the
    // whole file holds (counted in 'repeated'): such sizes come from a damaged pickle, not from data there is, and are
    // refused before they are allocated.
    private static Tensor View(string name, TensorRecord record, Tensor storage, long fileLength, ref long repeated)
    {
        var (shape, stride, offset) = (record.Shape, record.Stride, record.Offset);
        var view = $"offset {offset}, shape {SafetensorsFile.Describe(shape)}, stride {SafetensorsFile.Describe(stride)}";
        if (shape.Length != stride.Length)
        {
            throw new InvalidDataException($"tensor '{name}' has {view}: the shape and the stride must have as many dimensions");
        }

        if (shape.Length > SafetensorsFile.MaxRank)
        {
            throw new InvalidDataException($"tensor '{name}' has {shape.Length} dimensions, more than the {SafetensorsFile.MaxRank} libtorch supports");
        }

        if (offset < 0 || shape.Any(d => d < 0) || stride.Any(s => s < 0))
        {
            throw new InvalidDataException($"tensor '{name}' has {view}: the offset, the shape and the stride must not be negative");
        }

        var elementSize = record.Storage.DType.Size();
        long elements = 1;
        long last = offset; // The storage element the view's last element lies at.
        try
        {
            for (var d = 0; d < shape.Length; d++)
            {
                elements = checked(elements * shape[d]);
                if (shape[d] > 0)
                {
                    last = checked(last + ((shape[d] - 1) * stride[d]));
                }
            }

            if (checked(elements * elementSize) > Array.MaxLength)
            {
                throw new OverflowException();
            }
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"tensor '{name}' has {view}: it is too large (at most {Array.MaxLength} bytes per tensor)");
        }

        var available = storage.shape[0];
        if (elements > 0 && last >= available)
        {
            throw new InvalidDataException($"tensor '{name}' has {view}, which reaches element {last} of storage '{record.Storage.Key}', "
                + $"but that storage holds {available} elements");
        }

        if (elements > available && (repeated += elements * elementSize) > fileLength)
        {
            throw new InvalidDataException($"tensor '{name}' has {view}, which repeats the {available} elements of storage '{record.Storage.Key}' "
                + $"into {elements * elementSize} bytes{(repeated > elements * elementSize ? $" ({repeated} with the views before it that repeat theirs)" : string.Empty)}, "
                + $"more than the whole {fileLength}-byte file holds");
        }

        if (!SafetensorsFile.ExtentFits(shape))
        {
            throw new InvalidDataException($"tensor '{name}' has {view}: the shape is too large to lay out even with no elements");
        }

        var tensor = torch.empty(shape, storage.dtype);
        if (elements > 0)
        {
            using var source = storage.as_strided(shape, stride, offset);
            tensor.copy_(source);
        }

        return tensor;
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string => "a string",
        long or double or bool => $"the value {Convert.ToString(value, CultureInfo.InvariantCulture)}",
        PickleDict => "a dict",
        object[] => "a tuple",
        List<object?> => "a list",
        TensorRecord => "a tensor",
        _ => "another object",
    };

    private sealed record StorageRef(string Key, SafetensorsDType DType, long Elements);

    private sealed record TensorRecord(StorageRef Storage, long Offset, long[] Shape, long[] Stride);

    private sealed record GlobalRef(string Module, string Name)
    {
        public override string ToString() => $"{Module}.{Name}";
    }

    private sealed class PickleDict
    {
        public List<(object? Key, object? Value)> Items { get; } = [];
    }

    /// <summary>
    /// The subset of the pickle machine (protocols 2 to 5) that a state_dict needs: dicts, lists, tuples, strings,
    /// numbers, persistent storages and the few torch globals that rebuild tensors. Any other global is refused when it
    /// is named, before anything could call it.
    /// </summary>
    private sealed class Unpickler(byte[] data)
    {
        private static readonly object Mark = new();
        private readonly List<object?> stack = [];
        private readonly Dictionary<long, object?> memo = [];
        private readonly Dictionary<string, StorageRef> storages = new(StringComparer.Ordinal);
        private int position;

        // Items copied by OrderedDict(items) calls so far. A pickle can call it again and again on one remembered list,
        // each call a few bytes and a copy of the whole list, so a crafted 1 MB pickle could ask for 10^11 copies;
        // torch.save's own pickles fill their dicts with SETITEMS and copy nothing, so the copies may not exceed the
        // pickle's own length.
        private long copiedItems;

        public object? Load()
        {
            while (true)
            {
                var at = position;
                var opcode = Byte();
                switch (opcode)
                {
                    case 0x80: Byte(); break; // PROTO
                    case 0x95: Bytes(8); break; // FRAME
                    case (byte)'.': return Pop(); // STOP
                    case (byte)'(': stack.Add(Mark); break;
                    case (byte)'0': Pop(); break; // POP
                    case (byte)'1': PopToMark(); break; // POP_MARK
                    case (byte)'2': stack.Add(Peek()); break; // DUP
                    case (byte)'N': stack.Add(null); break;
                    case 0x88: stack.Add(true); break;
                    case 0x89: stack.Add(false); break;
                    case (byte)'K': stack.Add((long)Byte()); break; // BININT1
                    case (byte)'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2))); break; // BININT2
                    case (byte)'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Bytes(4))); break; // BININT
                    case 0x8a: stack.Add(Long(Byte())); break; // LONG1
                    case (byte)'G': stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Bytes(8))); break; // BINFLOAT
                    case (byte)'X': stack.Add(Text(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)))); break; // BINUNICODE
                    case 0x8c: stack.Add(Text(Byte())); break; // SHORT_BINUNICODE
                    case 0x8d: stack.Add(Text(BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8)))); break; // BINUNICODE8
                    case (byte)'U': stack.Add(Latin1(Byte())); break; // SHORT_BINSTRING
                    case (byte)'T': stack.Add(Latin1(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)))); break; // BINSTRING
                    case (byte)'C': stack.Add(Bytes(Byte()).ToArray()); break; // SHORT_BINBYTES
                    case (byte)'B': stack.Add(Bytes(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4))).ToArray()); break; // BINBYTES
                    case (byte)')': stack.Add(Array.Empty<object?>()); break; // EMPTY_TUPLE
                    case (byte)'t': stack.Add(PopToMark().ToArray()); break; // TUPLE
                    case 0x85: stack.Add(new[] { Pop() }); break; // TUPLE1
                    case 0x86: { var b = Pop(); var a = Pop(); stack.Add(new[] { a, b }); break; } // TUPLE2
                    case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); stack.Add(new[] { a, b, c }); break; } // TUPLE3
                    case (byte)']': stack.Add(new List<object?>()); break; // EMPTY_LIST
                    case (byte)'l': stack.Add(PopToMark()); break; // LIST
                    case (byte)'a': { var item = Pop(); Target<List<object?>>(at).Add(item); break; } // APPEND
                    case (byte)'e': { var items = PopToMark(); Target<List<object?>>(at).AddRange(items); break; } // APPENDS
                    case (byte)'}': stack.Add(new PickleDict()); break; // EMPTY_DICT
                    case (byte)'d': stack.Add(Pairs(new PickleDict(), PopToMark(), at)); break; // DICT
                    case (byte)'s': { var value = Pop(); var key = Pop(); Target<PickleDict>(at).Items.Add((key, value)); break; } // SETITEM
                    case (byte)'u': { var items = PopToMark(); Pairs(Target<PickleDict>(at), items, at); break; } // SETITEMS
                    case (byte)'q': memo[Byte()] = Peek(); break; // BINPUT
                    case (byte)'r': memo[BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4))] = Peek(); break; // LONG_BINPUT
                    case 0x94: memo[memo.Count] = Peek(); break; // MEMOIZE
                    case (byte)'h': stack.Add(Memo(Byte(), at)); break; // BINGET
                    case (byte)'j': stack.Add(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)), at)); break; // LONG_BINGET
                    case (byte)'c': { var module = Line(); stack.Add(Global(module, Line())); break; } // GLOBAL
                    case 0x93: { var name = Pop() as string; var module = Pop() as string; stack.Add(Global(module ?? "?", name ?? "?")); break; } // STACK_GLOBAL
                    case (byte)'Q': stack.Add(Persistent(Pop(), at)); break; // BINPERSID
                    case (byte)'R': { var args = Pop(); stack.Add(Counted(Call(Pop(), args, at), at)); break; } // REDUCE
                    case 0x81: { var args = Pop(); stack.Add(Counted(Call(Pop(), args, at), at)); break; } // NEWOBJ
                    case (byte)'b': Build(Pop(), at); break; // BUILD
                    default:
                        throw new InvalidDataException($"its pickle has the opcode 0x{opcode:X2} at byte {at}, which a state_dict does not use");
                }
            }
        }

        private byte Byte() => Bytes(1)[0];

        private ReadOnlySpan<byte> Bytes(ulong count)
        {
            if (count > (ulong)(data.Length - position))
            {
                throw new InvalidDataException($"its pickle ends early (at byte {position} of {data.Length})");
            }

            var span = data.AsSpan(position, (int)count);
            position += (int)count;
            return span;
        }

        private string Text(ulong count) => Encoding.UTF8.GetString(Bytes(count));

        private string Latin1(ulong count) => Encoding.Latin1.GetString(Bytes(count));

        private string Line()
        {
            var end = Array.IndexOf(data, (byte)'\n', position);
            if (end < 0)
            {
                throw new InvalidDataException($"its pickle ends early (at byte {position} of {data.Length})");
            }

            var text = Encoding.UTF8.GetString(data, position, end - position);
            position = end + 1;
            return text;
        }

        // LONG1: a little-endian two's complement integer of n bytes; state_dict sizes fit a long.
        private long Long(int count)
        {
            var bytes = Bytes((ulong)count);
            if (count > 8)
            {
                throw new InvalidDataException($"its pickle holds a {count}-byte integer, too large for a tensor size");
            }

            long value = 0;
            for (var i = count - 1; i >= 0; i--)
            {
                value = (value << 8) | bytes[i];
            }

            return count is > 0 and < 8 && (bytes[count - 1] & 0x80) != 0 ? value - (1L << (8 * count)) : value;
        }

        private object? Pop()
        {
            if (stack.Count == 0 || stack[^1] == Mark)
            {
                throw new InvalidDataException($"its pickle is malformed (stack underflow at byte {position})");
            }

            var top = stack[^1];
            stack.RemoveAt(stack.Count - 1);
            return top;
        }

        private object? Peek() => stack.Count > 0 && stack[^1] != Mark
            ? stack[^1]
            : throw new InvalidDataException($"its pickle is malformed (stack underflow at byte {position})");

        private List<object?> PopToMark()
        {
            var mark = stack.LastIndexOf(Mark);
            if (mark < 0)
            {
                throw new InvalidDataException($"its pickle is malformed (no mark at byte {position})");
            }

            var items = stack.GetRange(mark + 1, stack.Count - mark - 1);
            stack.RemoveRange(mark, stack.Count - mark);
            return items;
        }

        private T Target<T>(int at) where T : class => Peek() as T
            ?? throw new InvalidDataException($"its pickle is malformed (byte {at} adds items to {Describe(Peek())})");

        private object? Memo(long key, int at) => memo.TryGetValue(key, out var value)
            ? value
            : throw new InvalidDataException($"its pickle is malformed (byte {at} reads memo {key}, which was never stored)");

        private static PickleDict Pairs(PickleDict dict, List<object?> items, int at)
        {
            if (items.Count % 2 != 0)
            {
                throw new InvalidDataException($"its pickle is malformed (byte {at} gives a dict an odd number of items)");
            }

            for (var i = 0; i < items.Count; i += 2)
            {
                dict.Items.Add((items[i], items[i + 1]));
            }

            return dict;
        }

        private static GlobalRef Global(string module, string name)
        {
            var global = new GlobalRef(module, name);
            return (module, name) switch
            {
                ("collections", "OrderedDict") or ("builtins", "dict") => global,
                ("torch._utils", "_rebuild_tensor_v2" or "_rebuild_tensor") => global,
                ("torch", _) when StorageTypes.ContainsKey(name) => global,
                ("torch", _) when name.EndsWith("Storage", StringComparison.Ordinal) =>
                    throw new InvalidDataException($"it holds a tensor of storage type 'torch.{name}', which is not supported (use float, double, half, bfloat16, integer or bool tensors)"),
                ("torch._utils", "_rebuild_parameter" or "_rebuild_parameter_with_state") or ("torch.nn.parameter", "Parameter") =>
                    throw new InvalidDataException("it holds nn.Parameter objects, as a whole pickled model does, not a state_dict of tensors"),
                _ => throw new InvalidDataException($"its pickle refers to '{module}.{name}', which a state_dict does not hold "
                    + "(a whole pickled model or other objects; do not torch.load such a file from an unknown source)"),
            };
        }

        // ('storage', torch.XStorage, key, location, numel): the storage is read later, once per key.
        private StorageRef Persistent(object? pid, int at)
        {
            if (pid is not object?[] { Length: 5 } tuple || tuple[0] is not "storage" || tuple[1] is not GlobalRef type
                || !StorageTypes.TryGetValue(type.Name, out var dtype) || tuple[2] is not string key || tuple[4] is not long elements || elements < 0)
            {
                throw new InvalidDataException($"its pickle has a persistent id at byte {at} that is not a ('storage', type, key, location, size) tuple");
            }

            if (storages.TryGetValue(key, out var known))
            {
                return known.DType == dtype
                    ? known
                    : throw new InvalidDataException($"the storage '{key}' is used as {known.DType} and as {dtype}");
            }

            var storage = new StorageRef(key, dtype, elements);
            storages.Add(key, storage);
            return storage;
        }

        private object Counted(object built, int at)
        {
            if (built is PickleDict dict && (copiedItems += dict.Items.Count) > data.Length)
            {
                throw new InvalidDataException($"its pickle copies more dict items than it has bytes ({copiedItems} by byte {at}, in {data.Length} bytes), "
                    + "which torch.save's pickle of a state_dict never does");
            }

            return built;
        }

        private static object Call(object? callable, object? args, int at)
        {
            if (callable is not GlobalRef global || args is not object?[] arguments)
            {
                throw new InvalidDataException($"its pickle calls {Describe(callable)} at byte {at}, which a state_dict does not do");
            }

            switch (global.Name)
            {
                case "OrderedDict" or "dict" when arguments.Length == 0:
                    return new PickleDict();
                case "OrderedDict" or "dict" when arguments.Length == 1 && Items(arguments[0]) is { } items:
                    var dict = new PickleDict();
                    dict.Items.AddRange(items);
                    return dict;
                case "_rebuild_tensor_v2" when arguments.Length is 6 or 7:
                case "_rebuild_tensor" when arguments.Length == 4:
                    if (arguments[0] is StorageRef storage && arguments[1] is long offset && Sizes(arguments[2]) is { } shape && Sizes(arguments[3]) is { } stride)
                    {
                        return new TensorRecord(storage, offset, shape, stride);
                    }

                    break;
            }

            throw new InvalidDataException($"its pickle calls '{global}' at byte {at} with arguments a state_dict does not use");
        }

        // OrderedDict(items): from a dict, or from a list or tuple of (key, value) pairs.
        private static IEnumerable<(object? Key, object? Value)>? Items(object? value) => value switch
        {
            PickleDict dict => dict.Items,
            IEnumerable<object?> pairs when pairs.All(p => p is object?[] { Length: 2 }) => pairs.Cast<object?[]>().Select(p => (p[0], p[1])),
            _ => null,
        };

        private static long[]? Sizes(object? value) => value is object?[] tuple && tuple.All(v => v is long)
            ? [.. tuple.Cast<long>()]
            : null;

        // BUILD sets an object's state: a dict's attributes (a state_dict's '_metadata') are accepted and ignored.
        private void Build(object? state, int at)
        {
            if (Peek() is not PickleDict || state is not (PickleDict or null))
            {
                throw new InvalidDataException($"its pickle sets the state of {Describe(Peek())} at byte {at}, which a state_dict does not do");
            }
        }
    }
}
