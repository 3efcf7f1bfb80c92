using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Lineage.IO;

namespace FisherUnlearn.Engine.Harvest;

/// <summary>
/// The harvest cache: <c>&lt;output&gt;/harvest/&lt;model-id&gt;/&lt;key&gt;.safetensors</c>, one file per model and input
/// hash holding every per-label diagonal (tensor names <c>&lt;dataset&gt;/&lt;label&gt;/&lt;parameter&gt;</c>) and their
/// sample-weighted mean over the known labels (<c>@known/&lt;parameter&gt;</c>; label list and settings in the metadata;
/// bytes depend only on the content), plus <c>index.json</c> in the same folder that
/// summarises each file (key, settings, checkpoint hash, labels, samples, seconds) so lookups need not open it.
/// Writes are atomic and the index is updated under a lock file, so concurrent harvests never corrupt it. A new harvest
/// replaces (and deletes) the older ones of the same settings: those were for a previous checkpoint or data.
/// </summary>
public static class HarvestCache
{
    public const string FolderName = Lineage.Manifests.WorkspaceSettings.HarvestFolder;
    public const string IndexFileName = "index.json";
    public const string MetadataKey = "fisher.harvest";
    public const int SchemaVersion = 3;

    /// <summary>The key of each diagonal's checksum (<see cref="FisherDiagonal.Checksum"/>) in the header.</summary>
    internal const string ChecksumKey = "xxh64";

    /// <summary>Prefix of the stored knowledge diagonal's tensors (no dataset id can start with "@").</summary>
    internal const string KnownPrefix = "@known/";

    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The model's cache folder.</summary>
    public static string DirectoryOf(string outputDirectory, string modelId) =>
        Path.Combine(Path.GetFullPath(outputDirectory), FolderName, modelId);

    /// <summary>The harvest file for a key.</summary>
    public static string PathOf(string outputDirectory, string modelId, string key) =>
        Path.Combine(DirectoryOf(outputDirectory, modelId), key + ".safetensors");

    /// <summary>The index entries of a model's cache (empty when none or unreadable).</summary>
    public static IReadOnlyList<HarvestIndexEntry> ReadIndex(string outputDirectory, string modelId) =>
        ReadIndexFile(Path.Combine(DirectoryOf(outputDirectory, modelId), IndexFileName));

    /// <summary>Whether a usable harvest for the key is cached, from the index alone (the file must exist).</summary>
    public static bool Contains(string outputDirectory, string modelId, string key) =>
        ReadIndex(outputDirectory, modelId).Any(e => e.Key == key) && File.Exists(PathOf(outputDirectory, modelId, key));

