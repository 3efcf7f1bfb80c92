using FisherUnlearn.Engine.Data;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Harvest;

/// <summary>
/// What several harvests of one run share: train splits loaded once per dataset, and file hashes computed once per
/// file. Not thread-safe: one per thread (harvests are synchronous, one thread each).
/// </summary>
public sealed class HarvestInputs
{
    private readonly Dictionary<string, DataSplit> splits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> hashes = new(StringComparer.Ordinal);

    /// <summary>The train split of the dataset (loaded on first use).</summary>
    public DataSplit Train(DatasetManifest dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var key = dataset.ManifestPath;
        if (!splits.TryGetValue(key, out var split))
        {
            split = DatasetLoader.Load(dataset, "train");
            splits[key] = split;
        }

        return split;
    }

    /// <summary>SHA-256 of a file's bytes (computed on first use).</summary>
    public string HashOf(string path)
    {
        var full = Path.GetFullPath(path);
        if (!hashes.TryGetValue(full, out var hash))
        {
            hash = ContentHash.OfFile(full);
            hashes[full] = hash;
        }

        return hash;
    }

    /// <summary>Forgets a file's hash (after the file changed).</summary>
    public void Invalidate(string path) => hashes.Remove(Path.GetFullPath(path));
}
