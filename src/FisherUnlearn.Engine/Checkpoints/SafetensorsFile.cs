using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Engine.Checkpoints;

/// <summary>
/// Reads and writes the safetensors format (8-byte little-endian header length, a JSON header of
/// <c>dtype</c>/<c>shape</c>/<c>data_offsets</c> per tensor and optional string <c>__metadata__</c>, then the data)
/// without TorchSharp, so that every size is validated before anything is allocated and the written bytes depend
/// only on the content: tensors sorted by name, header keys sorted, no whitespace, space padding to 8 bytes.
/// </summary>
public static class SafetensorsFile
{
    public const string MetadataKey = "__metadata__";

    /// <summary>Largest accepted JSON header (the reference implementation's limit).</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>Most dimensions a tensor may have, in every checkpoint format: libtorch's limit (its reductions, such as
    /// the check that weights are finite, fail on more).</summary>
    public const int MaxRank = 64;

    public static SafetensorsDocument Read(string path) => Read(path, checkFinite: true);

    /// <summary>Whether libtorch can lay the shape out: the product of its dimensions with zeros taken as ones (its largest
    /// stride times its first dimension) fits a long, as it must even when a zero leaves the tensor empty (otherwise
    /// torch.empty fails with "Stride calculation overflowed").</summary>
    internal static bool ExtentFits(IEnumerable<long> shape)
    {
        long extent = 1;
        foreach (var d in shape)
        {
            var factor = Math.Max(d, 1);
            if (extent > long.MaxValue / factor)
            {
                return false;
            }

            extent *= factor;
        }

        return true;
    }

    /// <param name="path">The file; it is only read.</param>
    /// <param name="checkFinite">Refuse NaN and infinite values in float tensors (FUL4024).</param>
    public static SafetensorsDocument Read(string path, bool checkFinite) => Read(path, checkFinite, include: null);

    /// <summary>Reads the header (validated whole) and only the tensors <paramref name="include"/> accepts (all when
    /// null): the data of the others is never read, so a large file costs only what is asked of it.</summary>
    public static SafetensorsDocument Read(string path, bool checkFinite, Func<string, bool>? include) =>
        Open(path, file => ReadTensors(file, ReadHeader(file, path), checkFinite, include));

    /// <summary>Reads and validates a file's header only: names, types, shapes and byte ranges of its tensors, and its
    /// metadata. <see cref="ReadTensors(SafetensorsHeader, bool, Func{string, bool}?)"/> then reads chosen tensors
    /// without parsing the header again.</summary>
    public static SafetensorsHeader ReadHeader(string path) => Open(path, file => ReadHeader(file, path));

    /// <summary>Reads the tensors <paramref name="include"/> accepts (all when null) of a file whose header was read
    /// before. FUL4022 when the file no longer has the header's length (it was replaced since).</summary>
    public static IReadOnlyDictionary<string, SafetensorsTensor> ReadTensors(SafetensorsHeader header, bool checkFinite, Func<string, bool>? include)
    {
        ArgumentNullException.ThrowIfNull(header);
        return OpenUnchanged(header, file => ReadTensors(file, header, checkFinite, include).Tensors);
    }

