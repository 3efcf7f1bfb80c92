namespace FisherUnlearn.Lineage.Diagnostics;

/// <summary>
/// The one catalogue of FUL diagnostic codes. Ranges: 1xxx manifests and settings, 2xxx graph and plan,
/// 3xxx tool and build integration, 4xxx engine (checkpoints, datasets, compute), 5xxx verification.
/// Codes are stable: never reuse or renumber one. Messages say what to do.
/// </summary>
public static class DiagnosticCatalogue
{
    private static DiagnosticDescriptor Error(string code, string title, string message) => new(code, Severity.Error, title, message);

    private static DiagnosticDescriptor Warning(string code, string title, string message) => new(code, Severity.Warning, title, message);

    private static DiagnosticDescriptor Info(string code, string title, string message) => new(code, Severity.Info, title, message);

    // 1xxx: manifests and settings
    public static readonly DiagnosticDescriptor MalformedJson = Error("FUL1001", "Malformed JSON",
        "The file is not valid JSON: {0}. Fix the syntax at this position.");
    public static readonly DiagnosticDescriptor InvalidUtf8 = Error("FUL1002", "Invalid UTF-8",
        "The file is not valid UTF-8 (byte 0x{0:X2} at offset {1}). Save it as UTF-8.");
    public static readonly DiagnosticDescriptor NestingTooDeep = Error("FUL1003", "JSON nested too deeply",
        "The JSON is nested deeper than {0} levels. Manifests are shallow documents: flatten it.");
    public static readonly DiagnosticDescriptor DuplicateKey = Error("FUL1004", "Duplicate key",
        "The key '{0}' appears more than once in this object. Keep one.");
    public static readonly DiagnosticDescriptor UnknownField = Error("FUL1005", "Unknown field",
        "Unknown field '{0}'{1}. Remove it, or prefix it with 'x-' to keep it as an extension.");
    public static readonly DiagnosticDescriptor WrongType = Error("FUL1006", "Wrong type",
        "'{0}' must be {1}, not {2}.");
    public static readonly DiagnosticDescriptor MissingField = Error("FUL1007", "Missing field",
        "Required field '{0}' is missing. Add it.");
    public static readonly DiagnosticDescriptor UnsupportedSchemaVersion = Error("FUL1008", "Unsupported schema version",
        "schemaVersion {0} is not supported; this tool reads schemaVersion 1. Set \"schemaVersion\": 1 or update the tool.");
    public static readonly DiagnosticDescriptor InvalidId = Error("FUL1009", "Invalid id",
        "'{0}' is not a valid id: use 1 to 100 letters, digits, '.', '-' or '_', starting with a letter or digit (ids become file names).");
    public static readonly DiagnosticDescriptor DuplicateId = Error("FUL1010", "Duplicate id",
        "The {0} id '{1}' is also declared in {2}. Ids must be unique within the workspace: rename one.");
    public static readonly DiagnosticDescriptor UnknownRelation = Error("FUL1011", "Unknown relation",
        "Unknown relation '{0}'. Use one of: finetune, aggregate, transfer, distill, merge.");
    public static readonly DiagnosticDescriptor UnknownFormat = Error("FUL1012", "Unknown dataset format",
        "Unknown dataset format '{0}'. Use one of: idx, csv, safetensors.");
    public static readonly DiagnosticDescriptor InvalidArchitecture = Error("FUL1013", "Invalid architecture",
        "Invalid architecture: {0}.");
    public static readonly DiagnosticDescriptor OutOfRange = Error("FUL1014", "Value out of range",
        "'{0}' is {1}, outside {2}. Use a value in that range.");
    public static readonly DiagnosticDescriptor PathOutsideWorkspace = Error("FUL1015", "Path leaves the workspace",
        "The path '{0}' leaves the workspace. Paths are relative to the manifest's folder and must stay inside the workspace.");
    public static readonly DiagnosticDescriptor LabelOutOfRange = Error("FUL1016", "Label out of range",
        "Label {0} is outside 0..{1} (the {2} classes of {3}). Use a label the dataset has.");
    public static readonly DiagnosticDescriptor FileTooLarge = Error("FUL1017", "Manifest too large",
        "The file is {0} bytes; manifests are limited to {1} bytes. Is this really a manifest?");
    public static readonly DiagnosticDescriptor InvalidSettings = Error("FUL1018", "Invalid settings",
        "Invalid workspace settings: {0}.");
    public static readonly DiagnosticDescriptor EmptyForget = Error("FUL1019", "Nothing to forget",
        "'forget' names no labels and no samples. Add \"labels\": [...] or \"samples\": [...].");
    public static readonly DiagnosticDescriptor InvalidValue = Error("FUL1020", "Invalid value",
        "'{0}' is '{1}'. Use one of: {2}.");
    public static readonly DiagnosticDescriptor DuplicateValue = Error("FUL1021", "Duplicate value",
        "{0} lists {1} more than once. List each once.");
    public static readonly DiagnosticDescriptor EmptyValue = Error("FUL1022", "Empty value",
        "'{0}' must not be empty.");
    public static readonly DiagnosticDescriptor UnreadableFile = Error("FUL1023", "Unreadable file",
        "The file cannot be read: {0}.");

