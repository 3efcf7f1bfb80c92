using System.Collections.Concurrent;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Unlearning;

/// <summary>What one model knows of one dataset: the labels of its own data and of its whole lineage.</summary>
public sealed record DatasetKnowledge(DatasetManifest Dataset, IReadOnlySet<int> Own, IReadOnlySet<int> Known);

/// <summary>
/// What a removal asks one model to forget, per dataset, and what it must retain. Labels: the forgotten labels the model
/// knows (its own data or an ancestor's). Samples: the forgotten train samples of a dataset in the model's knowledge whose
/// label the model knows and is not forgotten as a whole. Retained labels: the known labels minus the forgotten ones.
/// </summary>
public sealed class RemovalScope
{
    private RemovalScope(string modelId, IReadOnlyList<DatasetKnowledge> knowledge, IReadOnlyDictionary<string, IReadOnlySet<int>> forgetLabels,
        IReadOnlyDictionary<string, IReadOnlySet<int>> forgetSamples)
    {
        ModelId = modelId;
        Knowledge = knowledge;
        ForgetLabels = forgetLabels;
        ForgetSamples = forgetSamples;
    }

    public string ModelId { get; }

    public IReadOnlyList<DatasetKnowledge> Knowledge { get; }

    /// <summary>Forgotten labels the model knows, by dataset id (datasets with none are absent).</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<int>> ForgetLabels { get; }

    /// <summary>Forgotten train sample indices the model knows, by dataset id (datasets with none are absent).</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<int>> ForgetSamples { get; }

    public bool HasForgetLabels => ForgetLabels.Values.Any(s => s.Count > 0);

    public bool HasForgetSamples => ForgetSamples.Values.Any(s => s.Count > 0);

    /// <summary>Known labels minus forgotten labels, of one dataset.</summary>
    public IReadOnlySet<int> RetainLabels(DatasetKnowledge knowledge) =>
        knowledge.Known.Except(ForgetLabels.GetValueOrDefault(knowledge.Dataset.Id) ?? new HashSet<int>()).ToHashSet();

    public IReadOnlySet<int> ForgetLabelsOf(string dataset) => ForgetLabels.GetValueOrDefault(dataset) ?? new HashSet<int>();

    public IReadOnlySet<int> ForgetSamplesOf(string dataset) => ForgetSamples.GetValueOrDefault(dataset) ?? new HashSet<int>();

    /// <summary>The model's knowledge per dataset (dataset id order).</summary>
    public static IReadOnlyList<DatasetKnowledge> KnowledgeOf(Workspace workspace, LineageGraph graph, string modelId)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(graph);
        var model = workspace.Models[modelId];
        var lineage = new List<(ModelManifest Model, bool Own)> { (model, true) };
        if (graph.Contains(modelId))
        {
            lineage.AddRange(graph.Ancestors(modelId).Where(workspace.Models.ContainsKey).Select(id => (workspace.Models[id], false)));
        }

        var own = new SortedDictionary<string, SortedSet<int>>(StringComparer.Ordinal);
        var known = new SortedDictionary<string, SortedSet<int>>(StringComparer.Ordinal);
        foreach (var (member, isOwn) in lineage)
        {
            foreach (var use in member.Data)
            {
                if (!workspace.Datasets.TryGetValue(use.Dataset, out var dataset))
                {
                    continue;
                }

                var labels = use.Labels ?? Enumerable.Range(0, dataset.Classes).ToList();
                Get(known, dataset.Id).UnionWith(labels);
                if (isOwn)
                {
                    Get(own, dataset.Id).UnionWith(labels);
                }
            }
        }

        return [.. known.Select(k => new DatasetKnowledge(workspace.Datasets[k.Key], own.GetValueOrDefault(k.Key) ?? [], k.Value))];

