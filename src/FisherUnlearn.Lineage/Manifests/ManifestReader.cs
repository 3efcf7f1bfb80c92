using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.Json;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>
/// Reads one manifest file of any kind and checks everything that can be checked within that file (types, names,
/// ranges, paths). Cross-file rules (unknown parents or datasets, cycles) belong to the graph. Every problem is
/// reported with its position; nothing is thrown for bad input.
/// </summary>
public static class ManifestReader
{
    /// <summary>Reads a file whose kind follows from its name.</summary>
    /// <exception cref="ArgumentException">The file name is not that of a manifest.</exception>
    public static ManifestFile ReadFile(string path, string workspaceRoot) =>
        ReadFile(path, KindOf(path), workspaceRoot);

    public static ManifestFile ReadFile(string path, ManifestKind kind, string workspaceRoot)
    {
        var fullPath = Path.GetFullPath(path);
        var diagnostics = new DiagnosticBag();
        var document = JsonDocumentReader.ReadFile(fullPath, diagnostics);
        return Interpret(fullPath, kind, Path.GetFullPath(workspaceRoot), document, diagnostics);
    }

    /// <summary>Reads manifest text as if it were the file <paramref name="path"/> (tests, editors, stdin).</summary>
    public static ManifestFile Parse(string path, string json, ManifestKind kind, string workspaceRoot)
    {
        var fullPath = Path.GetFullPath(path);
        var diagnostics = new DiagnosticBag();
        var document = JsonDocumentReader.Parse(json, fullPath, diagnostics);
        return Interpret(fullPath, kind, Path.GetFullPath(workspaceRoot), document, diagnostics);
    }

    /// <summary>Reads manifest bytes (UTF-8, checked strictly) as if they were the file <paramref name="path"/>.</summary>
    public static ManifestFile Parse(string path, ReadOnlySpan<byte> utf8, ManifestKind kind, string workspaceRoot)
    {
        var fullPath = Path.GetFullPath(path);
        var diagnostics = new DiagnosticBag();
        var document = JsonDocumentReader.Parse(utf8, fullPath, diagnostics);
        return Interpret(fullPath, kind, Path.GetFullPath(workspaceRoot), document, diagnostics);
    }

    internal static ManifestKind KindOf(string path) =>
        ManifestKinds.FromFileName(path)
        ?? throw new ArgumentException(
            $"'{Path.GetFileName(path)}' is not a manifest name: use *{ManifestKinds.LineageSuffix}, *{ManifestKinds.DatasetSuffix}, *{ManifestKinds.RemovalSuffix} or {WorkspaceSettings.FileName}.",
            nameof(path));

    // What a lineage or dataset manifest says only to people and editors: extension fields and the schema reference.
    // Its hash goes into checkpoints' and outputs' input keys, so editing these must not make them stale. A removal
    // manifest keeps them (reports quote its text, and its request is hashed by what it asks: JobInputs.RequestHash);
    // unlearn.json counts by the settings read from it.
    private static bool IsAnnotation(string name) =>
        name.StartsWith(ObjectReader.ExtensionPrefix, StringComparison.Ordinal) || name == "$schema";

    private static ManifestFile Interpret(string path, ManifestKind kind, string workspaceRoot, JsonNode? document, DiagnosticBag diagnostics)
    {
        if (document is null)
        {
            return new ManifestFile(path, kind) { Diagnostics = diagnostics.Items };
        }

        var context = new ReadContext(path, workspaceRoot, diagnostics);
        var file = kind switch
        {
            ManifestKind.Lineage => new ManifestFile(path, kind) { Model = LineageManifestReader.Read(context, document) },
            ManifestKind.Dataset => new ManifestFile(path, kind) { Dataset = DatasetManifestReader.Read(context, document) },
            ManifestKind.Removal => new ManifestFile(path, kind) { Removal = RemovalManifestReader.Read(context, document) },
            _ => new ManifestFile(path, kind) { Settings = WorkspaceSettingsReader.Read(context, document) },
        };
        return file with { Hash = ContentHash.OfJson(document, kind is ManifestKind.Lineage or ManifestKind.Dataset ? IsAnnotation : null), Diagnostics = diagnostics.Items, IdLocation = context.IdLocation };
    }
}
