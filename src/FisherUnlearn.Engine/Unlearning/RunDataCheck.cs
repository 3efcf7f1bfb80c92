using FisherUnlearn.Engine.Data;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Unlearning;

/// <summary>
/// The data a run's jobs will read, read once before any model starts: a file that cannot be read (a wrong IDX magic, a
/// short file, a label out of range, a missing test file, a folder where a file belongs) or a declared <c>count</c> it
/// does not hold is the input's error, with its FUL code at the file or at the manifest's line, said once (exit 2), not a
/// failure of every job that reads it (QA: "failed: clinic-north (FUL4002)" for every model, exit 1, where train,
/// harvest and verify exit 2).
/// </summary>
/// <remarks>
/// Every job measures its model before and after, so it reads each test split of the datasets its model and its ancestors
/// train on (the accuracies) and each of their train splits (the membership-inference attack; the harvest too, when it is
/// not cached): those are the splits read here. A train split with a file gone (deleted, or a link that leads nowhere) is
/// left to the jobs: the cached harvest and forget plans serve a label request without it (FUL5008), and a job that needs
/// it says which file is missing (FUL4001). Read through the run's <see cref="SplitCache"/>, the splits are decoded once
/// for jobs that run in this process. A sample request's indices are checked against the splits they name first (FUL2013
/// at the selection): validate and plan read no data, so this is where an index outside its split is found. A run with
/// nothing to do reads no data: its outputs' job keys cover the removal and the data files, so their run checked the same
/// indices against the same files.
/// </remarks>
public static class RunDataCheck
{
    /// <summary>Checks <paramref name="removal"/>'s sample indices, then loads the splits that the jobs of
    /// <paramref name="modelIds"/> will read (see the remarks) through <paramref name="cache"/>; throws the error of the
    /// first index outside its split or of the first split that cannot be read.</summary>
    /// <exception cref="EngineException">FUL2013, the data's error (FUL4001 to FUL4011), or FUL4075.</exception>
    public static void Check(Workspace workspace, LineageGraph graph, RemovalManifest removal, IEnumerable<string> modelIds, SplitCache cache,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(removal);
        ArgumentNullException.ThrowIfNull(modelIds);
        ArgumentNullException.ThrowIfNull(cache);
        RemovalData.CheckSampleIndices(removal, workspace.Datasets.Values, cache);
        // The jobs' own selection (RemovalScope.KnowledgeOf), so the check reads exactly the datasets they will.
        var lineages = modelIds.Where(workspace.Models.ContainsKey).Order(StringComparer.Ordinal)
            .ToDictionary(id => id, id => RemovalScope.KnowledgeOf(workspace, graph, id), StringComparer.Ordinal);
        var datasets = lineages.Values.SelectMany(k => k).Select(k => k.Dataset)
            .DistinctBy(d => d.Id, StringComparer.Ordinal).OrderBy(d => d.Id, StringComparer.Ordinal);
        var read = new Dictionary<(string, string), DataSplit>();
        foreach (var dataset in datasets)
        {
            foreach (var split in new[] { "train", "test" })
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (dataset.GetSplit(split) is { } files && !(split == "train" && RemovalData.Deleted(files)))
                {
                    read[(dataset.Id, split)] = cache.Get(dataset, split);
                }
            }
        }

        // Each lineage's splits are evaluated together (SampleStack): ones that do not fit are the data's error too, said
        // before any model starts (FUL4075), not after a job spent its Fisher passes.
        foreach (var (id, knowledge) in lineages)
        {
            SampleStack.CheckLineage(workspace.Models[id], knowledge.SelectMany(k => new[] { "train", "test" }.Select(split => read.GetValueOrDefault((k.Dataset.Id, split))))
                .OfType<DataSplit>());
        }
    }
}
