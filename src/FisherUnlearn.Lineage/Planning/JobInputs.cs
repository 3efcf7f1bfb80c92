using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Lineage.Planning;

/// <summary>
/// Everything one affected model's unlearning output for a removal depends on: the removal manifest, the settings of the
/// workspace's <c>unlearn.json</c> that change outputs (<see cref="OutputSettings"/>: the default method and parameters,
/// not threads or parallelism), the model's manifest and checkpoint, every ancestor's manifest and checkpoint (the labels
/// a model knows come from its whole lineage, the roots' importance may be used, and <c>retrain</c> redoes ancestors or
/// starts from their checkpoints), the module assembly of every model of the lineage whose architecture is <c>custom</c>
/// (its code computes the Fisher importance, the calibration and the retrained models), and the manifests and data files
/// of the datasets of its whole lineage. The one definition behind the tool's job key (FisherUnlearn.Engine's
/// <c>JobKey</c> hashes it, counting the removal and the parameters by what they resolve to) and MSBuild's Inputs and
/// input-hash cache (FisherUnlearn.Build, which counts them by content), so the build never skips what the tool calls
/// stale.
/// </summary>
/// <param name="Settings">The workspace's settings; only <see cref="OutputSettings"/> of them count.</param>
/// <param name="Ancestors">Every ancestor, in ordinal id order.</param>
/// <param name="DatasetIds">The datasets the lineage names, in ordinal order (also those the workspace lacks).</param>
/// <param name="Datasets">Those of <paramref name="DatasetIds"/> the workspace has.</param>
public sealed record JobInputs(RemovalManifest Removal, WorkspaceSettings Settings, ModelManifest Model, IReadOnlyList<ModelManifest> Ancestors,
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
        return new JobInputs(removal, workspace.Settings, model, ancestors, ids, datasets);
    }

    /// <summary>
    /// A hash of what in <c>unlearn.json</c> changes unlearned outputs: the default <c>method</c> and the <c>parameters</c>
    /// (by their JSON values: reformatting the file or reordering them changes nothing; <c>x-</c> extensions are not read, so they do not
    /// count). Nothing else does: <c>threads</c> and <c>parallelism</c> (fiun and ssd outputs are the same bytes at any thread count;
    /// retrain's may differ in the last bits between thread counts, and either is the retrained model),
    /// <c>output</c> (where outputs go, not what they hold), <c>include</c>/<c>exclude</c> (the manifests found are counted
    /// by content) and the harvest's <c>planLabels</c>/<c>maxPlans</c> (a forget plan applies exactly the choice a request
    /// would make without it).
    /// </summary>
    public static string OutputSettings(WorkspaceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return MethodSettings("settings", settings.Method, settings.Parameters);
    }

    /// <summary>What the removal asks to forget, and the forget accuracy a label request aims at (a calibration target when
    /// no <c>target</c> parameter is set; its default when not written, so writing 0.01 changes nothing; a sample request
    /// aims at held-out accuracy instead), not its file: its <c>reason</c>, <c>requestedAt</c>, <c>maxRetainDrop</c> (read
    /// by <c>verify</c> only) and <c>x-</c> fields change no output byte. With the removal's method settings
    /// (<see cref="RemovalSettings"/>, or as the engine resolves them) it is all of the removal an output depends on.
    /// The labels, and the samples of each dataset split, count as sets: in ascending order, the selections of one split
    /// as one (QA: <c>[7, 3]</c> for <c>[3, 7]</c>, indices reversed, or one selection split in two made every output stale
    /// and redid it, to the same weights); a request already written that way hashes as it always did.</summary>
    public static string RequestHash(RemovalManifest removal)
    {
        ArgumentNullException.ThrowIfNull(removal);
        var parts = new List<string> { "request", "labels", string.Join(',', removal.Labels.Distinct().Order().Select(Invariant)) };
        foreach (var split in removal.Samples.GroupBy(s => (s.Dataset, s.Split)).OrderBy(g => g.Key.Dataset, StringComparer.Ordinal).ThenBy(g => g.Key.Split, StringComparer.Ordinal))
        {
            parts.Add($"samples {split.Key.Dataset}/{split.Key.Split}");
            parts.Add(string.Join(',', split.SelectMany(s => s.Indices).Distinct().Order().Select(Invariant)));
        }

        parts.Add(removal.Labels.Count == 0 ? "no label target"
            : $"maxForgetAccuracy {(removal.Targets?.MaxForgetAccuracy ?? RemovalTargets.DefaultMaxForgetAccuracy).ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");
        return Hashing.ContentHash.Combine([.. parts]);
    }

    /// <summary>A hash of the removal's <c>method</c> and <c>parameters</c> as written (by their JSON values; <c>x-</c>
    /// parameters aside), as <see cref="OutputSettings"/> is of unlearn.json's: what MSBuild's input-hash cache counts of
    /// them (the tool's job key counts them as resolved, so it may find up to date what this calls changed).</summary>
    public static string RemovalSettings(RemovalManifest removal)
    {
        ArgumentNullException.ThrowIfNull(removal);
        return MethodSettings("removal settings", removal.Method, removal.Parameters);
    }

    // A method and its parameters by their JSON values, in name order, x- extensions aside.
    private static string MethodSettings(string kind, string? method, IReadOnlyDictionary<string, string> parameters)
    {
        var parts = new List<string> { kind, "method", method ?? string.Empty, "parameters" };
        foreach (var (name, value) in parameters.Where(p => !p.Key.StartsWith("x-", StringComparison.Ordinal)).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            parts.Add(name);
            parts.Add(value);
        }

        return Hashing.ContentHash.Combine([.. parts]);
    }

    private static string Invariant(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The module assemblies of the lineage's <c>custom</c> architectures with the local assemblies they reference
    /// (<see cref="IO.ModuleAssemblyFiles"/>; model id, absolute path; some may not exist), ancestors first in id order,
    /// then the model.</summary>
    public IEnumerable<(string ModelId, string Path)> Assemblies() =>
        Lineage.Where(m => m.Architecture.Kind == ArchitectureSpec.Custom && !string.IsNullOrWhiteSpace(m.Architecture.Assembly))
            .SelectMany(m => IO.ModuleAssemblyFiles.Of(System.IO.Path.Combine(m.ManifestDirectory, m.Architecture.Assembly!)).Select(path => (m.Id, path)));

    /// <summary>The model and its ancestors.</summary>
    public IEnumerable<ModelManifest> Lineage => Ancestors.Append(Model);

    /// <summary>The data files of a dataset: its train and test splits'.</summary>
    public static IEnumerable<string> DataFiles(DatasetManifest dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return new[] { dataset.Train, dataset.Test }.OfType<DatasetSplit>().SelectMany(s => s.Files);
    }

    /// <summary>The files of <see cref="Files"/> other than manifests, each with its place in the lineage (a model's
    /// checkpoint, its module assemblies, a dataset's n-th file) rather than its path: what MSBuild's input-hash cache counts
    /// as the tool's job key does, so that moving files with their paths in the manifests changes neither.</summary>
    public IEnumerable<(string Place, string Path)> Places()
    {
        foreach (var model in Lineage)
        {
            yield return ($"checkpoint {model.Id}", model.CheckpointPath);
        }

        foreach (var (id, path) in Assemblies())
        {
            yield return ($"assembly {id} {System.IO.Path.GetFileName(path)}", path);
        }

        foreach (var dataset in Datasets.Values)
        {
            var index = 0;
            foreach (var file in DataFiles(dataset))
            {
                yield return (string.Create(System.Globalization.CultureInfo.InvariantCulture, $"data {dataset.Id} {index++}"), file);
            }
        }
    }

    /// <summary>Every file this depends on as a whole (some may not exist). Not <c>unlearn.json</c> nor the removal
    /// manifest: only some of their content counts (<see cref="OutputSettings"/>, <see cref="RequestHash"/> and
    /// <see cref="RemovalSettings"/>), so a change to the rest (threads, a removal's reason) makes nothing stale.</summary>
    public IEnumerable<string> Files()
    {
        foreach (var model in Lineage)
        {
            yield return model.ManifestPath;
            yield return model.CheckpointPath;
        }

        foreach (var assembly in Assemblies().Select(a => a.Path).Distinct(StringComparer.Ordinal))
        {
            yield return assembly;
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
