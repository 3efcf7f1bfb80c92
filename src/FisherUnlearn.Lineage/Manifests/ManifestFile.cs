using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>
/// One manifest file as read: the manifest of its <see cref="Kind"/> (set whenever the file is a JSON object with a
/// valid id, even when other fields have problems, so references to it still resolve), its content hash (set
/// whenever the JSON parsed) and the problems found in it.
/// </summary>
public sealed record ManifestFile(string Path, ManifestKind Kind)
{
    public ModelManifest? Model { get; init; }

    public DatasetManifest? Dataset { get; init; }

    public RemovalManifest? Removal { get; init; }

    public WorkspaceSettings? Settings { get; init; }

    /// <summary>SHA-256 of the canonical JSON (see <c>ContentHash</c>), or null when the file is not JSON. For lineage and
    /// dataset manifests, without extension fields (<c>x-...</c>) and <c>$schema</c>, at any depth: they change no
    /// result, so editing them leaves checkpoints and outputs up to date.</summary>
    public string? Hash { get; init; }

    public IReadOnlyList<Diagnostic> Diagnostics { get; init; } = [];

    public bool HasErrors => Diagnostics.Any(d => d.IsError);

    /// <summary>The id of the manifest read, if any.</summary>
    public string? Id => Model?.Id ?? Dataset?.Id ?? Removal?.Id;

    /// <summary>Where the manifest's id value is written (the manifests' own <c>Location</c> is the document start).</summary>
    public SourceLocation? IdLocation { get; init; }
}
