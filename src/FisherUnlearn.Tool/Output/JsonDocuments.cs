using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Lineage.Rendering;
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

    /// <summary>The lineage picture as data (report.json's <c>lineage</c>, <c>graph --json</c>): datasets, models with
    /// their class (root, affected, unaffected, or null without a removal) and edges (parent or data).</summary>
    public static JObject Diagram(LineageDiagram diagram) => new()
    {
        ["datasets"] = new JArray(diagram.Datasets.Select(d => new JObject { ["id"] = d.Id, ["detail"] = d.Detail })),
        ["models"] = new JArray(diagram.Models.Select(d => new JObject { ["id"] = d.Id, ["detail"] = d.Detail, ["class"] = d.Class })),
        ["edges"] = new JArray(diagram.Edges.Select(e => new JObject
        {
            ["from"] = e.From,
            ["to"] = e.To,
            ["label"] = e.Label,
            ["kind"] = e.FromKind == DiagramNodeKind.Dataset ? "data" : "parent",
        })),
    };

    /// <summary>What <c>--json</c> prints when a command stops on an error before its own document: the command, its
    /// exit code and every diagnostic it reported, so stdout is one JSON document either way.</summary>
    public static JObject Failure(string? command, int exitCode, IEnumerable<Diagnostic> diagnostics, CliContext context) => new()
    {
        ["schemaVersion"] = SchemaVersion,
        ["command"] = command,
        ["exitCode"] = exitCode,
        ["diagnostics"] = Diagnostics(diagnostics, context),
    };

    public static JArray Diagnostics(IEnumerable<Diagnostic> diagnostics, CliContext context) =>
        new(diagnostics.Select(d => Diagnostic(context, d)));

    /// <summary>One diagnostic as JSON: <c>{ "code", "severity", "message", "file", "line", "column" }</c>.</summary>
    public static JObject Diagnostic(CliContext context, Diagnostic d) => new()
    {
        ["code"] = d.Code,
        ["severity"] = d.Severity.ToString().ToLowerInvariant(),
        ["message"] = context.DisplayMessage(d.Message),
        ["file"] = d.Location.File.Length == 0 ? null : context.Display(d.Location.File),
        // No position (a usage error, a whole file): null, not 0, which no editor line is (QA).
        ["line"] = d.Location.Line > 0 ? d.Location.Line : null,
        ["column"] = d.Location.Line > 0 && d.Location.Column > 0 ? d.Location.Column : null,
    };

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
