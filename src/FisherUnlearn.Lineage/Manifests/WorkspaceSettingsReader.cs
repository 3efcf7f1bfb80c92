using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Lineage.Json;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>Reads <c>unlearn.json</c>. Every field is optional; a bad field keeps its default.</summary>
internal static class WorkspaceSettingsReader
{
    public static readonly string[] Fields = ["$schema", "schemaVersion", "include", "exclude", "output", "method", "parameters", "parallelism", "threads", "planLabels", "maxPlans"];

    /// <summary>Bounds of <c>planLabels</c> and <c>maxPlans</c> (a model's plans grow combinatorially with the first).</summary>
    public const int MaxPlanLabels = WorkspaceSettings.PlanLabelsLimit;
    public const int MaxPlansLimit = WorkspaceSettings.MaxPlansLimit;

    public static WorkspaceSettings? Read(ReadContext context, JsonNode document)
    {
        if (CommonFields.Root(context, document) is not { } root || !CommonFields.SchemaVersion(root, required: false))
        {
            return null;
        }

        var defaults = new WorkspaceSettings();
        var include = ReadGlobs(root, "include");
        if (root.Object["include"] is JsonArray { Count: 0 } includeNode)
        {
            // Nothing would be discovered: surely not what was meant.
            context.Report(DiagnosticCatalogue.EmptyValue, includeNode, "include");
        }

        if (include is { Count: 0 })
        {
            include = null;
        }

        var exclude = ReadGlobs(root, "exclude");
        string? output = null;
        if (root.Optional("output") is { } outputNode && context.AsString(outputNode, "output") is { } text)
        {
            if (WorkspacePaths.Unusable(text) is { } why)
            {
                context.Report(DiagnosticCatalogue.UnusablePath, outputNode, "output", why);
            }
            else if (WorkspacePaths.Resolve(context.WorkspaceRoot, context.WorkspaceRoot, text) is not { } resolved)
            {
                context.Report(DiagnosticCatalogue.PathOutsideWorkspace, outputNode, text);
            }
            else if (RegularFile.FileAtOrAbove(resolved, context.WorkspaceRoot) is { } file)
            {
                // Every command that writes would fail on it later, naming a path below it ("Could not find a part of the
                // path"; QA: also for a folder to be made under a file, and harvest then said so once per model).
                context.Report(DiagnosticCatalogue.OutputIsAFile, outputNode, text,
                    file == resolved ? ", which is a file" : $", but '{Path.GetRelativePath(context.WorkspaceRoot, file).Replace('\\', '/')}' is a file, so no folder can be made there");
            }
            else
            {
                output = text.Replace('\\', '/');
            }
        }

        var (method, methodLocation) = CommonFields.Method(root);
        var parameterLocations = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        var settings = new WorkspaceSettings
        {
            Include = include ?? defaults.Include,
            Exclude = exclude ?? defaults.Exclude,
            Output = output ?? defaults.Output,
            Method = method,
            MethodLocation = methodLocation,
            Parameters = CommonFields.Parameters(root, "parameters", parameterLocations),
            ParameterLocations = parameterLocations,
            Parallelism = root.Int("parallelism", 1, WorkspaceSettings.ParallelismLimit),
            Threads = root.Int("threads", 1, WorkspaceSettings.ThreadsLimit),
            PlanLabels = root.Int("planLabels", 1, MaxPlanLabels),
            MaxPlans = root.Int("maxPlans", 1, MaxPlansLimit),
            SettingsPath = context.File,
        };
        root.RejectUnknown(Fields);
        return settings;
    }

    /// <summary>Globs relative to the workspace root; absolute globs and '..' segments would leave it.</summary>
    private static List<string>? ReadGlobs(ObjectReader root, string field)
    {
        if (root.Array(field) is not { } array)
        {
            return null;
        }

        var context = root.Context;
        var result = new List<string>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            var node = array.Items[i];
            if (context.AsString(node, $"{field}[{i}]") is not { } glob)
            {
                continue;
            }

            var normalized = glob.Replace('\\', '/');
            if (WorkspacePaths.IsAbsolute(normalized) || normalized == ".." || normalized.StartsWith("../", StringComparison.Ordinal)
                || normalized.Contains("/../", StringComparison.Ordinal) || normalized.EndsWith("/..", StringComparison.Ordinal))
            {
                context.Report(DiagnosticCatalogue.PathOutsideWorkspace, node, glob);
                continue;
            }

            result.Add(normalized);
        }

        return result;
    }
}
