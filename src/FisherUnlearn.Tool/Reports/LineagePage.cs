using System.Text;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Lineage.Rendering;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Output;

namespace FisherUnlearn.Tool.Reports;

/// <summary>One model of a <see cref="LineagePage"/>: what it is, where it comes from, and (for a removal) its role and why.</summary>
internal sealed record LineagePageRow(
    string Id,
    string Architecture,
    string Checkpoint,
    IReadOnlyList<string> Parents,
    IReadOnlyList<string> Data,
    string? Role = null,
    string? Why = null);

/// <summary>The removal a <see cref="LineagePage"/> marks: what it forgets, its roots and the work order.</summary>
internal sealed record LineagePageRemoval(
    string Id,
    string Forget,
    string? Reason,
    IReadOnlyList<string> Roots,
    int Affected,
    int Unaffected,
    IReadOnlyList<IReadOnlyList<string>> Waves);

/// <summary>What <c>dotnet unlearn graph --format html</c> draws, as plain data (built by <see cref="From"/>).</summary>
internal sealed record LineagePageModel(string Workspace, LineageDiagram Diagram, IReadOnlyList<LineagePageRow> Models, LineagePageRemoval? Removal)
{
    public string ToolVersion { get; init; } = CliApp.Version;

    public static LineagePageModel From(Workspace workspace, RemovalPlan? plan)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        var diagram = LineageDiagram.From(workspace, plan is null ? GraphHighlight.None : GraphHighlight.Of(plan));
        var rows = new List<LineagePageRow>();
        foreach (var node in diagram.Models)
        {
            var manifest = workspace.Models[node.Id];
            var incoming = diagram.Edges.Where(e => e.To == node.Id).ToList();
            var affected = plan?.Find(node.Id);
            rows.Add(new LineagePageRow(
                node.Id,
                node.Detail,
                workspace.Relative(manifest.CheckpointPath),
                [.. incoming.Where(e => e.FromKind == DiagramNodeKind.Model).Select(e => $"{e.From} ({e.Label})")],
                [.. incoming.Where(e => e.FromKind == DiagramNodeKind.Dataset).Select(e => $"{e.From}: {e.Label}")],
                plan is null ? null : affected is null ? "unaffected" : affected.Role == ModelRole.Root ? "root" : "descendant",
                plan is null ? null : affected?.Reason ?? "learned none of it: its own data holds none, and no parent is affected"));
        }

        var removal = plan is null
            ? null
            : new LineagePageRemoval(plan.RemovalId, ReportModel.ForgetText(plan.Removal), plan.Removal.Reason, plan.Roots, plan.Affected.Count, plan.Unaffected.Count, plan.Waves);
        return new LineagePageModel(Path.GetFileName(Path.TrimEndingDirectorySeparator(workspace.Root)), diagram, rows, removal);
    }
}

/// <summary>
/// <c>dotnet unlearn graph --format html</c>: the lineage as one self-contained page (inline CSS and SVG, nothing
/// fetched): summary cards, the graph with its datasets (<see cref="SvgGraphRenderer"/>), and a table of the models:
/// architecture, parents and relations, the data each trains on, its checkpoint; with a removal, each model's role and
/// why, and the work order.
/// </summary>
internal static class LineagePage
{
    private const string Style = """
        tr.unaffected td { color: #868e96; }
        ol.waves { margin: 0; padding-left: 22px; }
        """;