    // 2xxx: graph and plan
    public static readonly DiagnosticDescriptor UnknownParent = Error("FUL2001", "Unknown parent",
        "Parent '{0}' is not a model of this workspace{1}. Add its lineage manifest or fix the id.");
    public static readonly DiagnosticDescriptor UnknownDataset = Error("FUL2002", "Unknown dataset",
        "Dataset '{0}' is not declared in this workspace{1}. Add '{0}.dataset.json' or fix the id.");
    public static readonly DiagnosticDescriptor Cycle = Error("FUL2003", "Cycle in the lineage",
        "The lineage has a cycle: {0}. A model cannot inherit from its own descendants: remove one edge.");
    public static readonly DiagnosticDescriptor SelfParent = Error("FUL2004", "Model is its own parent",
        "Model '{0}' lists itself as a parent. Remove that entry.");
    public static readonly DiagnosticDescriptor TooFewParents = Error("FUL2005", "Too few parents",
        "Relation '{0}' combines two or more parents, but model '{1}' has {2}. Add parents or use 'finetune'.");
    public static readonly DiagnosticDescriptor RemovalNotFound = Error("FUL2006", "Removal not found",
        "No removal request '{0}' in the workspace. Known: {1}.");
    public static readonly DiagnosticDescriptor ModelNotFound = Error("FUL2007", "Model not found",
        "No model '{0}' in the workspace{1}.");
    public static readonly DiagnosticDescriptor TooManyParents = Error("FUL2008", "Too many parents",
        "Relation '{0}' takes exactly one parent, but model '{1}' has {2}. Use 'aggregate' or 'merge' to combine parents.");
    public static readonly DiagnosticDescriptor DuplicateParent = Error("FUL2009", "Duplicate parent",
        "Model '{0}' lists parent '{1}' more than once. List it once.");
    public static readonly DiagnosticDescriptor MixedRelations = Error("FUL2010", "Mixed relations",
        "Model '{0}' mixes the relations {1}; all of a model's parents must share one relation.");
    public static readonly DiagnosticDescriptor ArchitectureMismatch = Error("FUL2011", "Architecture mismatch",
        "Model '{0}' ({1}) inherits weights by '{2}' from '{3}' ({4}); the architectures must be equal. Use 'distill' across architectures.");
    public static readonly DiagnosticDescriptor NothingAffected = Info("FUL2012", "Nothing affected",
        "Removal '{0}' touches no model: no model's own data holds what it asks to forget. Nothing to do.");
    public static readonly DiagnosticDescriptor SampleOutOfRange = Error("FUL2013", "Sample index out of range",
        "Sample index {0} is outside the {1} split of '{2}' ({3} samples).");
    public static readonly DiagnosticDescriptor NoManifests = Warning("FUL2014", "No manifests",
        "No lineage, dataset or removal manifests were found under '{0}'. Check --workspace and the include globs of unlearn.json.");

    // 3xxx: tool and build integration
    public static readonly DiagnosticDescriptor ToolNotFound = Error("FUL3001", "Tool not found",
        "The dotnet-unlearn tool was not found: {0}. Run 'dotnet tool restore' (or install FisherUnlearn.Tool).");
    public static readonly DiagnosticDescriptor NativePatchAssumptionBroken = Error("FUL3002", "Native library patch not applicable",
        "Cannot patch '{0}': {1}. The TorchSharp native library no longer matches the patch's assumptions; re-check with 'objdump -T' and 'readelf -r' and update the fixup.");
    public static readonly DiagnosticDescriptor NativeLoadFailed = Error("FUL3003", "TorchSharp failed to load",
        "TorchSharp's native library failed to load: {0}.");
    public static readonly DiagnosticDescriptor WorkspaceNotFound = Error("FUL3004", "Workspace not found",
        "The workspace folder '{0}' does not exist. Pass an existing folder with --workspace.");
    public static readonly DiagnosticDescriptor UsageError = Error("FUL3005", "Usage error",
        "{0}");
    public static readonly DiagnosticDescriptor NativePatched = Info("FUL3006", "Native library patched",
        "Patched '{0}': GLIBCXX_3.4.32 is now a weak version requirement, so it loads on Debian 12 and Ubuntu 22.04.");
    public static readonly DiagnosticDescriptor OutputLocked = Error("FUL3007", "Workspace busy",
        "Another dotnet-unlearn process ({0}) is writing to '{1}'. Wait for it to finish, or remove the stale lock file if it died.");
    public static readonly DiagnosticDescriptor Cancelled = Error("FUL3008", "Cancelled",
        "Cancelled. Finished outputs were kept; run the command again to finish the job.");

    /// <summary>Every descriptor of the catalogue, for documentation and for the uniqueness test.</summary>
    public static IReadOnlyList<DiagnosticDescriptor> All { get; } =
        [.. typeof(DiagnosticCatalogue)
            .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .OrderBy(d => d.Code, StringComparer.Ordinal)];
}
