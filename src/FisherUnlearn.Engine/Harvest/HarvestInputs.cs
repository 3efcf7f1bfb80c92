using System.Collections.Concurrent;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Harvest;

/// <summary>
/// What several harvests of one run share: train splits loaded once per dataset, and file hashes computed once per
/// file. Thread-safe: jobs running in parallel in one process share one.
/// </summary>
public sealed class HarvestInputs
{
    private readonly ConcurrentDictionary<string, Lazy<DataSplit>> splits = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<string>> hashes = new(StringComparer.Ordinal);

    /// <summary>The train split of the dataset (loaded on first use).</summary>
    public DataSplit Train(DatasetManifest dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return Once(splits, dataset.ManifestPath, () => DatasetLoader.Load(dataset, "train"));
    }

    /// <summary>SHA-256 of a file's bytes (computed on first use).</summary>
    public string HashOf(string path)
    {
        var full = Path.GetFullPath(path);
        return Once(hashes, full, () => ContentHash.OfFile(full));
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