    /// <summary>
    /// Loads the cached harvest for the key, or null when there is none or the file is not usable (a damaged cache file
    /// is a miss: the caller computes it again and overwrites it).
    /// </summary>
    public static HarvestResult? TryLoad(string outputDirectory, string modelId, string key)
    {
        var path = PathOf(outputDirectory, modelId, key);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return Load(path, modelId, key);
        }
        catch (EngineException)
        {
            return null;
        }
    }

    /// <summary>Reads a harvest file's header; FUL4081 when it is not one (or not the expected model and key). The
    /// diagonals are read on first use, each from its own byte range, so a request touches only the labels it needs.</summary>
    public static HarvestResult Load(string path, string? modelId = null, string? key = null)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        // The header is parsed once, here; each diagonal read later goes straight to its byte ranges.
        var file = Unreadable(path, () => SafetensorsFile.ReadHeader(path));
        var names = file.Entries.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        if (!file.Metadata.TryGetValue(MetadataKey, out var json))
        {
            throw FisherDiagonal.Unreadable(path, $"the metadata has no '{MetadataKey}'");
        }

        JsonObject header;
        try
        {
            header = JsonNode.Parse(json) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException ex)
        {
            throw FisherDiagonal.Unreadable(path, $"'{MetadataKey}' is not valid JSON ({ex.Message})");
        }

        var fileModel = (string?)header["model"];
        var fileKey = (string?)header["key"];
        if ((int?)header["schemaVersion"] != SchemaVersion || fileModel is null || fileKey is null
            || (modelId is not null && fileModel != modelId) || (key is not null && fileKey != key))
        {
            throw FisherDiagonal.Unreadable(path, "it is not the harvest of this model and key, or of another schema version");
        }

        var estimatorName = (string?)header["estimator"];
        if (!FisherEstimators.TryParse(estimatorName, out var estimator))
        {
            throw FisherDiagonal.Unreadable(path, $"unknown estimator '{estimatorName}'");
        }

        var batchSize = (int?)header["batchSize"];
        var temperature = (double?)header["temperature"];
        Dictionary<string, string> MetadataOf(long samples)
        {
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [FisherDiagonal.EstimatorKey] = estimator.Name(),
                [FisherDiagonal.SamplesKey] = samples.ToString(CultureInfo.InvariantCulture),
            };
            if (batchSize is { } b)
            {
                metadata[FisherDiagonal.BatchSizeKey] = b.ToString(CultureInfo.InvariantCulture);
            }

            if (temperature is { } t)
            {
                metadata[FisherDiagonal.TemperatureKey] = FisherDiagonal.FormatTemperature(t);
            }

            return metadata;
        }

        FisherDiagonal Read(string prefix, long samples, string checksum)
        {
            // Each tensor's bytes go straight into its float array (no byte copy in between).
            var parameters = new List<KeyValuePair<string, FisherParameter>>();
            Unreadable(path, () =>
            {
                SafetensorsFile.ReadEach(file, (entry, stream) =>
                {
                    if (entry.Name.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        parameters.Add(KeyValuePair.Create(entry.Name[prefix.Length..], new FisherParameter(entry.Shape, ReadFloats(path, entry, stream))));
                    }
                });
                return 0;
            });
            var fisher = FisherDiagonal.FromParameters(path, parameters, MetadataOf(samples));
            if (!fisher.Names.Any())
            {
                throw FisherDiagonal.Unreadable(path, $"it holds no tensor under '{prefix}'");
            }

            // The header survives a crash more often than the data (a file renamed into place before its data reached
            // the disk can read as zeros): the checksum written with the values tells them apart.
            return fisher.Checksum() == checksum ? fisher
                : throw FisherDiagonal.Unreadable(path, $"the values under '{prefix}' do not match the checksum written with them (a write cut short?)");
        }

        string ChecksumOf(JsonNode? item, string what) =>
            (string?)item?[ChecksumKey] is { Length: > 0 } checksum ? checksum : throw FisherDiagonal.Unreadable(path, $"{what} has no '{ChecksumKey}'");

        var labels = new List<HarvestedLabel>();
        var parts = new List<(string Prefix, string Checksum)>();
        foreach (var item in header["labels"]?.AsArray() ?? [])
        {
            var dataset = (string?)item?["dataset"] ?? throw FisherDiagonal.Unreadable(path, "a label entry has no dataset");
            var label = (int?)item!["label"] ?? throw FisherDiagonal.Unreadable(path, "a label entry has no label");
            var samples = (int?)item["samples"] ?? 0;
            var prefix = TensorPrefix(dataset, label);
            if (!names.Any(n => n.StartsWith(prefix, StringComparison.Ordinal)))
            {
                throw FisherDiagonal.Unreadable(path, $"it lists label {label} of '{dataset}' but holds no tensor under '{prefix}'");
            }

            var checksum = ChecksumOf(item, $"the entry of label {label} of '{dataset}'");
            parts.Add((prefix, checksum));
            labels.Add(new HarvestedLabel(dataset, label, samples, (bool?)item["own"] ?? false, (bool?)item["known"] ?? false, () => Read(prefix, samples, checksum)));
        }

        Lazy<FisherDiagonal>? known = null;
        if ((long?)header["known"]?["samples"] is { } knownSamples)
        {
            var checksum = ChecksumOf(header["known"], "the knowledge entry");
            parts.Add((KnownPrefix, checksum));
            known = new Lazy<FisherDiagonal>(() => Read(KnownPrefix, knownSamples, checksum), LazyThreadSafetyMode.ExecutionAndPublication);
        }

        return new HarvestResult
        {
            ModelId = fileModel,
            Key = fileKey,
            FilePath = Path.GetFullPath(path),
            Cached = true,
            Seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds,
            Estimator = estimator,
            Temperature = temperature,
            Labels = labels,
            KnownFisher = known,
            IsIntact = () => IsIntact(file, parts),
        };
    }

    // Whether every diagonal of a harvest file whose header was read matches the checksum the header records, checked
    // on the raw bytes (no conversion, about 3 ms for a 10 MB file). False when the file changed or cannot be read.
    private static bool IsIntact(SafetensorsHeader file, IReadOnlyList<(string Prefix, string Checksum)> parts)
    {
        try
        {
            using var stream = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            if (stream.Length != file.FileLength)
            {
                return false;
            }

            var buffer = Array.Empty<byte>();
            foreach (var (prefix, checksum) in parts)
            {
                // The part's tensors in ordinal name order, as FisherDiagonal.Checksum hashes them.
                var hash = new Lineage.Hashing.XxHash64();
                foreach (var entry in file.Entries.Where(e => e.Name.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(e => e.Name[prefix.Length..], StringComparer.Ordinal))
                {
                    var length = checked((int)(entry.End - entry.Begin));
                    if (buffer.Length < length)
                    {
                        buffer = new byte[length];
                    }

                    stream.Position = file.DataStart + entry.Begin;
                    stream.ReadExactly(buffer, 0, length);
                    FisherDiagonal.AppendToChecksum(hash, entry.Name[prefix.Length..], entry.Shape, buffer.AsSpan(0, length));
                }

                if (hash.CurrentHex != checksum)
                {
                    return false;
                }
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OverflowException)
        {
            return false;
        }
    }

    // Reads part of a harvest file (the header, validated whole, or tensors), with checkpoint errors reported as an
    // unreadable Fisher file. The values are checked by FisherDiagonal.FromParameters (finite and non-negative), so the
    // generic finiteness scan is skipped.
    private static T Unreadable<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (EngineException ex) when (ex.Code != Lineage.Diagnostics.DiagnosticCatalogue.FisherFileUnreadable.Code)
        {
            throw EngineException.At(Lineage.Diagnostics.DiagnosticCatalogue.FisherFileUnreadable, new Lineage.Diagnostics.SourceLocation(path), ex, path, ex.Diagnostic.Message);
        }
    }

    // One F32 tensor's values, read from the stream positioned at its first byte.
    private static float[] ReadFloats(string path, SafetensorsEntry entry, Stream stream)
    {
        if (entry.DType != SafetensorsDType.F32)
        {
            throw FisherDiagonal.Unreadable(path, $"the tensor '{entry.Name}' is {entry.DType}, not F32");
        }

        var values = new float[checked((int)((entry.End - entry.Begin) / sizeof(float)))];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan());
        stream.ReadExactly(bytes);
        if (!BitConverter.IsLittleEndian)
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * sizeof(float), sizeof(float)));
            }
        }

        return values;
    }

    internal static string TensorPrefix(string dataset, int label) => $"{dataset}/{label.ToString(CultureInfo.InvariantCulture)}/";

    /// <summary>FUL4084 at a cache file that could not be written (<paramref name="inner"/> says why): the folder is not
    /// writable, something else is in the way, or another process holds the index's lock past the wait.</summary>
    /// <summary>FUL4084 for the cache file (or, with <paramref name="isFolder"/>, folder) at <paramref name="path"/>.</summary>
    public static EngineException NotWritable(string path, Exception inner, bool isFolder = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(inner);
        // A file where one of the cache's folders belongs (the model's, its plans', or the harvest folder) is what to move: it
        // is named, not the file that could not be made below it (found in QA: "'…/digits-base/14e5….safetensors' cannot be
        // written: The file '…/digits-base' already exists").
        if (Lineage.IO.RegularFile.FileAtOrAbove(isFolder ? path : Path.GetDirectoryName(path)!) is { } inTheWay)
        {
            return EngineException.At(Lineage.Diagnostics.DiagnosticCatalogue.HarvestCacheNotWritable, new Lineage.Diagnostics.SourceLocation(inTheWay), inner, inTheWay,
                "it is a file where the cache needs a folder");
        }

        return EngineException.At(Lineage.Diagnostics.DiagnosticCatalogue.HarvestCacheNotWritable, new Lineage.Diagnostics.SourceLocation(path), inner, path,
            inner is EngineException engine ? engine.Reason ?? engine.InnerException?.Message.TrimEnd('.') ?? EngineException.FirstLine(engine.Diagnostic.Message)
                : WithoutPath(inner.Message.TrimEnd('.')));
    }

    // .NET's Unix I/O messages end in " : '<path>'", which the diagnostic already names.
    private static string WithoutPath(string message) =>
        message.LastIndexOf(" : '", StringComparison.Ordinal) is var at and > 0 && message.EndsWith('\'') ? message[..at] : message;

    /// <summary>Writes the harvest file and its index entry; removes the entries and files it supersedes.</summary>
    internal static string Store(string outputDirectory, HarvestResult result, HarvestIndexEntry entry, IReadOnlyDictionary<string, string> settings)
    {
        var directory = DirectoryOf(outputDirectory, result.ModelId);
        Directory.CreateDirectory(directory);
        var path = PathOf(outputDirectory, result.ModelId, result.Key);
        var header = new JsonObject
        {
            ["schemaVersion"] = SchemaVersion,
            ["model"] = result.ModelId,
            ["key"] = result.Key,
            ["estimator"] = result.Estimator.Name(),
            ["batchSize"] = result.Labels.FirstOrDefault()?.Fisher.BatchSize,
            ["temperature"] = result.Temperature,
            ["settings"] = new JsonObject(settings.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value))),
            ["checkpointSha256"] = entry.CheckpointSha256,
            ["engineVersion"] = entry.EngineVersion,
            ["labels"] = new JsonArray([.. result.Labels.Select(l => (JsonNode)new JsonObject
            {
                ["dataset"] = l.Dataset,
                ["label"] = l.Label,
                ["samples"] = l.Samples,
                ["own"] = l.Own,
                ["known"] = l.Known,
                [ChecksumKey] = l.Fisher.Checksum(),
            })]),
        };
        var tensors = new Dictionary<string, (IReadOnlyList<long> Shape, float[] Values)>(StringComparer.Ordinal);
        if (result.KnownFisher is { } known)
        {
            header["known"] = new JsonObject { ["samples"] = known.Value.SampleCount, [ChecksumKey] = known.Value.Checksum() };
            known.Value.AddTo(tensors, KnownPrefix);
        }

        foreach (var label in result.Labels)
        {
            label.Fisher.AddTo(tensors, TensorPrefix(label.Dataset, label.Label));
        }

        // A cache: a file lost or torn by a power failure reads as a miss (no file, a bad header) or fails its checksums
        // when read (FUL4081; 'harvest' verifies and recomputes it), so no flush to disk.
        SafetensorsFile.WriteFloats(path, tensors, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [MetadataKey] = header.ToJsonString(CompactJson),
            ["producer"] = "FisherUnlearn.Tooling",
        }, durable: false);

        try
        {
            Index(outputDirectory, result.ModelId, entry);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The harvest file is written: what failed is the index (found in QA: a folder named index.json was reported as
            // the harvest file, which was there).
            throw NotWritable(Path.Combine(directory, IndexFileName), ex);
        }

        return path;
    }

    /// <summary>Lists <paramref name="entry"/> in the model's <c>index.json</c> (replacing the entry of its key) and removes
    /// the entries and files of the same settings it supersedes (an older checkpoint's).</summary>
    internal static void Index(string outputDirectory, string modelId, HarvestIndexEntry entry)
    {
        var directory = DirectoryOf(outputDirectory, modelId);
        Directory.CreateDirectory(directory);
        using (AcquireLock(directory))
        {
            var indexPath = Path.Combine(directory, IndexFileName);
            var entries = ReadIndexFile(indexPath).ToList();
            var superseded = entries.Where(e => e.Key != entry.Key && e.SettingsHash == entry.SettingsHash).ToList();
            entries.RemoveAll(e => e.Key == entry.Key || e.SettingsHash == entry.SettingsHash);
            entries.Add(entry);
            WriteIndexFile(indexPath, modelId, entries);
            foreach (var old in superseded)
            {
                TryDelete(Path.Combine(directory, old.File));
            }
        }
    }

    private static IReadOnlyList<HarvestIndexEntry> ReadIndexFile(string indexPath)
    {
        if (!File.Exists(indexPath))
        {
            return [];
        }

        try
        {
            RegularFile.Ensure(indexPath);
            var root = JsonNode.Parse(File.ReadAllText(indexPath)) as JsonObject;
            if ((int?)root?["schemaVersion"] != SchemaVersion)
            {
                return [];
            }

            var entries = new List<HarvestIndexEntry>();
            foreach (var item in root!["entries"]?.AsArray() ?? [])
            {
                if (item?.Deserialize<HarvestIndexEntry>(IndexJson) is { Key.Length: > 0, File.Length: > 0 } entry)
                {
                    entries.Add(entry);
                }
            }

            return entries;
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException or FormatException)
        {
            return []; // A damaged (or unreadable) index is rebuilt by the next harvest.
        }
    }

    private static void WriteIndexFile(string indexPath, string modelId, IEnumerable<HarvestIndexEntry> entries)
    {
        var root = new JsonObject
        {
            ["schemaVersion"] = SchemaVersion,
            ["model"] = modelId,
            ["entries"] = new JsonArray([.. entries.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => JsonSerializer.SerializeToNode(e, IndexJson))]),
        };
        AtomicFile.WriteAllText(indexPath, root.ToJsonString(IndentedJson) + "\n");
    }

    private static readonly JsonSerializerOptions IndexJson = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static readonly JsonSerializerOptions CompactJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly JsonSerializerOptions IndentedJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = true };

    /// <summary>The lock of a model's cache folder (<c>.index.lock</c>, across processes), for a short read-modify-write of
    /// a file in it: <c>index.json</c>, a plan file.</summary>
    internal static IDisposable LockModel(string outputDirectory, string modelId)
    {
        var directory = DirectoryOf(outputDirectory, modelId);
        Directory.CreateDirectory(directory);
        return AcquireLock(directory);
    }

    private static FileStream AcquireLock(string directory)
    {
        var lockPath = Path.Combine(directory, ".index.lock");
        var deadline = DateTime.UtcNow + LockTimeout;
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left behind; a later harvest or a clean of the output folder removes it.
        }
    }
}

