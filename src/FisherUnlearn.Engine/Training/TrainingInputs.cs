using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.Manifests;
using TorchSharp;
using FisherUnlearn.Lineage.IO;

namespace FisherUnlearn.Engine.Training;

/// <summary>What a trained checkpoint's file says about how it was made.</summary>
public enum CheckpointState
{
    /// <summary>No file at the checkpoint path.</summary>
    Missing,

    /// <summary>Written by <c>train</c> from exactly the current inputs.</summary>
    UpToDate,

    /// <summary>Written by <c>train</c>, but from other inputs: train it again.</summary>
    Stale,

    /// <summary>Written by <c>train</c> from the current inputs, but damaged since (cut short by a crash or a failed copy, or
    /// a tensor's header entry changed), so it cannot be read: train it again.</summary>
    Damaged,

    /// <summary>A .safetensors file that <c>train</c> did not write (no <c>fisherunlearn.inputs</c>): the user's.</summary>
    Foreign,

    /// <summary>A .safetensors file whose header cannot be read (a Git LFS pointer, a damaged copy): whether <c>train</c>
    /// wrote it cannot be told (it writes whole files only, by renaming a finished one into place).</summary>
    Unreadable,

    /// <summary>A .pt/.pth/.dat file: a user checkpoint, only ever read.</summary>
    UserFormat,
}

/// <summary>
/// The content hash of everything a trained checkpoint depends on, stored in its safetensors <c>__metadata__</c>
/// under <see cref="InputsKey"/>: a checkpoint is up to date when the stored hash equals the current one.
/// The hash combines: the training format and engine versions (<see cref="EngineVersion"/>), the model's content
/// (<see cref="ModelContent"/>: id, architecture, parents, data entries, the recipe as training reads it), each parent's
/// checkpoint file hash, each data entry's dataset manifest hash and data file hashes (of the split trained on), a custom
/// architecture's assembly hash, and the <see cref="DataFilter"/> of a retrain. Not the lineage manifest's other bytes:
/// moving the checkpoint (its path and the file) or a field training does not read retrains nothing (found in QA: such
/// a change retrained the model and, through its checkpoint's new metadata, every descendant). The thread count is not
/// part of it either.
/// </summary>
public static class TrainingInputs
{
    public const string InputsKey = "fisherunlearn.inputs";
    public const string ModelKey = "fisherunlearn.model";
    public const string ArchitectureKey = "fisherunlearn.architecture";
    public const string RemovalKey = "fisherunlearn.removal";

    /// <summary>Seconds the training of a retrained reference took (verify's reference only: <c>train</c> and
    /// <c>run --method retrain</c> keep their bytes free of times, so they are reproducible).</summary>
    public const string TrainingSecondsKey = "fisherunlearn.trainingSeconds";

    /// <summary>On a retrained model whose own data the removal emptied: what its weights are instead of a trained model
    /// (FUL4072), so a reuse of the file still says so.</summary>
    public const string TrainedNothingKey = "fisherunlearn.trainedNothing";

    /// <summary>Bumped whenever training changes what it computes for the same inputs (loop, losses, seeding).</summary>
    public const int TrainingFormatVersion = 1;

    /// <summary>The versions that change trained weights: the training format, this engine's assembly version
    /// (major.minor, not the commit) and TorchSharp's.</summary>
    public static string EngineVersion { get; } = string.Create(CultureInfo.InvariantCulture,
        $"training {TrainingFormatVersion}; engine {typeof(TrainingInputs).Assembly.GetName().Version}; torchsharp {typeof(torch).Assembly.GetName().Version}");

    /// <summary>The current inputs hash of a model.</summary>
    /// <param name="workspace">The workspace (manifest and dataset hashes).</param>
    /// <param name="model">The model.</param>
    /// <param name="parentHashes">One hash per entry of <see cref="ModelManifest.Parents"/>, in order: the parent's
    /// checkpoint file hash, or <see cref="StateDicts.Hash"/> of an in-memory parent.</param>
    /// <param name="filter">What a retrain leaves out (null = nothing).</param>
    /// <param name="files">A cache of file hashes, shared across the models of one run.</param>
    public static string Compute(Workspace workspace, ModelManifest model, IReadOnlyList<string> parentHashes, DataFilter? filter = null, FileHashCache? files = null)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(parentHashes);
        if (parentHashes.Count != model.Parents.Count)
        {
            throw new ArgumentException($"Model '{model.Id}' has {model.Parents.Count} parent(s), not {parentHashes.Count}.", nameof(parentHashes));
        }

