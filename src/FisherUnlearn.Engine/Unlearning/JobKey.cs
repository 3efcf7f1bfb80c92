using FisherUnlearn.Engine.Training;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.Planning;

namespace FisherUnlearn.Engine.Unlearning;

/// <summary>
/// The content hash of everything one model's unlearning output depends on: the engine version, the effective method,
/// the removal manifest (what to forget, method, parameters), the workspace settings, the model's manifest and
/// checkpoint, each ancestor's manifest and checkpoint (the labels a model knows come from its whole lineage, the roots'
/// importance may be used, and <c>retrain</c> redoes ancestors from their recipes or starts from their checkpoints), and
/// the dataset manifests and files of its whole lineage (harvest and calibration read them). Two runs with equal keys produce the same output,
/// so a rerun skips a model whose recorded key is unchanged; any change redoes exactly the models it reaches.
/// </summary>
public static class JobKey
{
    public const int FormatVersion = 3;

    public static string Compute(WorkspaceAnalysis analysis, RemovalPlan plan, string modelId, string method, FileHashCache? files = null)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentNullException.ThrowIfNull(plan);
        files ??= new FileHashCache();
        var workspace = analysis.Workspace;
        var model = workspace.Models[modelId];
        var affected = plan.Find(modelId) ?? throw new ArgumentException($"Model '{modelId}' is not affected by '{plan.RemovalId}'.", nameof(modelId));
        var parts = new List<string>
        {
            $"fisherunlearn.job/{FormatVersion}",
            TrainingInputs.EngineVersion,
            method,
            plan.RemovalId,
            Hash(workspace, plan.Removal.ManifestPath, files),
            // Canonical, as every manifest: reformatting unlearn.json changes nothing.
            workspace.Settings.SettingsPath is { } settings ? Hash(workspace, settings, files) : "no settings",
            modelId,
            Hash(workspace, model.ManifestPath, files),
            files.Hash(model.CheckpointPath),
        };
        var ancestors = analysis.Graph.Ancestors(modelId).Order(StringComparer.Ordinal).ToList();
        foreach (var ancestor in ancestors.Select(id => workspace.Models[id]))
        {
            parts.Add($"ancestor {ancestor.Id}{(affected.UpstreamRoots.Contains(ancestor.Id) ? " (root)" : string.Empty)}");
            parts.Add(Hash(workspace, ancestor.ManifestPath, files));
            parts.Add(files.Hash(ancestor.CheckpointPath));
        }

        var lineage = ancestors.Append(modelId);
        foreach (var datasetId in lineage.SelectMany(id => workspace.Models[id].Data).Select(d => d.Dataset).Distinct().Order(StringComparer.Ordinal))
        {
            parts.Add($"dataset {datasetId}");
            if (workspace.Datasets.TryGetValue(datasetId, out var dataset))
            {
                parts.Add(Hash(workspace, dataset.ManifestPath, files));
                parts.AddRange(new[] { dataset.Train, dataset.Test }.OfType<Lineage.Manifests.DatasetSplit>().SelectMany(s => s.Files).Select(files.Hash));
            }
        }

        return ContentHash.Combine([.. parts]);
    }

    private static string Hash(Workspace workspace, string manifestPath, FileHashCache files) =>
        workspace.ManifestHashes.GetValueOrDefault(manifestPath) ?? files.Hash(manifestPath);
}