        static SortedSet<int> Get(SortedDictionary<string, SortedSet<int>> map, string key)
        {
            if (!map.TryGetValue(key, out var set))
            {
                map[key] = set = [];
            }

            return set;
        }
    }

    public static RemovalScope For(Workspace workspace, LineageGraph graph, RemovalManifest removal, string modelId)
    {
        ArgumentNullException.ThrowIfNull(removal);
        var knowledge = KnowledgeOf(workspace, graph, modelId);
        var labels = new SortedDictionary<string, IReadOnlySet<int>>(StringComparer.Ordinal);
        var samples = new SortedDictionary<string, IReadOnlySet<int>>(StringComparer.Ordinal);
        foreach (var k in knowledge)
        {
            var forgotten = removal.Labels.Where(k.Known.Contains).ToHashSet();
            if (forgotten.Count > 0)
            {
                labels[k.Dataset.Id] = forgotten;
            }

            var indices = removal.Samples.Where(s => s.Dataset == k.Dataset.Id && s.Split == "train").SelectMany(s => s.Indices).ToHashSet();
            if (indices.Count > 0)
            {
                samples[k.Dataset.Id] = indices; // Filtered by label when the split is loaded (see RemovalData).
            }
        }

        return new RemovalScope(modelId, knowledge, labels, samples);
    }
}

/// <summary>Loads dataset splits once per (dataset, split); shared by the jobs of a run, also across threads.</summary>
public sealed class SplitCache(Func<DatasetManifest, string, DataSplit>? load = null)
{
    // Thread-safe: jobs running in parallel in one process share it, and each split is loaded once.
    private readonly ConcurrentDictionary<(string, string), Lazy<DataSplit>> splits = new();
    private readonly Func<DatasetManifest, string, DataSplit> load = load ?? DatasetLoader.Load;

    public DataSplit Get(DatasetManifest dataset, string split)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var entry = splits.GetOrAdd((dataset.ManifestPath, split), _ => new Lazy<DataSplit>(() => load(dataset, split)));
        try
        {
            return entry.Value;
        }
        catch
        {
            // A failed load (a missing or damaged file) is not cached: the next caller gets the error afresh.
            splits.TryRemove(new KeyValuePair<(string, string), Lazy<DataSplit>>((dataset.ManifestPath, split), entry));
            throw;
        }
    }

    /// <summary>The split, or null when a file of it is gone (<see cref="RemovalData.DeletedFiles"/>: data deleted after
    /// the harvest that serves a request, or a link that leads nowhere); any other problem of the data, a folder in a file's
    /// place among them, is thrown as by <see cref="Get"/>.</summary>
    public DataSplit? TryGet(DatasetManifest dataset, string split)
    {
        try
        {
            return Get(dataset, split);
        }
        catch (EngineException ex) when (ex.Code == DiagnosticCatalogue.DataFileNotFound.Code && dataset.GetSplit(split) is { } files && RemovalData.Deleted(files))
        {
            return null;
        }
    }
}

/// <summary>The concrete sample sets of a <see cref="RemovalScope"/> (seeded subsets, one list entry per dataset).</summary>
public static class RemovalData
{
    /// <summary>Train samples to forget: the forgotten labels' train samples (at most <paramref name="maxPerLabel"/> per
    /// label, seeded) and the forgotten train samples whose label the model knows (and keeps), unless
    /// <paramref name="labelsOnly"/>.</summary>
    public static List<DataSplit> ForgetTrain(RemovalScope scope, SplitCache cache, int maxPerLabel, int seed, bool labelsOnly = false)
    {
        var parts = new List<DataSplit>();
        foreach (var k in scope.Knowledge)
        {
            var train = cache.Get(k.Dataset, "train");
            foreach (var label in scope.ForgetLabelsOf(k.Dataset.Id).Order())
            {
                Add(parts, train.RandomSubsetOfLabel(label, maxPerLabel, seed + label));
            }

            if (!labelsOnly)
            {
                Add(parts, ForgottenSamples(scope, k, train));
            }
        }

        return parts;
    }