    public static string Render(LineagePageModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var html = new StringBuilder();
        var removal = model.Removal;
        HtmlPage.Begin(html, removal is null ? $"Lineage of {model.Workspace} · dotnet unlearn" : $"Removal {removal.Id} in {model.Workspace} · dotnet unlearn", Style);
        html.Append("<h1>Lineage of <code>").Append(E(model.Workspace)).Append("</code>");
        if (removal is not null)
        {
            html.Append(", removal <code>").Append(E(removal.Id)).Append("</code>");
        }

        html.Append("</h1>\n");
        if (!string.IsNullOrWhiteSpace(removal?.Reason))
        {
            html.Append("<p class=\"reason\">").Append(E(removal.Reason)).Append("</p>\n");
        }

        html.Append("<section class=\"cards\" id=\"summary\">\n");
        HtmlPage.Card(html, "Models", Output.Counted.Of(model.Models.Count, "model"));
        HtmlPage.Card(html, "Datasets", Output.Counted.Of(model.Diagram.Datasets.Count, "dataset"));
        var relations = model.Diagram.Edges.Where(e => e.FromKind == DiagramNodeKind.Model)
            .GroupBy(e => e.Label, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Count()} {g.Key}").ToList();
        HtmlPage.Card(html, "Relations", relations.Count == 0 ? "none" : string.Join(", ", relations));
        if (removal is not null)
        {
            HtmlPage.Card(html, "Forget", removal.Forget.Length == 0 ? "–" : removal.Forget);
            HtmlPage.Card(html, "Roots", HtmlPage.Ids(removal.Roots), ids: true);
            HtmlPage.Card(html, "Affected", $"{removal.Affected} of {model.Models.Count} ({removal.Unaffected} unaffected)");
        }

        html.Append("</section>\n");
        if (model.Models.Count > 0)
        {
            html.Append("<h2>Graph</h2>\n<div class=\"panel graph\" id=\"lineage\">\n")
                .Append(SvgGraphRenderer.Render(model.Diagram, new SvgGraphOptions { IdPrefix = "lineage", MinScale = HtmlPage.GraphMinScale }))
                .Append("</div>\n");
        }

        ModelsTable(html, model);
        if (removal is { Waves.Count: > 0 })
        {
            html.Append("<h2>Work order</h2>\n<div class=\"panel\">\n<ol class=\"waves\" id=\"waves\">\n");
            foreach (var wave in removal.Waves)
            {
                html.Append("<li>").Append(string.Join(", ", wave.Select(id => $"<code>{E(id)}</code>"))).Append("</li>\n");
            }

            html.Append("</ol>\n<p class=\"muted\">Waves run in order; the models of one wave are independent of each other.</p>\n</div>\n");
        }

        HtmlPage.End(html, $"Generated by <code>dotnet unlearn {E(model.ToolVersion)} graph --format html</code> from the workspace's manifests.");
        return html.ToString();
    }

    private static void ModelsTable(StringBuilder html, LineagePageModel model)
    {
        var roles = model.Removal is not null;
        html.Append("<h2>Models</h2>\n<div class=\"panel\">\n<table id=\"models\">\n<thead><tr><th>model</th><th>architecture</th><th>parents</th><th>trains on</th><th>checkpoint</th>");
        if (roles)
        {
            html.Append("<th>role</th><th>why</th>");
        }

        html.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in model.Models)
        {
            html.Append("<tr");
            if (row.Role is not null)
            {
                html.Append(" class=\"").Append(E(row.Role)).Append('"');
            }

            html.Append(" data-id=\"").Append(E(row.Id)).Append("\"><td class=\"id\"><code>").Append(HtmlPage.Breakable(row.Id)).Append("</code></td>");
            html.Append("<td>").Append(E(row.Architecture)).Append("</td>");
            html.Append("<td>").Append(Lines(row.Parents, "none (a base model)")).Append("</td>");
            html.Append("<td>").Append(Lines(row.Data, "nothing of its own")).Append("</td>");
            html.Append("<td><code>").Append(HtmlPage.Breakable(row.Checkpoint)).Append("</code></td>");
            if (roles)
            {
                html.Append("<td>").Append(E(row.Role ?? string.Empty)).Append("</td><td>").Append(E(row.Why ?? string.Empty)).Append("</td>");
            }

            html.Append("</tr>\n");
        }

        html.Append("</tbody>\n</table>\n</div>\n");
    }

    private static string Lines(IReadOnlyList<string> items, string none) =>
        items.Count == 0 ? $"<span class=\"muted\">{E(none)}</span>" : string.Join("<br>", items.Select(HtmlPage.Breakable));


    private static string E(string text) => HtmlPage.E(text);
}
