using System.Text;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Lineage.Rendering;

/// <summary>
/// Draws the lineage (models, their parent edges with relations, and the datasets each model trains on) as
/// Mermaid (renders on GitHub) or Graphviz DOT, optionally marking a removal's roots and affected models.
/// Output is deterministic: models and datasets in ordinal id order.
/// </summary>
public static class GraphRenderer
{
    private const string RootStyle = "fill:#ffe3e3,stroke:#c92a2a,stroke-width:3px,color:#000";
    private const string AffectedStyle = "fill:#ffe8cc,stroke:#e8590c,stroke-width:2px,color:#000"; // as SvgGraphRenderer.Palette and the reports draw them
    private const string UnaffectedStyle = "fill:#f1f3f5,stroke:#adb5bd,color:#495057";
    private const string DatasetStyle = "fill:#e7f5ff,stroke:#1971c2,color:#000";

    /// <summary>The most edges Mermaid draws (its <c>maxEdges</c>, which a diagram cannot raise for itself): beyond it
    /// GitHub shows an error instead of the graph.</summary>
    public const int MermaidMaxEdges = 500;

    public static string Mermaid(Workspace workspace, GraphHighlight? highlight = null) =>
        Mermaid(LineageDiagram.From(workspace, highlight));

    /// <summary>How a diagram fits Mermaid's edge limit: everything (<see cref="MermaidFit.Whole"/>), the models and their
    /// relations without the datasets (<see cref="MermaidFit.WithoutDatasets"/>, the edges from data first to go), or not
    /// even that (<see cref="MermaidFit.TooLarge"/>: an SVG or DOT drawing is the way to see it).</summary>
    public static MermaidFit FitOf(LineageDiagram diagram)
    {
        ArgumentNullException.ThrowIfNull(diagram);
        var relations = diagram.Edges.Count(e => e.FromKind != DiagramNodeKind.Dataset);
        return diagram.Edges.Count <= MermaidMaxEdges ? MermaidFit.Whole
            : relations <= MermaidMaxEdges ? MermaidFit.WithoutDatasets
            : MermaidFit.TooLarge;
    }

    /// <summary>Mermaid of a diagram (e.g. the one a report keeps), with each model's <see cref="DiagramNode.Class"/> marked.</summary>
    public static string Mermaid(LineageDiagram diagram)
    {
        ArgumentNullException.ThrowIfNull(diagram);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        // Over Mermaid's edge limit the datasets go (each model's data edge doubles the count): the relations still show.
        var fit = FitOf(diagram);
        IReadOnlyList<DiagramNode> datasets = fit == MermaidFit.Whole ? diagram.Datasets : [];
        for (var i = 0; i < datasets.Count; i++)
        {
            names[DatasetKey(datasets[i].Id)] = $"d{i}";
        }

        for (var i = 0; i < diagram.Models.Count; i++)
        {
            names[diagram.Models[i].Id] = $"m{i}";
        }

        var text = new StringBuilder();
        text.Append("flowchart TD\n");
        if (fit != MermaidFit.Whole)
        {
            text.Append(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"  %% {diagram.Edges.Count} edges with the datasets, more than the {MermaidMaxEdges} Mermaid draws: the datasets are left out{(fit == MermaidFit.TooLarge ? ", and the relations alone are still too many (use the svg or dot format)" : string.Empty)}\n"));
        }

        foreach (var dataset in datasets)
        {
            text.Append($"  {names[DatasetKey(dataset.Id)]}[(\"{MermaidText(dataset.Id)}<br/>{MermaidText(dataset.Detail)}\")]\n");
        }

        foreach (var model in diagram.Models)
        {
            text.Append($"  {names[model.Id]}[\"{MermaidText(model.Id)}<br/><small>{MermaidText(model.Detail)}</small>\"]\n");
        }

        foreach (var edge in diagram.Edges)
        {
            var dataset = edge.FromKind == DiagramNodeKind.Dataset;
            if (names.TryGetValue(dataset ? DatasetKey(edge.From) : edge.From, out var from) && names.TryGetValue(edge.To, out var to))
            {
                text.Append(dataset
                    ? $"  {from} -.->|\"{MermaidText(edge.Label)}\"| {to}\n"
                    : $"  {from} -->|{edge.Label}| {to}\n");
            }
        }

        text.Append($"  classDef root {RootStyle}\n");
        text.Append($"  classDef affected {AffectedStyle}\n");
        text.Append($"  classDef unaffected {UnaffectedStyle}\n");
        text.Append($"  classDef dataset {DatasetStyle}\n");
        if (datasets.Count > 0)
        {
            text.Append($"  class {string.Join(',', datasets.Select(d => names[DatasetKey(d.Id)]))} dataset\n");
        }

