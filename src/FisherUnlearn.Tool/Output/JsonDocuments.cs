using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Tool.Cli;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Output;

/// <summary>The documents <c>--json</c> prints (design.md section 4). Each has a top-level <c>schemaVersion</c>;
/// field names are part of the public contract.</summary>
internal static class JsonDocuments
{
    public const int SchemaVersion = 1;

    public static JObject Validation(WorkspaceAnalysis analysis, CliContext context) => new()
    {
        ["schemaVersion"] = SchemaVersion,
        ["valid"] = !analysis.HasErrors,
        ["models"] = analysis.Workspace.Models.Count,
        ["datasets"] = analysis.Workspace.Datasets.Count,
        ["removals"] = analysis.Workspace.Removals.Count,
        ["diagnostics"] = Diagnostics(analysis.Diagnostics, context),
    };

    public static JArray Diagnostics(IEnumerable<Diagnostic> diagnostics, CliContext context) =>
        new(diagnostics.Select(d => new JObject
        {
            ["code"] = d.Code,
            ["severity"] = d.Severity.ToString().ToLowerInvariant(),
            ["message"] = d.Message,
            ["file"] = d.Location.File.Length == 0 ? null : context.Display(d.Location.File),
            ["line"] = d.Location.Line,
            ["column"] = d.Location.Column,
        }));

    public static JObject Plan(RemovalPlan plan) => new()
    {
        ["schemaVersion"] = SchemaVersion,
        ["removal"] = plan.RemovalId,
        ["roots"] = new JArray(plan.Roots),
        ["affected"] = new JArray(plan.Affected.Select(a => new JObject
        {
            ["id"] = a.Id,
            ["role"] = a.Role == ModelRole.Root ? "root" : "descendant",
            ["upstreamRoots"] = new JArray(a.UpstreamRoots),
            ["path"] = new JArray(a.Path),
            ["reason"] = a.Reason,
        })),
        ["unaffected"] = new JArray(plan.Unaffected),
        ["waves"] = new JArray(plan.Waves.Select(w => new JArray(w))),
    };
}
