using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Lineage.Planning;

/// <summary>
/// Everything one affected model's unlearning output for a removal depends on: the removal manifest, the workspace's
/// <c>unlearn.json</c>, the model's manifest and checkpoint, every ancestor's manifest and checkpoint (the labels a model
/// knows come from its whole lineage, the roots' importance may be used, and <c>retrain</c> redoes ancestors or starts from
/// their checkpoints), and the manifests and data files of the datasets of its whole lineage. The one definition behind
/// the tool's job key (FisherUnlearn.Engine's <c>JobKey</c> hashes it) and MSBuild's Inputs (FisherUnlearn.Build), so the
/// two never disagree about what is stale.
/// </summary>
/// <param name="Ancestors">Every ancestor, in ordinal id order.</param>
/// <param name="DatasetIds">The datasets the lineage names, in ordinal order (also those the workspace lacks).</param>
/// <param name="Datasets">Those of <paramref name="DatasetIds"/> the workspace has.</param>
public sealed record JobInputs(RemovalManifest Removal, string? SettingsPath, ModelManifest Model, IReadOnlyList<ModelManifest> Ancestors,
    IReadOnlyList<string> DatasetIds, IReadOnlyDictionary<string, DatasetManifest> Datasets)
{
    public static JobInputs Of(Workspace workspace, LineageGraph graph, RemovalManifest removal, string modelId)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(removal);
        var model = workspace.Models[modelId];
        var ancestors = graph.Ancestors(modelId).Where(workspace.Models.ContainsKey).Order(StringComparer.Ordinal).Select(id => workspace.Models[id]).ToList();
        var ids = ancestors.Append(model).SelectMany(m => m.Data).Select(d => d.Dataset).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var datasets = ids.Where(workspace.Datasets.ContainsKey).ToDictionary(id => id, id => workspace.Datasets[id], StringComparer.Ordinal);
        return new JobInputs(removal, workspace.Settings.SettingsPath, model, ancestors, ids, datasets);
    }

    /// <summary>The model and its ancestors.</summary>
    public IEnumerable<ModelManifest> Lineage => Ancestors.Append(Model);

    /// <summary>The data files of a dataset: its train and test splits'.</summary>
    public static IEnumerable<string> DataFiles(DatasetManifest dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return new[] { dataset.Train, dataset.Test }.OfType<DatasetSplit>().SelectMany(s => s.Files);
    }

    /// <summary>Every file this depends on (some may not exist).</summary>
    public IEnumerable<string> Files()
    {
        yield return Removal.ManifestPath;
        if (SettingsPath is not null)
        {
            yield return SettingsPath;
        }

        foreach (var model in Lineage)
        {
            yield return model.ManifestPath;
            yield return model.CheckpointPath;
        }

        foreach (var dataset in Datasets.Values)
        {
            yield return dataset.ManifestPath;
            foreach (var file in DataFiles(dataset))
            {
                yield return file;
            }
        }
    }
}
