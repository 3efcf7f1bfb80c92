using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Harvest;

/// <summary>
/// The harvest (design.md section 2): for a model, the Fisher diagonal on the train samples of each label of each
/// dataset that the model or any of its ancestors trains on (every label of such a dataset, capped at
/// <see cref="HarvestOptions.MaxSamplesPerLabel"/> samples per label), cached as a build output keyed by the content
/// hash of everything that determines it: the checkpoint's bytes, the architecture, each dataset's manifest and train
/// files, which labels the model and its ancestors use, the estimator and its settings, and the engine version. With
/// unchanged inputs a second harvest computes nothing. The checkpoint is only read.
/// </summary>
public static class Harvester
{
    /// <summary>Bumped when the harvest's numbers or file layout change without an engine version change.</summary>
    public const string FormatVersion = "fiun-harvest/2";

    /// <summary>What takes less memory in a harvest, for FUL3025.</summary>
    public const string HarvestMemoryAdvice = "harvest one model at a time ('--parallel 1'), or from fewer samples per label ('maxSamplesPerLabel' in the parameters, or 'harvest --max-samples')";

    /// <summary>The engine's informational version, part of every key.</summary>
    public static string EngineVersion { get; } =
        typeof(Harvester).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>Harvests one model (or returns its cached harvest).</summary>
    /// <exception cref="EngineException">FUL4020 (checkpoint missing, located at the lineage manifest), checkpoint,
    /// dataset and architecture errors, FUL4080 (non-finite values), FUL4083 (anything else that failed).</exception>
    public static HarvestResult Harvest(ModelManifest model, Workspace workspace, HarvestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(workspace);
        options ??= new HarvestOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxSamplesPerLabel, 1, nameof(options.MaxSamplesPerLabel));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(options.BatchSize));
        if (options.Estimator.UsesTemperature() && !(double.IsFinite(options.Temperature) && options.Temperature > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Temperature, "The temperature must be finite and > 0.");
        }

        var started = Stopwatch.GetTimestamp();
        var inputs = options.Inputs ?? new HarvestInputs();

        EnsureCheckpoint(model, workspace);

        var datasets = Knowledge(model, workspace, options.Graph ?? LineageGraph.Build(workspace));
        if (datasets.Count == 0)
        {
            return new HarvestResult
            {
                ModelId = model.Id,
                Key = string.Empty,
                Cached = false,
                Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds,
                Estimator = options.Estimator,
                Temperature = options.Estimator.UsesTemperature() ? options.Temperature : null,
                Labels = [],
            };
        }

        var settings = Settings(options);
        var settingsHash = ContentHash.Combine([.. settings.OrderBy(s => s.Key, StringComparer.Ordinal).SelectMany(s => new[] { s.Key, s.Value })]);
        var checkpointHash = inputs.HashOf(model.CheckpointPath);
        var output = workspace.OutputDirectory;
        var key = options.Force ? Key(model, workspace, datasets, settingsHash, checkpointHash, inputs) : ResolveKey(model, workspace, datasets, settingsHash, checkpointHash, inputs);
        // Jobs running in parallel in one process may ask for the same harvest (a root's, for its descendants): one
        // computes it while the others wait, then read it from the cache.
        lock (InProcessGate(HarvestCache.PathOf(output, model.Id, key)))
        {
            return HarvestOrLoad(model, workspace, options, datasets, settings, settingsHash, checkpointHash, key, inputs, started, cancellationToken);
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, object> Gates = new(StringComparer.Ordinal);

    private static object InProcessGate(string path) => Gates.GetOrAdd(path, _ => new object());

    private static HarvestResult HarvestOrLoad(ModelManifest model, Workspace workspace, HarvestOptions options, List<DatasetKnowledge> datasets, SortedDictionary<string, string> settings,
        string settingsHash, string checkpointHash, string key, HarvestInputs inputs, long started, CancellationToken cancellationToken)
    {
        var output = workspace.OutputDirectory;
        if (!options.Force && HarvestCache.TryLoad(output, model.Id, key) is { } cached && (!options.Verify || cached.IsIntact?.Invoke() != false))
        {
            // A file the index does not list (the index deleted or damaged: found in QA) is listed again while its data
            // files are there to hash, so that a request after they are deleted still finds it (ResolveKey).
            if (!HarvestCache.ReadIndex(output, model.Id).Any(e => e.Key == key) && !datasets.SelectMany(d => d.Dataset.Train.Files).Any(RegularFile.Gone))
            {
                TryIndex(model, output, Entry(workspace, cached, datasets, options, settingsHash, checkpointHash, inputs, seconds: 0));
            }

            return cached with { Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds };
        }

        List<HarvestedLabel> labels;
        try
        {
            labels = Compute(model, datasets, options, inputs, cancellationToken);
        }
        catch (Exception ex) when (ex is not (EngineException or OperationCanceledException or OutOfMemoryException))
        {
            throw ModelFactory.OutOfMemory(model, "Harvesting", ex, HarvestMemoryAdvice)
                ?? EngineException.At(DiagnosticCatalogue.HarvestFailed, model.Location, ex, model.Id, EngineException.Summarize(ex));
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var result = new HarvestResult
        {
            ModelId = model.Id,
            Key = key,
            Cached = false,
            Seconds = seconds,
            Estimator = options.Estimator,
            Temperature = options.Estimator.UsesTemperature() ? options.Temperature : null,
            Labels = labels,
            KnownFisher = labels.Any(l => l.Known) ? new Lazy<FisherDiagonal>(FisherDiagonal.Mean(labels.Where(l => l.Known).Select(l => l.Fisher))) : null,
        };
        var entry = Entry(workspace, result, datasets, options, settingsHash, checkpointHash, inputs, seconds);
        string path;
        try
        {
            path = HarvestCache.Store(output, result, entry, settings);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw HarvestCache.NotWritable(HarvestCache.PathOf(output, model.Id, key), ex);
        }
        catch (EngineException ex) when (ex.Code == DiagnosticCatalogue.CheckpointWriteFailed.Code)
        {
            throw HarvestCache.NotWritable(HarvestCache.PathOf(output, model.Id, key), ex); // the safetensors writer's own code speaks of checkpoints
        }

        return result with { FilePath = path, Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds };
    }

    private static HarvestIndexEntry Entry(Workspace workspace, HarvestResult result, List<DatasetKnowledge> datasets, HarvestOptions options,
        string settingsHash, string checkpointHash, HarvestInputs inputs, double seconds) => new()
    {
        Key = result.Key,
        File = result.Key + ".safetensors",
        SettingsHash = settingsHash,
        Estimator = options.Estimator.Name(),
        BatchSize = options.Estimator.UsesBatchSize() ? options.BatchSize : null,
        Temperature = options.Estimator.UsesTemperature() ? options.Temperature : null,
        MaxSamplesPerLabel = options.MaxSamplesPerLabel,
        CheckpointSha256 = checkpointHash,
        DataSha256 = new SortedDictionary<string, string>(
            datasets.SelectMany(d => d.Dataset.Train.Files).Distinct(StringComparer.Ordinal).ToDictionary(workspace.Relative, inputs.HashOf, StringComparer.Ordinal), StringComparer.Ordinal),
        EngineVersion = EngineVersion,
        Labels = result.Labels.Count,
        Samples = result.SampleCount,
        Seconds = Math.Round(seconds, 3),
    };

    // The index records the data's hashes that let a request find the harvest once the train data is deleted (an erasure):
    // one that cannot be written is FUL4084, as any cache file (found in QA: a folder in its place passed as "cached", and
    // the erasure failed later).
    private static void TryIndex(ModelManifest model, string output, HarvestIndexEntry entry)
    {
        try
        {
            HarvestCache.Index(output, model.Id, entry);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw HarvestCache.NotWritable(Path.Combine(HarvestCache.DirectoryOf(output, model.Id), HarvestCache.IndexFileName), ex);
        }
    }

    /// <summary>The hash a harvest of this model with these options would be cached under (hashes the checkpoint and data
    /// files). FUL4020 when the checkpoint is missing; empty when the model has no data.</summary>
    public static string KeyOf(ModelManifest model, Workspace workspace, HarvestOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(workspace);
        options ??= new HarvestOptions();
        EnsureCheckpoint(model, workspace);

        var inputs = options.Inputs ?? new HarvestInputs();
        var datasets = Knowledge(model, workspace, options.Graph ?? LineageGraph.Build(workspace));
        if (datasets.Count == 0)
        {
            return string.Empty;
        }

        var settings = Settings(options);
        var settingsHash = ContentHash.Combine([.. settings.OrderBy(s => s.Key, StringComparer.Ordinal).SelectMany(s => new[] { s.Key, s.Value })]);
        return ResolveKey(model, workspace, datasets, settingsHash, inputs.HashOf(model.CheckpointPath), inputs);
    }

    /// <summary>
    /// The key of the model's harvest: of its inputs as they are, or, when some train data file is gone, of the cached
    /// harvest whose inputs match every file still there, with the hashes its entry recorded for the missing ones
    /// (design.md section 2: a harvest serves requests on data deleted since). Without such an entry it is the key of the
    /// inputs as they are, which no harvest has: computing it then reports the missing file (FUL4001).
    /// </summary>
    private static string ResolveKey(ModelManifest model, Workspace workspace, List<DatasetKnowledge> datasets, string settingsHash, string checkpointHash, HarvestInputs inputs)
    {
        var key = Key(model, workspace, datasets, settingsHash, checkpointHash, inputs);
        var missing = datasets.SelectMany(d => d.Dataset.Train.Files).Where(RegularFile.Gone).Select(workspace.Relative).ToHashSet(StringComparer.Ordinal);
        if (missing.Count == 0 || HarvestCache.Contains(workspace.OutputDirectory, model.Id, key))
        {
            return key;
        }

        foreach (var entry in HarvestCache.ReadIndex(workspace.OutputDirectory, model.Id))
        {
            if (entry.SettingsHash != settingsHash || entry.CheckpointSha256 != checkpointHash || entry.DataSha256 is not { } recorded || !missing.IsSubsetOf(recorded.Keys))
            {
                continue;
            }

            var recordedKey = Key(model, workspace, datasets, settingsHash, checkpointHash, inputs, file => recorded.GetValueOrDefault(workspace.Relative(file)));
            if (recordedKey == entry.Key && HarvestCache.Contains(workspace.OutputDirectory, model.Id, recordedKey))
            {
                return recordedKey;
            }
        }

        return key;
    }

    /// <summary>One dataset of a model's knowledge: which of its labels the model's own data and its whole lineage use.</summary>
    // FUL4020 at the manifest's "checkpoint" field, as run reports a missing checkpoint.
    private static void EnsureCheckpoint(ModelManifest model, Workspace workspace)
    {
        if (CheckpointPresence.Absence(model.CheckpointPath) is { } absence)
        {
            throw new EngineException(Diagnostic.Create(DiagnosticCatalogue.CheckpointNotFound, model.CheckpointLocation ?? model.Location, workspace.Relative(model.CheckpointPath), absence));
        }
    }

    internal sealed record DatasetKnowledge(DatasetManifest Dataset, SortedSet<int> Own, SortedSet<int> Known);

    internal static List<DatasetKnowledge> Knowledge(ModelManifest model, Workspace workspace, LineageGraph graph)
    {
        var byId = new SortedDictionary<string, DatasetKnowledge>(StringComparer.Ordinal);
        var lineage = new List<(ModelManifest Model, bool Own)> { (model, true) };
        if (graph.Contains(model.Id))
        {
            lineage.AddRange(graph.Ancestors(model.Id).Where(workspace.Models.ContainsKey).Select(id => (workspace.Models[id], false)));
        }

        foreach (var (member, own) in lineage)
        {
            foreach (var use in member.Data)
            {
                if (!workspace.Datasets.TryGetValue(use.Dataset, out var dataset))
                {
                    throw EngineException.Create(DiagnosticCatalogue.UnknownDataset, member.ManifestPath, use.Dataset, string.Empty);
                }

                if (!byId.TryGetValue(dataset.Id, out var knowledge))
                {
                    knowledge = new DatasetKnowledge(dataset, [], []);
                    byId[dataset.Id] = knowledge;
                }

                var labels = use.Labels ?? Enumerable.Range(0, dataset.Classes).ToList();
                knowledge.Known.UnionWith(labels);
                if (own)
                {
                    knowledge.Own.UnionWith(labels);
                }
            }
        }

        return [.. byId.Values];
    }

    private static SortedDictionary<string, string> Settings(HarvestOptions options)
    {
        var settings = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["estimator"] = options.Estimator.Name(),
            ["maxSamplesPerLabel"] = options.MaxSamplesPerLabel.ToString(CultureInfo.InvariantCulture),
            ["sampleSeed"] = options.SampleSeed.ToString(CultureInfo.InvariantCulture),
            ["split"] = "train",
        };
        if (options.Estimator.UsesBatchSize())
        {
            settings["batchSize"] = options.BatchSize.ToString(CultureInfo.InvariantCulture);
        }

        if (options.Estimator.UsesTemperature())
        {
            settings["temperature"] = FisherDiagonal.FormatTemperature(options.Temperature);
        }

        return settings;
    }

    // missingHash: the hash to take for a train data file that is gone (null: the file counts as missing).
    private static string Key(ModelManifest model, Workspace workspace, List<DatasetKnowledge> datasets, string settingsHash, string checkpointHash, HarvestInputs inputs,
        Func<string, string?>? missingHash = null)
    {
        var parts = new List<string>
        {
            FormatVersion,
            EngineVersion,
            model.Id,
            model.Architecture.ToString(),
            checkpointHash,
            settingsHash,
        };
        if (model.Architecture.Kind == ArchitectureSpec.Custom && model.Architecture.Assembly is { } assembly)
        {
            parts.AddRange(ModuleAssemblyFiles.Of(Path.Combine(model.ManifestDirectory, assembly)).Select(path => File.Exists(path) ? inputs.HashOf(path) : "missing:" + assembly));
        }

        foreach (var knowledge in datasets)
        {
            var dataset = knowledge.Dataset;
            parts.Add("dataset:" + dataset.Id);
            parts.Add(DatasetContent.Of(dataset));
            foreach (var file in dataset.Train.Files)
            {
                parts.Add(RegularFile.Gone(file) ? missingHash?.Invoke(file) ?? "missing:" + file : HashOfData(dataset, file, inputs));
            }

            parts.Add("own:" + string.Join(',', knowledge.Own));
            parts.Add("known:" + string.Join(',', knowledge.Known));
        }

        return ContentHash.Combine([.. parts]);
    }

    // A file that is there but no file (a folder in its place) is a wrong path, not data deleted since the harvest: FUL4001
    // where the manifest names it, as the loader says it.
    private static string HashOfData(DatasetManifest dataset, string file, HarvestInputs inputs)
    {
        EngineException.ThrowIfDataMissing(file, dataset.Train);
        return inputs.HashOf(file);
    }

    private static List<HarvestedLabel> Compute(ModelManifest model, List<DatasetKnowledge> datasets, HarvestOptions options, HarvestInputs inputs, CancellationToken cancellationToken)
    {
        using var module = ModelFactory.Load(model);
        var fisherOptions = new FisherOptions { Estimator = options.Estimator, BatchSize = options.BatchSize, Temperature = options.Temperature };
        var parts = new List<(DatasetKnowledge Knowledge, int Label, DataSplit Samples)>();
        foreach (var knowledge in datasets)
        {
            for (var label = 0; label < knowledge.Dataset.Classes; label++)
            {
                var samples = inputs.TrainSamples(knowledge.Dataset, label, options.MaxSamplesPerLabel, options.SampleSeed);
                if (samples.Count > 0)
                {
                    parts.Add((knowledge, label, samples));
                }
            }
        }

        if (parts.Count == 0 && datasets.Count > 0)
        {
            // Datasets named, but their train splits hold no sample (an IDX pair of count 0, a CSV of a header row): as
            // train says, not "trains on no dataset" and an empty harvest that a run then cannot use.
            throw EngineException.Create(DiagnosticCatalogue.TrainingNoData, model.ManifestPath, model.Id,
                $"the train split of {string.Join(", ", datasets.Select(d => $"'{d.Dataset.Id}'"))} holds no sample");
        }

        if (parts.Count > 0)
        {
            ArchitectureFit.Check(module, model, parts[0].Samples); // FUL4068 rather than a libtorch error mid-pass
        }

        // One Fisher pass per label, with the model set up once for all of them.
        var fishers = FisherCalculator.ComputeEach(module, [.. parts.Select(p => p.Samples)], fisherOptions, cancellationToken);
        var labels = new List<HarvestedLabel>();
        foreach (var ((knowledge, label, samples), fisher) in parts.Zip(fishers))
        {
            var (invalid, first) = fisher.CountInvalid();
            if (invalid > 0)
            {
                throw EngineException.Create(DiagnosticCatalogue.FisherNonFinite, model.CheckpointPath, model.Id,
                    $"label {label} of '{knowledge.Dataset.Id}'", invalid, first);
            }

            labels.Add(new HarvestedLabel(knowledge.Dataset.Id, label, samples.Count, knowledge.Own.Contains(label), knowledge.Known.Contains(label), fisher));
        }

        return labels;
    }
}
