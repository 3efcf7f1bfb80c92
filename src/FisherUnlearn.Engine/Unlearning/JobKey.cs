using FisherUnlearn.Engine.Harvest;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Planning;

namespace FisherUnlearn.Engine.Unlearning;

/// <summary>
/// The content hash of everything one model's unlearning output depends on: the tool's version (its informational version,
/// as in the reports: design.md, "a change to ... tool version redoes exactly what depends on it"), the effective method, and
/// <see cref="JobInputs"/>: what the removal asks to forget and the settings the method resolves from it and unlearn.json
/// (by value and with their defaults, not threads or parallelism, not the removal's reason), the model's and every
/// ancestor's content (<see cref="ModelContent"/>) and checkpoint, the module assemblies of the lineage's custom architectures, and the manifests and
/// files of the datasets of its whole lineage (manifests by canonical content, other files by their bytes). Two runs
/// with equal keys produce the same output, so a rerun skips a model whose recorded key is unchanged; any change redoes
/// exactly the models it reaches, and a change that alters no output byte (threads) redoes nothing.
/// </summary>
public static class JobKey
{
    /// <summary>Part of every key: records of another format count as stale (the first run after an upgrade redoes
    /// every output once). 3: unlearn.json by canonical content; 4: only its method and parameters, plus the lineage's
    /// custom module assemblies; 5: the head shift's margin follows the forgotten samples' spread (same inputs, other
    /// bytes); 6: the removal by what it asks (labels, samples, forget target) and the settings as the method resolves
    /// them, not the manifest's bytes; 7: the model's and its ancestors' lineage manifests by <see cref="ModelContent"/>, so
    /// moving a checkpoint or a setting training ignores makes nothing stale.</summary>
    public const int FormatVersion = 8;

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
            Harvester.EngineVersion,
            method,
            plan.RemovalId,
            JobInputs.RequestHash(plan.Removal),
            Settings(workspace, plan.Removal, method, files),
            modelId,
            ModelContent.Of(inputs.Model),
            files.Hash(inputs.Model.CheckpointPath),
        };
        foreach (var ancestor in inputs.Ancestors)
        {
            parts.Add($"ancestor {ancestor.Id}{(affected.UpstreamRoots.Contains(ancestor.Id) ? " (root)" : string.Empty)}");
            parts.Add(ModelContent.Of(ancestor));
            parts.Add(files.Hash(ancestor.CheckpointPath));
        }

        foreach (var (id, assembly) in inputs.Assemblies())
        {
            parts.Add($"assembly {id}");
            parts.Add(files.Hash(assembly));
        }

        foreach (var datasetId in inputs.DatasetIds)
        {
            parts.Add($"dataset {datasetId}");
            if (inputs.Datasets.TryGetValue(datasetId, out var dataset))
            {
                parts.Add(DatasetContent.Of(dataset));
                parts.AddRange(JobInputs.DataFiles(dataset).Select(files.Hash));
            }
        }

        return ContentHash.Combine([.. parts]);
    }

    /// <summary>
    /// The settings the method runs with (<see cref="UnlearnSettings.Describe"/>: unlearn.json's parameters, then the
    /// removal's, resolved with their defaults, only those the method reads), so a parameter written as its default, as
    /// <c>2.0</c> for <c>2</c>, or one the method does not read makes nothing stale, as threads and parallelism do not. Settings
    /// that do not resolve (no output can have been made with them) count as written.
    /// </summary>
    private static string Settings(Workspace workspace, RemovalManifest removal, string method, FileHashCache files)
    {
        try
        {
            return "settings " + UnlearnSettings.From(removal, workspace.Settings, method).Describe(forgetsSamples: removal.Samples.Count > 0).ToJsonString();
        }
        catch (EngineException)
        {
            return ContentHash.Combine("settings as written", Hash(workspace, removal.ManifestPath, files), JobInputs.OutputSettings(workspace.Settings));
        }
    }

    private static string Hash(Workspace workspace, string manifestPath, FileHashCache files) =>
        workspace.ManifestHashes.GetValueOrDefault(manifestPath) ?? files.Hash(manifestPath);
}