    /// <summary>
    /// Opens a file whose header was read before and calls <paramref name="read"/> for each tensor, in file order, with
    /// the file positioned at the tensor's first byte; the callback reads the tensor's bytes (to wherever it wants them,
    /// such as straight into a model's memory). FUL4022 when the file no longer has the header's length (it was replaced
    /// since).
    /// </summary>
    public static void ReadEach(SafetensorsHeader header, Action<SafetensorsEntry, Stream> read)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(read);
        OpenUnchanged(header, file =>
        {
            foreach (var entry in header.Entries.OrderBy(e => e.Begin))
            {
                file.Position = header.DataStart + entry.Begin;
                read(entry, file);
            }

            return 0;
        });
    }

    // Opens the file of a header read before; FUL4022 when it no longer has that header's length (it was replaced since).
    private static T OpenUnchanged<T>(SafetensorsHeader header, Func<FileStream, T> read) => Open(header.Path, file => file.Length == header.FileLength
        ? read(file)
        : throw BadHeader(header.Path, $"it changed after its header was read ({file.Length} bytes, not {header.FileLength})"));

    private static T Open<T>(string path, Func<FileStream, T> read)
    {
        if (CheckpointPresence.Absence(path) is { } absence)
        {
            throw EngineException.Create(DiagnosticCatalogue.CheckpointNotFound, path, path, absence);
        }

        EngineException.ThrowIfNotRegular(path);
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            return read(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw EngineException.WithReason(ex.Message, DiagnosticCatalogue.CheckpointUnreadable, path, ex, path, "safetensors", ex.Message);
        }
    }

    private static SafetensorsHeader ReadHeader(FileStream file, string path)
    {
        var fileLength = file.Length;
        if (fileLength < 8)
        {
            throw Truncated(path, $"it has {fileLength} bytes, fewer than the 8-byte header length");
        }

        Span<byte> lengthBytes = stackalloc byte[8];
        file.ReadExactly(lengthBytes);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        // What the file is when its first bytes are plainly another format's (Data.FileSignature), read once.
        var head = Head(file);
        if (Data.FileSignature.IsGitLfsPointer(head))
        {
            throw BadHeader(path, "it is a Git LFS pointer, not the checkpoint itself ('git lfs pull' fetches it)");
        }

        if (!Data.FileSignature.IsSafetensors(head) && Data.FileSignature.Recognise(head) is { } kind)
        {
            throw BadHeader(path, $"it is {kind}, not a safetensors file{(kind.StartsWith("a ZIP", StringComparison.Ordinal) ? "; a PyTorch state_dict is read from a .pt or .pth path" : string.Empty)}");
        }

        if (headerLength > MaxHeaderLength)
        {
            throw BadHeader(path, $"it claims a header of {headerLength} bytes, more than the {MaxHeaderLength}-byte limit");
        }

        if ((long)headerLength > fileLength - 8)
        {
            throw Truncated(path, $"the header claims {headerLength} bytes but only {fileLength - 8} follow");
        }

        var headerBytes = new byte[headerLength];
        file.ReadExactly(headerBytes);
        var dataStart = 8 + (long)headerLength;
        var (entries, metadata) = ParseHeader(path, headerBytes, fileLength - dataStart);
        return new SafetensorsHeader(path, fileLength, dataStart, entries, metadata);
    }

    // The file's first bytes (Data.FileSignature.Length at most), leaving its position as it was.
    private static byte[] Head(FileStream file)
    {
        var position = file.Position;
        var head = new byte[Math.Min(Data.FileSignature.Length, file.Length)];
        file.Position = 0;
        file.ReadExactly(head);
        file.Position = position;
        return head;
    }

    private static SafetensorsDocument ReadTensors(FileStream file, SafetensorsHeader header, bool checkFinite, Func<string, bool>? include)
    {
        var tensors = new SortedDictionary<string, SafetensorsTensor>(StringComparer.Ordinal);
        foreach (var entry in header.Entries.Where(e => include?.Invoke(e.Name) != false).OrderBy(e => e.Begin))
        {
            var data = new byte[entry.End - entry.Begin];
            file.Position = header.DataStart + entry.Begin;
            file.ReadExactly(data);
            var tensor = new SafetensorsTensor(entry.DType, entry.Shape, data);
            if (checkFinite)
            {
                var bad = tensor.CountNonFinite();
                if (bad > 0)
                {
                    throw CheckpointStore.NonFinite(header.Path, entry.Name, bad, header.Metadata);
                }
            }

            tensors.Add(entry.Name, tensor);
        }

        return new SafetensorsDocument(tensors, header.Metadata);
    }

    // A JSON reader's complaint without its internals (line 0, byte positions, "configured depth"): what is wrong and where.
    private static string JsonProblem(JsonException ex)
    {
        if (ex.Message.Contains("maximum configured depth", StringComparison.Ordinal))
        {
            return "it nests deeper than a safetensors header does (an object of tensor entries and metadata: 8 levels at most)";
        }

        var what = ex.Message.Contains("trailing comma", StringComparison.Ordinal)
            ? "a comma before a closing brace or bracket, which JSON does not allow"
            : ex.Message.Split(" LineNumber:", 2)[0].Replace(" Change the reader options.", string.Empty, StringComparison.Ordinal).Trim();
        return (ex.LineNumber, ex.BytePositionInLine) switch
        {
            // The reader counts lines from 0 and bytes within the line: a header written over several lines gets both.
            ( > 0, { } at) => $"not valid JSON at line {ex.LineNumber + 1}, byte {at} of that line of the header ({what})",
            (_, { } at) => $"not valid JSON at byte {at} of the header ({what})",
            _ => $"not valid JSON ({what})",
        };
    }

    private static (List<SafetensorsEntry> Entries, IReadOnlyDictionary<string, string> Metadata) ParseHeader(string path, byte[] header, long dataLength)
    {
        // The format's header is UTF-8 JSON; System.Text.Json checks a string's encoding only when it is read (then throws
        // InvalidOperationException from deep inside), so the whole header is checked here, once.
        if (!System.Text.Unicode.Utf8.IsValid(header))
        {
            throw BadHeader(path, "the header is not valid UTF-8");
        }

        // The format: the JSON object starts the header, and only spaces (0x20) may pad it; other readers refuse the rest.
        // What is wrong is said in that order: nothing there, then not an object's start, then JSON that does not parse
        // (cut short, a stray comma, brackets never closed), and only after a whole object what follows it.
        if (header.AsSpan().TrimEnd((byte)' ').Length == 0)
        {
            throw BadHeader(path, header.Length == 0 ? "the header is empty (its length is 0)" : "the header is empty (spaces only)");
        }

        if (header[0] != (byte)'{')
        {
            throw BadHeader(path, "it does not begin with '{' (the format allows padding only after the JSON object)");
        }

        int objectLength;
        try
        {
            var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = 8 });
            reader.Read();
            reader.Skip();
            objectLength = checked((int)reader.BytesConsumed);
        }
        catch (JsonException ex)
        {
            throw BadHeader(path, JsonProblem(ex));
        }

        if (header.AsSpan(objectLength).TrimStart((byte)' ').Length != 0)
        {
            throw BadHeader(path, "the JSON object is not followed by spaces alone (the format pads the header with spaces, 0x20)");
        }

        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(header.AsMemory(0, objectLength), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            throw BadHeader(path, JsonProblem(ex));
        }

        using (json)
        {
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw BadHeader(path, "the header is not a JSON object");
            }

            var entries = new List<SafetensorsEntry>();
            var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in json.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                {
                    throw BadHeader(path, $"the key '{property.Name}' appears twice");
                }

                if (property.Name == MetadataKey)
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                    {
                        throw BadHeader(path, "__metadata__ is not an object");
                    }

                    foreach (var item in property.Value.EnumerateObject())
                    {
                        if (item.Value.ValueKind != JsonValueKind.String)
                        {
                            throw BadHeader(path, $"__metadata__ value '{item.Name}' is not a string");
                        }

                        metadata[item.Name] = item.Value.GetString()!;
                    }

                    continue;
                }

                entries.Add(ParseEntry(path, property));
            }

            // The data section must be covered exactly: in offset order, each tensor starts where the previous ended.
            // Past the end first, whichever tensor it is: offsets far beyond the data leave a "gap" before them, or after
            // another tensor, that is not the problem (QA).
            if (entries.Where(e => e.End > dataLength).OrderBy(e => e.Begin).ThenBy(e => e.End).FirstOrDefault() is { } beyond)
            {
                throw Truncated(path, $"tensor '{beyond.Name}' ends at byte {beyond.End} of the data, which has {dataLength}");
            }

            long expected = 0;
            foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
            {
                if (entry.Begin != expected)
                {
                    throw BadTensor(path, entry.Name, entry.Begin < expected
                        ? $"its bytes [{entry.Begin}, {entry.End}) overlap another tensor's"
                        : $"a gap of {entry.Begin - expected} unused bytes precedes it");
                }

                expected = entry.End;
            }

            if (expected != dataLength)
            {
                throw BadHeader(path, $"the tensors cover {expected} bytes of data, but {dataLength} follow the header");
            }

            return (entries, metadata);
        }
    }

    private static SafetensorsEntry ParseEntry(string path, JsonProperty property)
    {
        var name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw BadTensor(path, name, "its header entry is not an object");
        }

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw BadTensor(path, name, "'dtype' is missing or not a string");
        }

        if (!SafetensorsDTypes.TryParse(dtypeElement.GetString()!, out var dtype))
        {
            // A valid safetensors dtype (U32, F8_E4M3, ...) this tool does not read: the file is fine, the dtype is not.
            throw BadTensor(path, name, $"the dtype '{dtypeElement.GetString()}' is not supported (use one of {string.Join(", ", Enum.GetNames<SafetensorsDType>())})",
                "Save the weights in one of those dtypes (in PyTorch, for example, 'model.float()' before saving).");
        }

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw BadTensor(path, name, "'shape' is missing or not an array");
        }

        if (shapeElement.GetArrayLength() > MaxRank)
        {
            throw BadTensor(path, name, $"its shape has {shapeElement.GetArrayLength()} dimensions, more than the {MaxRank} libtorch supports");
        }

        var shape = new List<long>();
        long elements = 1;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var d) || d < 0)
            {
                throw BadTensor(path, name, $"the shape {shapeElement.GetRawText()} holds a value that is not a non-negative integer");
            }

            shape.Add(d);
            if (!ExtentFits(shape))
            {
                throw BadTensor(path, name, $"the shape {shapeElement.GetRawText()} is too large");
            }

            elements *= d; // At most the extent (zeros taken as ones), which fits: never overflows.
        }

        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetInt64(out var begin) || !offsets[1].TryGetInt64(out var end) || begin < 0 || end < begin)
        {
            throw BadTensor(path, name, $"'data_offsets' is {(offsets.ValueKind == JsonValueKind.Undefined ? "missing" : offsets.GetRawText())}; it must be [begin, end], two whole numbers from 0 to {long.MaxValue} with begin <= end");
        }

        foreach (var key in value.EnumerateObject())
        {
            if (key.Name is not ("dtype" or "shape" or "data_offsets"))
            {
                throw BadTensor(path, name, $"unknown header field '{key.Name}'");
            }
        }

        if (elements > (end - begin) / dtype.Size() || elements * dtype.Size() != end - begin)
        {
            throw BadTensor(path, name, $"the shape {shapeElement.GetRawText()} of {dtype} needs {(elements > long.MaxValue / 8 ? "more" : (elements * dtype.Size()).ToString(System.Globalization.CultureInfo.InvariantCulture))} bytes, but data_offsets give {end - begin}");
        }

        if (end - begin > Array.MaxLength)
        {
            throw BadTensor(path, name, $"it holds {end - begin} bytes, more than one tensor may hold here ({Array.MaxLength})");
        }

        return new SafetensorsEntry(name, dtype, [.. shape], begin, end);
    }

    /// <summary>
    /// Writes tensors and string metadata atomically. The bytes depend only on the names, types, shapes, values
    /// and metadata, never on the order given or on the time. <paramref name="durable"/> false skips the flush to disk
    /// before the rename (for caches that recompute what they cannot read: <see cref="Lineage.IO.AtomicFile"/>).
    /// </summary>
    public static void Write(string path, IReadOnlyDictionary<string, SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null,
        bool durable = true)
    {
        var parts = Parts(tensors, metadata);
        CheckpointFile.WriteAtomically(path, stream => WriteParts(stream, parts), durable);
    }

    /// <summary>Writes as <see cref="Write"/> does and returns the SHA-256 of the bytes written, computed from memory
    /// (a harvest file's 10 MB take 7 ms to hash, so only callers that record the hash ask for it). The hashing runs on
    /// another thread while this one writes and waits for the flush to disk, which leaves its core idle (the benchmark's
    /// 0.9 MB model: 0.65 ms of hashing beside about 1 ms of write and flush); neither copies the tensors' bytes.</summary>
    public static string WriteHashed(string path, IReadOnlyDictionary<string, SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var parts = Parts(tensors, metadata);
        var hashing = Task.Run(() => Lineage.Hashing.ContentHash.OfParts(parts));
        try
        {
            CheckpointFile.WriteAtomically(path, stream => WriteParts(stream, parts));
        }
        finally
        {
            hashing.Wait(); // never left running past the call (the arrays are the caller's)
        }

        return hashing.Result;
    }

    private static void WriteParts(Stream stream, IReadOnlyList<byte[]> parts)
    {
        foreach (var part in parts)
        {
            stream.Write(part);
        }
    }

    /// <summary>
    /// Writes float32 tensors straight from their arrays, streamed to the file without a copy of the values: the same
    /// bytes <see cref="Write"/> gives for <see cref="SafetensorsTensor.FromFloats"/> of each (a harvest file holds ten
    /// or more model-sized diagonals, 10 MB for the benchmark's mlp). <paramref name="durable"/> as for <see cref="Write"/>.
    /// </summary>
    public static void WriteFloats(string path, IReadOnlyDictionary<string, (IReadOnlyList<long> Shape, float[] Values)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, bool durable = true)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (!BitConverter.IsLittleEndian)
        {
            Write(path, tensors.ToDictionary(t => t.Key, t => SafetensorsTensor.FromFloats(t.Value.Shape, t.Value.Values), StringComparer.Ordinal), metadata, durable);
            return;
        }

        foreach (var (name, (shape, values)) in tensors)
        {
            var elements = shape.Aggregate(1L, (product, d) => d < 0 ? -1 : checked(product * d));
            if (elements != values.LongLength)
            {
                throw new ArgumentException($"'{name}' has shape {Describe(shape)} but {values.LongLength} values.", nameof(tensors));
            }
        }

        var entries = tensors.ToDictionary(t => t.Key, t => new HeaderEntry(SafetensorsDType.F32, t.Value.Shape, checked(t.Value.Values.LongLength * sizeof(float))),
            StringComparer.Ordinal);
        var (header, names) = Header(entries, metadata);
        CheckpointFile.WriteAtomically(path, stream =>
        {
            stream.Write(header);
            foreach (var name in names)
            {
                stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(tensors[name].Values.AsSpan()));
            }
        }, durable);
    }

    /// <summary>The file content <see cref="Write"/> produces.</summary>
    public static byte[] Serialize(IReadOnlyDictionary<string, SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var parts = Parts(tensors, metadata);
        // One buffer of the final size, each part copied once.
        var output = GC.AllocateUninitializedArray<byte>(checked((int)parts.Sum(p => (long)p.Length)));
        var position = 0;
        foreach (var part in parts)
        {
            part.CopyTo(output, position);
            position += part.Length;
        }

        return output;
    }

    // The file's content as the header followed by each tensor's bytes in data order (the arrays themselves, not copies).
    private static byte[][] Parts(IReadOnlyDictionary<string, SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var (header, names) = Header(tensors.ToDictionary(t => t.Key, t => new HeaderEntry(t.Value.DType, t.Value.Shape, t.Value.Data.LongLength), StringComparer.Ordinal),
            metadata);
        return [header, .. names.Select(n => tensors[n].Data)];
    }

    private readonly record struct HeaderEntry(SafetensorsDType DType, IReadOnlyList<long> Shape, long Length);

    // The 8-byte length, the JSON header (keys sorted, no whitespace) and its space padding to 8 bytes, and the tensor
    // names in data order. The bytes depend only on the content, never on the order given.
    private static (byte[] Header, string[] Names) Header(IReadOnlyDictionary<string, HeaderEntry> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var names = tensors.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();
        foreach (var name in names)
        {
            if (name.Length == 0 || name == MetadataKey)
            {
                throw new ArgumentException($"'{name}' cannot name a tensor.", nameof(tensors));
            }
        }

        var json = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            var keys = names.AsEnumerable();
            if (metadata is { Count: > 0 })
            {
                keys = keys.Append(MetadataKey).OrderBy(n => n, StringComparer.Ordinal);
            }

            var offsets = new Dictionary<string, (long Begin, long End)>(StringComparer.Ordinal);
            long position = 0;
            foreach (var name in names)
            {
                var length = tensors[name].Length;
                offsets[name] = (position, position + length);
                position += length;
            }

            foreach (var key in keys)
            {
                writer.WritePropertyName(key);
                writer.WriteStartObject();
                if (key == MetadataKey)
                {
                    foreach (var item in metadata!.OrderBy(m => m.Key, StringComparer.Ordinal))
                    {
                        writer.WriteString(item.Key, item.Value);
                    }
                }
                else
                {
                    var tensor = tensors[key];
                    writer.WriteStartArray("data_offsets");
                    writer.WriteNumberValue(offsets[key].Begin);
                    writer.WriteNumberValue(offsets[key].End);
                    writer.WriteEndArray();
                    writer.WriteString("dtype", tensor.DType.Name());
                    writer.WriteStartArray("shape");
                    foreach (var d in tensor.Shape)
                    {
                        writer.WriteNumberValue(d);
                    }

                    writer.WriteEndArray();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        var padding = (int)((8 - ((8 + json.WrittenCount) % 8)) % 8);
        var header = new byte[8 + json.WrittenCount + padding];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)(json.WrittenCount + padding));
        json.WrittenSpan.CopyTo(header.AsSpan(8));
        header.AsSpan(8 + json.WrittenCount, padding).Fill((byte)' ');
        return (header, names);
    }

    private static EngineException Truncated(string path, string detail) =>
        EngineException.WithReason(detail, DiagnosticCatalogue.CheckpointTruncated, path, null, path, detail);

    private static EngineException BadHeader(string path, string detail) =>
        EngineException.WithReason($"its safetensors header is invalid: {detail}", DiagnosticCatalogue.CheckpointBadHeader, path, null, path, detail);

    private static EngineException BadTensor(string path, string name, string detail, string advice = "The file is corrupt; regenerate it.") =>
        EngineException.WithReason($"tensor '{name}' is invalid: {detail}", DiagnosticCatalogue.CheckpointBadTensor, path, null, path, name, detail, advice);

    internal static string Describe(IReadOnlyList<long> shape) => $"[{string.Join(", ", shape)}]";
}
