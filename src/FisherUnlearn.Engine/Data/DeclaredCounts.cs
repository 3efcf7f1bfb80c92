using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Data;

/// <summary>
/// The splits whose manifest declares a <c>count</c> (which <c>validate</c> checks sample indices against without reading
/// the data), checked against their files before any model starts: a wrong one is the manifest's error, FUL4011 at the
/// count, not a failure of every job that reads the split (QA: "❌ 4 of 4 models failed", exit 1).
/// </summary>
public static class DeclaredCounts
{
    /// <summary>Loads every split with a declared count of the datasets that <paramref name="modelIds"/> and their ancestors
    /// train on (and their test splits, which the metrics read); throws the loader's FUL4011 for the first that differs.
    /// Splits without a declared count are not read here.</summary>
    public static void Check(Workspace workspace, LineageGraph graph, IEnumerable<string> modelIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(modelIds);
        var datasets = modelIds.SelectMany(id => graph.Ancestors(id).Append(id)).Distinct(StringComparer.Ordinal)
            .Where(workspace.Models.ContainsKey)
            .SelectMany(id => workspace.Models[id].Data.Select(d => d.Dataset))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Where(workspace.Datasets.ContainsKey)
            .Select(id => workspace.Datasets[id]);
        foreach (var dataset in datasets)
        {
            foreach (var split in new[] { "train", "test" })
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (dataset.GetSplit(split) is { Count: not null })
                {
                    DatasetLoader.Load(dataset, split);
                }
            }
        }
    }
}
