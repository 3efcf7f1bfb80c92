using FisherUnlearn.Engine.Native;
using FisherUnlearn.Lineage.Diagnostics;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Checkpoints;

/// <summary>The checkpoint file formats, chosen by extension.</summary>
public enum CheckpointFormat
{
    /// <summary><c>.safetensors</c>: outputs and inputs; read and written by <see cref="SafetensorsFile"/>.</summary>
    Safetensors,

    /// <summary><c>.pt</c> / <c>.pth</c>: a PyTorch <c>torch.save(model.state_dict())</c> zip file (TorchSharp.PyBridge).</summary>
    PyTorch,

    /// <summary><c>.dat</c>: TorchSharp's own <c>module.save</c> format.</summary>
    TorchSharp,
}

/// <summary>
/// Loads and saves state dicts (parameter name -> tensor) in every checkpoint format, and loads them into a
/// module after checking names and shapes. Input files are only ever opened for reading; writes are atomic.
/// Returned tensors belong to the caller.
/// </summary>
public static class CheckpointStore
{
    /// <summary>The metadata every safetensors output carries unless the caller overrides it.</summary>
    public static IReadOnlyDictionary<string, string> DefaultMetadata { get; } =
        new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "FisherUnlearn.Tooling" };

    // A TorchSharp .dat state dict with more entries than this is not a state dict this tool wrote or can use.
    private const long MaxDatEntries = 1_000_000;

    // The element types a .dat entry may have: those the engine can hold (TorchSharp's ScalarType codes).
    private static readonly IReadOnlyDictionary<ScalarType, SafetensorsDType> DatElementTypes = Enum.GetValues<SafetensorsDType>()
        .ToDictionary(t => t.ToScalarType(), t => t);

    public static CheckpointFormat FormatOf(string path)
    {
        var extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".safetensors" => CheckpointFormat.Safetensors,
            ".pt" or ".pth" => CheckpointFormat.PyTorch,
            ".dat" => CheckpointFormat.TorchSharp,
            _ => throw EngineException.Create(DiagnosticCatalogue.CheckpointUnknownFormat, path, path, extension.Length == 0 ? "(none)" : extension),
        };
    }

    /// <summary>FUL4024 for a tensor of <paramref name="path"/> holding <paramref name="count"/> non-finite values, with
    /// the way out the file has: 'train' rebuilds a safetensors checkpoint it wrote, while one it did not write, or a
    /// PyTorch or TorchSharp file (which 'train' never writes, FUL4064), is the user's own to save again.</summary>
    /// <param name="metadata">The safetensors file's metadata, when it was read: a checkpoint <c>train</c> wrote records its
    /// inputs there, and only such a one can be trained again.</param>
    internal static EngineException NonFinite(string path, string tensor, long count, IReadOnlyDictionary<string, string>? metadata = null) =>
        EngineException.Create(DiagnosticCatalogue.CheckpointNonFinite, path, path, tensor, count,
            // An unlearned output (found in QA: a damaged one was sent to 'train --force', which does not make outputs).
            metadata?.TryGetValue(Training.TrainingInputs.RemovalKey, out var removal) == true && removal.Length > 0
                ? $"make the output again ('dotnet unlearn run {removal} --force')"
            : metadata?.ContainsKey(Training.TrainingInputs.InputsKey) == true
                ? metadata.TryGetValue(Training.TrainingInputs.ModelKey, out var model) && model.Length > 0
                    ? $"retrain its model ('dotnet unlearn train --force --model {model}' redoes a checkpoint whose inputs did not change)"
                    : "retrain its model ('dotnet unlearn train --force --model' with the model's id redoes a checkpoint whose inputs did not change)"
                : metadata is not null
                    ? "save the model's weights again from finite values ('dotnet unlearn train' did not write this file, and makes only the checkpoints of models with a training recipe)"
                    : $"save the model's weights again from finite values ('dotnet unlearn train' never writes {Path.GetExtension(path)} checkpoints: they are yours to save)");

    /// <summary>Reads a state dict, refusing corrupt files and non-finite float values. Tensors are on the CPU.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        var format = FormatOf(path);
        if (CheckpointPresence.Absence(path) is { } absence)
        {
            throw EngineException.Create(DiagnosticCatalogue.CheckpointNotFound, path, path, absence);
        }

        EngineException.ThrowIfNotRegular(path);
        var state = format switch
        {
            CheckpointFormat.Safetensors => LoadSafetensors(path),
            CheckpointFormat.PyTorch => LoadPyTorch(path),
            _ => LoadTorchSharp(path),
        };
        if (format != CheckpointFormat.Safetensors)
        {
            EnsureFinite(path, state);
        }

        return state;
    }

    /// <summary>Writes <paramref name="state"/> as safetensors (whatever the file's extension), atomically, and returns
    /// the SHA-256 of the bytes written, computed from memory rather than by reading the file back.
    /// <paramref name="metadata"/> is added to <see cref="DefaultMetadata"/>; the bytes are the same whenever the weights
    /// and metadata are.</summary>
    public static string SaveSafetensors(string path, IReadOnlyDictionary<string, Tensor> state, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var (tensors, merged) = ToSafetensors(state, metadata);
        return SafetensorsFile.WriteHashed(path, tensors, merged);
    }

    private static (Dictionary<string, SafetensorsTensor> Tensors, Dictionary<string, string> Metadata) ToSafetensors(IReadOnlyDictionary<string, Tensor> state,
        IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(state);
        var tensors = state.Keys.ToDictionary(n => n, n => SafetensorsTensor.FromTensor(state[n]), StringComparer.Ordinal);
        var merged = new Dictionary<string, string>(DefaultMetadata, StringComparer.Ordinal);
        foreach (var item in metadata ?? new Dictionary<string, string>())
        {
            merged[item.Key] = item.Value;
        }

        return (tensors, merged);
    }

    /// <summary>Writes a state dict atomically in the format of <paramref name="path"/>'s extension. For safetensors,
    /// <paramref name="metadata"/> is added to <see cref="DefaultMetadata"/>; the bytes are the same whenever the weights
    /// and metadata are.</summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> state, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        var names = state.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();
        switch (FormatOf(path))
        {
            case CheckpointFormat.Safetensors:
                var (tensors, merged) = ToSafetensors(state, metadata);
                SafetensorsFile.Write(path, tensors, merged);
                break;
            case CheckpointFormat.PyTorch:
                var dictionary = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                try
                {
                    foreach (var name in names)
                    {
                        dictionary[name] = TensorCopies.DetachedContiguousCpu(state[name]);
                    }

                    CheckpointFile.WriteAtomically(path, stream => PyTorchPickler.PickleStateDict(stream, dictionary, true));
                }
                finally
                {
                    foreach (var tensor in dictionary.Values)
                    {
                        tensor.Dispose();
                    }
                }
                break;
            default:
                CheckpointFile.WriteAtomically(path, stream =>
                {
                    using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
                    WriteLeb128(writer, names.Length);
                    foreach (var name in names)
                    {
                        writer.Write(name);
                        using var cpu = TensorCopies.DetachedContiguousCpu(state[name]);
                        cpu.Save(writer);
                    }
                });
                break;
        }
    }

    /// <summary>Saves the module's state dict (parameters and buffers).</summary>
    public static void Save(string path, nn.Module module, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        Save(path, module.state_dict(), metadata);
    }

    /// <summary>
    /// Loads a checkpoint into <paramref name="module"/>: every name and shape must match (all differences are
    /// listed in one FUL4025), then the values are copied (converted to the module's dtype) without tracking grads.
    /// </summary>
    /// <param name="architecture">How to name the architecture in messages, such as <c>mlp 784-256-128-10</c>.</param>
    public static void LoadInto(nn.Module module, string path, string architecture)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (FormatOf(path) == CheckpointFormat.Safetensors)
        {
            LoadSafetensorsInto(module, path, architecture);
            return;
        }

        var state = Load(path);
        try
        {
            CheckpointValidator.EnsureMatches(path, architecture, module, state);
            using var noGrad = torch.no_grad();
            foreach (var (name, target) in module.state_dict())
            {
                target.copy_(state[name]);
            }
        }
        finally
        {
            foreach (var tensor in state.Values)
            {
                tensor.Dispose();
            }
        }
    }

    // Safetensors go straight into the module's memory: the header is checked against the module first (names and
    // shapes, FUL4025, before any weight changes), then each tensor's bytes land in its parameter and are checked
    // finite there (FUL4024; the module's values are then undefined, as after any failed load).
    private static void LoadSafetensorsInto(nn.Module module, string path, string architecture)
    {
        var header = SafetensorsFile.ReadHeader(path);
        var problems = CheckpointValidator.FindMismatches(module, header.Entries.ToDictionary(e => e.Name, e => e.Shape, StringComparer.Ordinal));
        if (problems.Count > 0)
        {
            throw EngineException.Create(DiagnosticCatalogue.CheckpointArchitectureMismatch, path, path, architecture, string.Join("; ", problems));
        }

        var targets = module.state_dict();
        using var noGrad = torch.no_grad();
        SafetensorsFile.ReadEach(header, (entry, data) =>
        {
            var target = targets[entry.Name];
            long bad;
            if (target.device_type == DeviceType.CPU && target.is_contiguous() && target.dtype == entry.DType.ToScalarType())
            {
                var memory = target.bytes; // The parameter's own storage: no tensor is built for the file's values.
                data.ReadExactly(memory);
                bad = SafetensorsTensor.CountNonFinite(entry.DType, memory);
            }
            else
            {
                var bytes = new byte[entry.End - entry.Begin];
                data.ReadExactly(bytes);
                var tensor = new SafetensorsTensor(entry.DType, entry.Shape, bytes);
                bad = tensor.CountNonFinite();
                if (bad == 0)
                {
                    using var loaded = tensor.ToTensor();
                    target.copy_(loaded); // Converted to the module's dtype, device and layout.
                }
            }

            if (bad > 0)
            {
                throw NonFinite(path, entry.Name, bad, header.Metadata);
            }
        });
    }

    private static Dictionary<string, Tensor> LoadSafetensors(string path)
    {
        var document = SafetensorsFile.Read(path);
        return document.Tensors.ToDictionary(t => t.Key, t => t.Value.ToTensor(), StringComparer.Ordinal);
    }

    private static Dictionary<string, Tensor> LoadPyTorch(string path)
    {
        try
        {
            return PyTorchCheckpointReader.Read(path);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw EngineException.At(DiagnosticCatalogue.CheckpointUnreadable, new SourceLocation(path), ex, path, "PyTorch (.pt)",
                ex is InvalidDataException or IOException or UnauthorizedAccessException ? EngineException.FirstLine(ex.Message) : EngineException.Summarize(ex));
        }
    }

    private static Dictionary<string, Tensor> LoadTorchSharp(string path)
    {
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            using var reader = new BinaryReader(stream);
            var count = ReadLeb128(reader, "the entry count");
            if (count > MaxDatEntries)
            {
                throw new InvalidDataException($"it declares {count} entries");
            }

            for (var i = 0; i < count; i++)
            {
                var name = reader.ReadString();
                var tensor = ReadDatTensor(reader, name);
                if (state.ContainsKey(name))
                {
                    throw new InvalidDataException($"the entry '{name}' appears twice"); // Checked before a second tensor is made.
                }

                state.Add(name, tensor.ToTensor());
            }

            if (stream.Position != stream.Length)
            {
                throw new InvalidDataException($"{stream.Length - stream.Position} bytes follow the last entry");
            }

            return state;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            foreach (var tensor in state.Values)
            {
                tensor.Dispose();
            }

            throw EngineException.At(DiagnosticCatalogue.CheckpointUnreadable, new SourceLocation(path), ex, path, "TorchSharp (.dat)",
                ex is EndOfStreamException ? "the file ends early" : EngineException.FirstLine(ex.Message));
        }
    }

    // One tensor as TorchSharp's Tensor.Save writes it: the element type and the number of dimensions, each dimension
    // (all unsigned LEB128), then the raw little-endian elements. Everything is checked against the bytes left in the
    // file before anything is allocated, so a corrupt header never reaches libtorch.
    private static SafetensorsTensor ReadDatTensor(BinaryReader reader, string name)
    {
        var code = ReadLeb128(reader, $"the element type of '{name}'");
        if (code > int.MaxValue || !DatElementTypes.TryGetValue((ScalarType)code, out var dtype))
        {
            throw new InvalidDataException($"the entry '{name}' has element type {code}, which is not one of TorchSharp's supported types "
                + $"({string.Join(", ", DatElementTypes.OrderBy(t => t.Key).Select(t => $"{(int)t.Key} = {t.Key}"))})");
        }

        var rank = ReadLeb128(reader, $"the rank of '{name}'");
        if (rank > SafetensorsFile.MaxRank)
        {
            throw new InvalidDataException($"the entry '{name}' declares {rank} dimensions, more than {SafetensorsFile.MaxRank}");
        }

        var shape = new long[rank];
        long bytes = dtype.Size();
        for (var d = 0; d < rank; d++)
        {
            shape[d] = ReadLeb128(reader, $"dimension {d + 1} of '{name}'");
            bytes = bytes == long.MaxValue || (shape[d] != 0 && bytes > long.MaxValue / shape[d]) ? long.MaxValue : bytes * shape[d]; // MaxValue: overflow
        }

        var left = reader.BaseStream.Length - reader.BaseStream.Position;
        if (bytes > left || bytes > Array.MaxLength)
        {
            throw new InvalidDataException($"the entry '{name}' declares shape {SafetensorsFile.Describe(shape)} of {dtype.ToScalarType()}, "
                + $"{(bytes == long.MaxValue ? $"more than {long.MaxValue}" : bytes)} bytes, but the file has {left} left");
        }

        if (!SafetensorsFile.ExtentFits(shape))
        {
            throw new InvalidDataException($"the entry '{name}' declares shape {SafetensorsFile.Describe(shape)}, too large to lay out even with no elements");
        }

        return new SafetensorsTensor(dtype, shape, reader.ReadBytes((int)bytes));
    }

    private static void EnsureFinite(string path, Dictionary<string, Tensor> state)
    {
        foreach (var (name, tensor) in state.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (!tensor.is_floating_point())
            {
                continue;
            }

            // Judged as the float32 the engine computes in, as safetensors' F64 is: 1e300 is a finite double and an infinite
            // float32 (found in QA: a .dat or .pt of float64 weights loaded it as inf, and 'run' wrote an output holding it).
            using var wide = tensor.dtype == ScalarType.Float64 ? tensor.to_type(ScalarType.Float32) : null;
            using var finite = torch.isfinite(wide ?? tensor);
            using var notFinite = finite.logical_not(); // held past sum (docs/engine-notes.md)
            using var bad = notFinite.sum();
            var count = bad.item<long>();
            if (count > 0)
            {
                foreach (var loaded in state.Values)
                {
                    loaded.Dispose();
                }

                throw NonFinite(path, name, count);
            }
        }
    }

    // TorchSharp's .dat format counts entries with unsigned LEB128 (its BinaryWriter.Encode).
    private static void WriteLeb128(BinaryWriter writer, long value)
    {
        do
        {
            var b = (byte)(value & 0x7f);
            value >>= 7;
            writer.Write(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
    }

    private static long ReadLeb128(BinaryReader reader, string what)
    {
        long result = 0;
        for (var shift = 0; shift < 63; shift += 7)
        {
            long b = reader.ReadByte();
            result |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0 && result >= 0)
            {
                return result;
            }

            if ((b & 0x80) == 0)
            {
                break;
            }
        }

        throw new InvalidDataException($"{what} is not a valid LEB128 number");
    }
}