/// <summary>One cached harvest as <c>index.json</c> lists it.</summary>
public sealed record HarvestIndexEntry
{
    public string Key { get; init; } = string.Empty;

    /// <summary>The file name, relative to the model's cache folder.</summary>
    public string File { get; init; } = string.Empty;

    /// <summary>Hash of the settings alone (estimator, batch size or temperature, cap, seed): entries of equal settings
    /// supersede each other.</summary>
    public string SettingsHash { get; init; } = string.Empty;

    public string Estimator { get; init; } = string.Empty;

    public int? BatchSize { get; init; }

    /// <summary>The temperature of <c>tempered</c>; null for the other estimators.</summary>
    public double? Temperature { get; init; }

    public int MaxSamplesPerLabel { get; init; }

    public string CheckpointSha256 { get; init; } = string.Empty;

    /// <summary>The SHA-256 of each train data file it was computed from, by path relative to the workspace: a request
    /// made after a data file was deleted finds the harvest by them (null in entries written before they were recorded).</summary>
    public IReadOnlyDictionary<string, string>? DataSha256 { get; init; }

    public string EngineVersion { get; init; } = string.Empty;

    public int Labels { get; init; }

    public long Samples { get; init; }

    /// <summary>How long computing it took.</summary>
    public double Seconds { get; init; }
}
