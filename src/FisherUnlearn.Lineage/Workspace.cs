using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Lineage;

/// <summary>Everything read from a workspace folder: settings, manifests (by id, ordinal order) and the problems found.</summary>
public sealed record Workspace
{
    public required string Root { get; init; }

    public required WorkspaceSettings Settings { get; init; }

    public required IReadOnlyDictionary<string, ModelManifest> Models { get; init; }

    public required IReadOnlyDictionary<string, DatasetManifest> Datasets { get; init; }

    public required IReadOnlyDictionary<string, RemovalManifest> Removals { get; init; }

    public required IReadOnlyList<Diagnostic> Diagnostics { get; init; }

    /// <summary>SHA-256 of each manifest's canonical content (see <c>ContentHash</c>), keyed by absolute path.</summary>
    public IReadOnlyDictionary<string, string> ManifestHashes { get; init; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    public bool HasErrors => Diagnostics.Any(d => d.IsError);

    /// <summary>Every input file a command reads and never writes, by its physical path (<see cref="IO.PhysicalPath"/>:
    /// symbolic links resolved), with what it is ("the checkpoint of model 'a'", "a data file of dataset 'mnist'"), to tell
    /// whether a file about to be written is one of them. Reads the file system; compute it once per run.</summary>
    public IReadOnlyDictionary<string, string> InputOwners()
    {
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var model in Models.Values.OrderBy(m => m.Id, StringComparer.Ordinal))
        {
            owners.TryAdd(IO.PhysicalPath.Of(model.CheckpointPath), $"the checkpoint of model '{model.Id}'");
        }

        foreach (var dataset in Datasets.Values.OrderBy(d => d.Id, StringComparer.Ordinal))
        {
            foreach (var file in new[] { dataset.Train, dataset.Test }.OfType<DatasetSplit>().SelectMany(s => s.Files))
            {
                owners.TryAdd(IO.PhysicalPath.Of(file), $"a data file of dataset '{dataset.Id}'");
            }
        }

        return owners;
    }

    public string OutputDirectory => Path.GetFullPath(Path.Combine(Root, Settings.Output));

    /// <summary>A path relative to the workspace root with forward slashes, for messages and reports.</summary>
    public string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');
}