        foreach (var group in diagram.Models.Where(m => m.Class is not null).GroupBy(m => m.Class!).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            text.Append($"  class {string.Join(',', group.Select(m => names[m.Id]))} {group.Key}\n");
        }

        return text.ToString();
    }

    public static string Dot(Workspace workspace, GraphHighlight? highlight = null)
    {
        highlight ??= GraphHighlight.None;
        var text = new StringBuilder();
        text.Append("digraph lineage {\n");
        text.Append("  rankdir=TB;\n");
        text.Append("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\"];\n");
        text.Append("  edge [fontname=\"Helvetica\", fontsize=10];\n");
        foreach (var dataset in workspace.Datasets.Values)
        {
            text.Append($"  {DotId("dataset:" + dataset.Id)} [shape=cylinder, fillcolor=\"#e7f5ff\", label={DotId($"{dataset.Id}\n{dataset.Format}, {dataset.Classes} classes")}];\n");
        }

        foreach (var model in workspace.Models.Values)
        {
            var style = highlight.ClassOf(model.Id) switch
            {
                "root" => ", fillcolor=\"#ffe3e3\", color=\"#c92a2a\", penwidth=3",
                "affected" => ", fillcolor=\"#ffe8cc\", color=\"#e8590c\", penwidth=2",
                "unaffected" => ", fillcolor=\"#f1f3f5\", color=\"#adb5bd\", fontcolor=\"#495057\"",
                _ => string.Empty,
            };
            text.Append($"  {DotId(model.Id)} [label={DotId($"{model.Id}\n{model.Architecture}")}{style}];\n");
        }

        foreach (var model in workspace.Models.Values)
        {
            foreach (var use in model.Data.Where(u => workspace.Datasets.ContainsKey(u.Dataset)))
            {
                text.Append($"  {DotId("dataset:" + use.Dataset)} -> {DotId(model.Id)} [style=dashed, label={DotId(LineageDiagram.LabelsText(use))}];\n");
            }

            foreach (var parent in model.Parents.Where(p => workspace.Models.ContainsKey(p.Id)))
            {
                text.Append($"  {DotId(parent.Id)} -> {DotId(model.Id)} [label={DotId(parent.Relation.ToName())}];\n");
            }
        }

        text.Append("}\n");
        return text.ToString();
    }

    private static string DatasetKey(string id) => "\0dataset:" + id;

    /// <summary>Compact label list: [0,1,2,3,7] becomes "0-3, 7".</summary>
    internal static string Ranges(IReadOnlyList<int> values)
    {
        var sorted = values.Distinct().Order().ToArray();
        var parts = new List<string>();
        for (var i = 0; i < sorted.Length;)
        {
            var j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1)
            {
                j++;
            }

            parts.Add(j - i >= 2 ? $"{sorted[i]}-{sorted[j]}" : j == i ? $"{sorted[i]}" : $"{sorted[i]}, {sorted[j]}");
            i = j + 1;
        }

        return string.Join(", ", parts);
    }

    // Text inside a quoted Mermaid label: its quotes and opening angle brackets as entities (no tag can start without one),
    // a backtick as one too (a run of them would close the Markdown fence the diagram sits in), line breaks and tabs as
    // spaces (a label is one line; a break would end the fence's line too), and hidden characters shown (\u0007), as the
    // reports show them. A closing angle bracket stays as it is: inside quotes Mermaid takes it as text, and Mermaid 11
    // drew the entity in the architectures' arrows (cnn 1x28x28->10) as garbled characters (QA, Mermaid 11.17).
    private static string MermaidText(string value) =>
        Text.HiddenCharacters.Visible(OneLine(value)).Replace("\"", "#quot;", StringComparison.Ordinal).Replace("<", "#lt;", StringComparison.Ordinal)
            .Replace("`", "#96;", StringComparison.Ordinal);

    // A quoted DOT id: backslashes and quotes escaped, the line break it is given as DOT's \n, and any other break, tab or
    // hidden character shown as in the reports (raw, a control character makes the file unreadable to some tools).
    private static string DotId(string value) =>
        "\"" + string.Join("\\n", value.Split('\n').Select(line => Text.HiddenCharacters.Visible(OneLine(line))
            .Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal))) + "\"";

    /// <summary>The text on one line: carriage returns, line feeds and tabs as spaces.</summary>
    internal static string OneLine(string value) =>
        value.Replace("\r\n", " ", StringComparison.Ordinal).Replace('\r', ' ').Replace('\n', ' ').Replace('\t', ' ');
}

/// <summary>How a lineage fits Mermaid's edge limit (<see cref="GraphRenderer.FitOf"/>).</summary>
public enum MermaidFit
{
    /// <summary>Models, datasets and every edge.</summary>
    Whole,

    /// <summary>Models and their relations; the datasets and their edges left out.</summary>
    WithoutDatasets,

    /// <summary>More relations than Mermaid draws, even without the datasets.</summary>
    TooLarge,
}
