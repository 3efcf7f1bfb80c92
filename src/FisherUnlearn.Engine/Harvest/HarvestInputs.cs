using System.Collections.Concurrent;
using System.Globalization;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Harvest;

/// <summary>
/// What several harvests of one run share: train splits loaded once per dataset, and file hashes computed once per
/// file. Thread-safe: jobs running in parallel in one process share one.
/// </summary>
/// <param name="loadTrain">Where train splits come from (default: loaded here, once each); a run's jobs pass their
/// <see cref="Unlearning.SplitCache"/>, so the harvest and the calibration decode each dataset once between them.</param>
/// <param name="files">Where file hashes come from (default: each file read once here); a run's jobs pass theirs, which
/// keeps hashes between commands (<see cref="FileHashStore"/>).</param>
public sealed class HarvestInputs(Func<DatasetManifest, DataSplit>? loadTrain = null, FileHashCache? files = null)
{
    private readonly ConcurrentDictionary<string, Lazy<DataSplit>> splits = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<DataSplit>> samples = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<string>> hashes = new(StringComparer.Ordinal);

    /// <summary>The train split of the dataset (loaded on first use).</summary>
    public DataSplit Train(DatasetManifest dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return loadTrain is not null ? loadTrain(dataset) : Once(splits, dataset.ManifestPath, () => DatasetLoader.Load(dataset, "train"));
    }

    /// <summary>The seeded random subset of one label's train samples that a harvest computes that label's Fisher on
    /// (drawn on first use: the models of a network harvested in one run share it).</summary>
    public DataSplit TrainSamples(DatasetManifest dataset, int label, int count, int seed)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var key = string.Create(CultureInfo.InvariantCulture, $"{dataset.ManifestPath}|{label}|{count}|{seed}");
        return Once(samples, key, () => Train(dataset).RandomSubsetOfLabel(label, count, seed));
    }

    /// <summary>SHA-256 of a file's bytes (computed on first use).</summary>
    public string HashOf(string path)
    {
        var full = Path.GetFullPath(path);
        return Once(hashes, full, () =>
        {
            EngineException.ThrowIfNotRegular(full);
            return files is not null && File.Exists(full) ? files.Hash(full) : ContentHash.OfFile(full);
        });
    }

    /// <summary>Forgets a file's hash (after the file changed).</summary>
    public void Invalidate(string path) => hashes.TryRemove(Path.GetFullPath(path), out _);

    // The value for the key, computed by one caller while concurrent callers wait for it; a failure is not kept.
    private static T Once<T>(ConcurrentDictionary<string, Lazy<T>> cache, string key, Func<T> compute)
    {
        var entry = cache.GetOrAdd(key, _ => new Lazy<T>(compute));
        try
        {
            return entry.Value;
        }
        catch
        {
            cache.TryRemove(new KeyValuePair<string, Lazy<T>>(key, entry));
            throw;
        }
    }
}
