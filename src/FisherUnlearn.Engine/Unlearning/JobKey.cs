using FisherUnlearn.Engine.Training;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.Planning;

namespace FisherUnlearn.Engine.Unlearning;

/// <summary>
/// The content hash of everything one model's unlearning output depends on: the engine version, the effective method, and
/// the manifests (canonical) and files of <see cref="JobInputs"/> (the removal, the workspace settings, the model's and
/// every ancestor's manifest and checkpoint, the datasets of its whole lineage). Two runs with equal keys produce the same
/// output, so a rerun skips a model whose recorded key is unchanged; any change redoes exactly the models it reaches.
/// </summary>
public static class JobKey
{
    public const int FormatVersion = 4;

    public static string Compute(WorkspaceAnalysis analysis, RemovalPlan plan, string modelId, string method, FileHashCache? files = null)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentNullException.ThrowIfNull(plan);
        files ??= new FileHashCache();
        var workspace = analysis.Workspace;
        var affected = plan.Find(modelId) ?? throw new ArgumentException($"Model '{modelId}' is not affected by '{plan.RemovalId}'.", nameof(modelId));
        var inputs = JobInputs.Of(workspace, analysis.Graph, plan.Removal, modelId);
        var parts = new List<string>
        {
            $"fisherunlearn.job/{FormatVersion}",
            TrainingInputs.EngineVersion,
            method,
            plan.RemovalId,
            Hash(workspace, plan.Removal.ManifestPath, files),
            // Canonical, as every manifest: reformatting unlearn.json changes nothing.
            inputs.SettingsPath is { } settings ? Hash(workspace, settings, files) : "no settings",
            modelId,
            Hash(workspace, inputs.Model.ManifestPath, files),
            files.Hash(inputs.Model.CheckpointPath),
        };
        foreach (var ancestor in inputs.Ancestors)
        {
            parts.Add($"ancestor {ancestor.Id}{(affected.UpstreamRoots.Contains(ancestor.Id) ? " (root)" : string.Empty)}");
            parts.Add(Hash(workspace, ancestor.ManifestPath, files));
            parts.Add(files.Hash(ancestor.CheckpointPath));
        }

        foreach (var datasetId in inputs.DatasetIds)
        {
            parts.Add($"dataset {datasetId}");
            if (inputs.Datasets.TryGetValue(datasetId, out var dataset))
            {
                parts.Add(Hash(workspace, dataset.ManifestPath, files));
                parts.AddRange(JobInputs.DataFiles(dataset).Select(files.Hash));
            }
        }

        return ContentHash.Combine([.. parts]);
    }

    private static string Hash(Workspace workspace, string manifestPath, FileHashCache files) =>
        workspace.ManifestHashes.GetValueOrDefault(manifestPath) ?? files.Hash(manifestPath);
}