    /// <summary>Checks the removal's sample indices against the splits they name, for the given datasets (validate
    /// cannot: a dataset manifest need not declare its size). Loads each named split once through the cache.</summary>
    /// <exception cref="EngineException">FUL2013 at the selection holding an index outside its split; or the data's
    /// own error when a split cannot be read.</exception>
    public static void CheckSampleIndices(RemovalManifest removal, IEnumerable<DatasetManifest> datasets, SplitCache cache)
    {
        ArgumentNullException.ThrowIfNull(removal);
        ArgumentNullException.ThrowIfNull(datasets);
        ArgumentNullException.ThrowIfNull(cache);
        var byId = datasets.ToDictionary(d => d.Id, StringComparer.Ordinal);
        foreach (var selection in removal.Samples.Where(s => s.Indices.Count > 0))
        {
            if (!byId.TryGetValue(selection.Dataset, out var dataset))
            {
                continue;
            }

            var count = cache.Get(dataset, selection.Split).Count;
            if (selection.Indices.Where(i => i < 0 || i >= count).Select(i => (int?)i).FirstOrDefault() is { } outside)
            {
                throw EngineException.At(DiagnosticCatalogue.SampleOutOfRange, selection.Location, null, outside, selection.Split, selection.Dataset, count);
            }
        }
    }

    /// <summary>True when the removal forgets only samples and none of them is one this model learned: their labels are
    /// all outside what it knows (the planner marks such a model conservatively, since it cannot read labels).</summary>
    public static bool NothingToForget(RemovalScope scope, SplitCache cache)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(cache);
        return !scope.HasForgetLabels
            && scope.Knowledge.Where(k => scope.ForgetSamplesOf(k.Dataset.Id).Count > 0).All(k => ForgottenSamples(scope, k, cache.Get(k.Dataset, "train")).Count == 0);
    }

    /// <summary>The forgotten train samples of one dataset that the model knows (label known, not forgotten as a label).</summary>
    public static DataSplit ForgottenSamples(RemovalScope scope, DatasetKnowledge k, DataSplit train)
    {
        var indices = scope.ForgetSamplesOf(k.Dataset.Id);
        var retain = scope.RetainLabels(k);
        return indices.Count == 0 ? train.Select([]) : train.WhereSourceIndexIn(indices).WhereLabelIn(retain);
    }

    /// <summary>Train samples to retain: the retained labels' train samples minus the forgotten samples (at most
    /// <paramref name="maxPerLabel"/> per label, seeded).</summary>
    public static List<DataSplit> RetainTrain(RemovalScope scope, SplitCache cache, int maxPerLabel, int seed)
    {
        var parts = new List<DataSplit>();
        foreach (var k in scope.Knowledge)
        {
            var train = cache.Get(k.Dataset, "train");
            var forgotten = scope.ForgetSamplesOf(k.Dataset.Id);
            var kept = forgotten.Count == 0 ? train : train.WhereSourceIndexNotIn(forgotten);
            foreach (var label in scope.RetainLabels(k).Order())
            {
                Add(parts, kept.RandomSubsetOfLabel(label, maxPerLabel, seed + label));
            }
        }

        return parts;
    }

    /// <summary>True when a file of the split is no longer there (<see cref="DeletedFiles"/>) and none is a folder: a folder
    /// in a file's place is a wrong path, FUL4001 when the split is read, whatever else is gone.</summary>
    public static bool Deleted(DatasetSplit split) => DeletedFiles(split).Count > 0 && !split.Files.Any(Directory.Exists);

    /// <summary>The files of the split that are no longer there: deleted after the harvest that serves a request, or links
    /// that lead nowhere (content not fetched). A damaged file is not "deleted", nor is a folder in a file's place: reading
    /// it reports what is wrong.</summary>
    public static IReadOnlyList<string> DeletedFiles(DatasetSplit split)
    {
        ArgumentNullException.ThrowIfNull(split);
        return [.. split.Files.Where(Lineage.IO.RegularFile.Gone)];
    }

    /// <summary>Held-out (test split) samples of the given labels of each dataset, at most <paramref name="maxPerLabel"/> per label.</summary>
    public static List<DataSplit> Test(RemovalScope scope, SplitCache cache, Func<DatasetKnowledge, IEnumerable<int>> labels, int maxPerLabel, int seed)
    {
        var parts = new List<DataSplit>();
        foreach (var k in scope.Knowledge)
        {
            if (k.Dataset.Test is null)
            {
                continue;
            }

            var test = cache.Get(k.Dataset, "test");
            foreach (var label in labels(k).Order())
            {
                Add(parts, test.RandomSubsetOfLabel(label, maxPerLabel, seed + label));
            }
        }

        return parts;
    }

    private static void Add(List<DataSplit> parts, DataSplit split)
    {
        if (split.Count > 0)
        {
            parts.Add(split);
        }
    }
}
