namespace FisherUnlearn.Lineage.Manifests;

/// <summary>The four kinds of JSON file the tool reads.</summary>
public enum ManifestKind
{
    /// <summary><c>*.lineage.json</c>: one model.</summary>
    Lineage,

    /// <summary><c>*.dataset.json</c>: one dataset.</summary>
    Dataset,

    /// <summary><c>*.removal.json</c>: one removal request.</summary>
    Removal,

    /// <summary><c>unlearn.json</c> at the workspace root.</summary>
    Settings,
}

public static class ManifestKinds
{
    public const string LineageSuffix = ".lineage.json";
    public const string DatasetSuffix = ".dataset.json";
    public const string RemovalSuffix = ".removal.json";

    /// <summary>The kind a file name implies (by suffix, or <c>unlearn.json</c>), case-sensitively; null for other files.</summary>
    public static ManifestKind? FromFileName(string path) => FromFileName(path, StringComparison.Ordinal);

    /// <summary>The kind a file name has when case is ignored: what a file named <c>a.Lineage.json</c> was meant to be.</summary>
    public static ManifestKind? FromFileNameIgnoringCase(string path) => FromFileName(path, StringComparison.OrdinalIgnoreCase);

    /// <summary>The suffix of a manifest kind (<c>.lineage.json</c>, ...); null for the settings file.</summary>
    public static string? Suffix(this ManifestKind kind) => kind switch
    {
        ManifestKind.Lineage => LineageSuffix,
        ManifestKind.Dataset => DatasetSuffix,
        ManifestKind.Removal => RemovalSuffix,
        _ => null,
    };

    private static ManifestKind? FromFileName(string path, StringComparison comparison)
    {
        var name = Path.GetFileName(path.AsSpan());
        if (name.EndsWith(LineageSuffix, comparison))
        {
            return ManifestKind.Lineage;
        }

        if (name.EndsWith(DatasetSuffix, comparison))
        {
            return ManifestKind.Dataset;
        }

        if (name.EndsWith(RemovalSuffix, comparison))
        {
            return ManifestKind.Removal;
        }

        return name.SequenceEqual(WorkspaceSettings.FileName) ? ManifestKind.Settings : null;
    }

    /// <summary>"model", "dataset", "removal" or "settings", for messages.</summary>
    public static string Noun(this ManifestKind kind) => kind switch
    {
        ManifestKind.Lineage => "model",
        ManifestKind.Dataset => "dataset",
        ManifestKind.Removal => "removal",
        _ => "settings",
    };
}
