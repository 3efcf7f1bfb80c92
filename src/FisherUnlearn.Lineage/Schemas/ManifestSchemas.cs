using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Lineage.Schemas;

/// <summary>The JSON Schemas (draft 2020-12) of the four file kinds, embedded in this assembly. They describe what
/// the readers accept; rules a schema cannot express (paths staying inside the workspace, cross-file references)
/// are checked by the readers and the graph only.</summary>
public static class ManifestSchemas
{
    /// <summary>The schema's file name, such as <c>lineage.schema.json</c>.</summary>
    public static string FileName(ManifestKind kind) => kind switch
    {
        ManifestKind.Lineage => "lineage.schema.json",
        ManifestKind.Dataset => "dataset.schema.json",
        ManifestKind.Removal => "removal.schema.json",
        _ => "settings.schema.json",
    };

    /// <summary>The schema text.</summary>
    public static string Get(ManifestKind kind)
    {
        var name = "FisherUnlearn.Lineage.Schemas." + FileName(kind);
        using var stream = typeof(ManifestSchemas).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded resource '{name}' is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