        files ??= new FileHashCache();
        var parts = new List<string>
        {
            "fisherunlearn.train/3",
            EngineVersion,
            ModelContent.Of(model),
        };
        for (var i = 0; i < model.Parents.Count; i++)
        {
            parts.Add($"parent {model.Parents[i].Id}");
            parts.Add(parentHashes[i]);
        }

        foreach (var use in model.Data)
        {
            if (workspace.Datasets.TryGetValue(use.Dataset, out var dataset))
            {
                parts.Add(DatasetContent.Of(dataset));
                foreach (var file in dataset.GetSplit(use.Split)?.Files ?? [])
                {
                    parts.Add(files.Hash(file));
                }
            }
        }

        if (model.Architecture.Kind == ArchitectureSpec.Custom && model.Architecture.Assembly is { } assembly)
        {
            parts.AddRange(ModuleAssemblyFiles.Of(Path.Combine(model.ManifestDirectory, assembly)).Select(files.Hash));
        }

        parts.Add((filter ?? DataFilter.None).Fingerprint);
        return ContentHash.Combine([.. parts]);
    }

    /// <summary>The metadata <c>train</c> writes into a checkpoint.</summary>
    public static Dictionary<string, string> Metadata(ModelManifest model, string inputs, string? removalId = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [InputsKey] = inputs,
            [ModelKey] = model.Id,
            [ArchitectureKey] = model.Architecture.ToString(),
        };
        if (removalId is not null)
        {
            metadata[RemovalKey] = removalId;
        }

        return metadata;
    }

    /// <summary>How the file at <paramref name="checkpointPath"/> relates to <paramref name="inputs"/>.</summary>
    /// <exception cref="EngineException">FUL1027: the path leads to a FIFO, a device or a socket.</exception>
    public static CheckpointState Check(string checkpointPath, string inputs)
    {
        if (!File.Exists(checkpointPath))
        {
            return CheckpointState.Missing;
        }

        // A FIFO or a device at the checkpoint path is refused (FUL1027), not read, nor replaced by a trained file.
        EngineException.ThrowIfNotRegular(checkpointPath);
        if (CheckpointStore.FormatOf(checkpointPath) != CheckpointFormat.Safetensors)
        {
            return CheckpointState.UserFormat;
        }

        var metadata = ReadMetadata(checkpointPath);
        if (metadata is null)
        {
            return CheckpointState.Unreadable;
        }

        return !metadata.TryGetValue(InputsKey, out var stored) ? CheckpointState.Foreign
            : !string.Equals(stored, inputs, StringComparison.Ordinal) ? CheckpointState.Stale
            : IsWhole(checkpointPath) ? CheckpointState.UpToDate
            : CheckpointState.Damaged; // made from these inputs, but damaged since (a crash, a failed copy): train it again
    }

    // Every tensor the header declares lies within the file (the header alone is read, so this stays cheap).
    private static bool IsWhole(string checkpointPath)
    {
        try
        {
            _ = SafetensorsFile.ReadHeader(checkpointPath);
            return true;
        }
        catch (EngineException)
        {
            return false;
        }
    }

    /// <summary>The string <c>__metadata__</c> of a safetensors file, reading only its header; empty when it has
    /// none; null when the file cannot be read or its header is invalid.</summary>
    public static IReadOnlyDictionary<string, string>? ReadMetadata(string path)
    {
        try
        {
            using var stream = RegularFile.OpenRead(path);
            Span<byte> lengthBytes = stackalloc byte[8];
            if (stream.Length < 8)
            {
                return null;
            }

            stream.ReadExactly(lengthBytes);
            var length = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (length > (ulong)SafetensorsFile.MaxHeaderLength || (long)length > stream.Length - 8)
            {
                return null;
            }

            var header = new byte[(int)length];
            stream.ReadExactly(header);
            using var document = JsonDocument.Parse(header);
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            if (document.RootElement.TryGetProperty(SafetensorsFile.MetadataKey, out var metadata) && metadata.ValueKind == JsonValueKind.Object)
            {
                foreach (var item in metadata.EnumerateObject())
                {
                    if (item.Value.ValueKind == JsonValueKind.String)
                    {
                        result[item.Name] = item.Value.GetString()!;
                    }
                }
            }

            return result;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }
}
