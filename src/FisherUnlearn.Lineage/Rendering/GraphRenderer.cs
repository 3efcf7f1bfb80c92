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
    private const string AffectedStyle = "fill:#fff3bf,stroke:#e67700,stroke-width:2px,color:#000";
    private const string UnaffectedStyle = "fill:#f1f3f5,stroke:#adb5bd,color:#495057";
    private const string DatasetStyle = "fill:#e7f5ff,stroke:#1971c2,color:#000";

    public static string Mermaid(Workspace workspace, GraphHighlight? highlight = null)
    {
        highlight ??= GraphHighlight.None;
        var names = NodeNames(workspace);
        var text = new StringBuilder();
        text.Append("flowchart TD\n");
        foreach (var dataset in workspace.Datasets.Values)
        {
            text.Append($"  {names[DatasetKey(dataset.Id)]}[(\"{MermaidText(dataset.Id)}<br/>{dataset.Format}, {dataset.Classes} classes\")]\n");
        }

        foreach (var model in workspace.Models.Values)
        {
            text.Append($"  {names[model.Id]}[\"{MermaidText(model.Id)}<br/><small>{MermaidText(model.Architecture.ToString())}</small>\"]\n");
        }

        foreach (var model in workspace.Models.Values)
        {
            foreach (var use in model.Data)
            {
                if (names.TryGetValue(DatasetKey(use.Dataset), out var dataset))
                {
                    text.Append($"  {dataset} -.->|\"{MermaidText(LabelsText(use))}\"| {names[model.Id]}\n");
                }
            }

            foreach (var parent in model.Parents)
            {
                if (names.TryGetValue(parent.Id, out var from))
                {
                    text.Append($"  {from} -->|{parent.Relation.ToName()}| {names[model.Id]}\n");
                }
            }
        }

        text.Append($"  classDef root {RootStyle}\n");
        text.Append($"  classDef affected {AffectedStyle}\n");
        text.Append($"  classDef unaffected {UnaffectedStyle}\n");
        text.Append($"  classDef dataset {DatasetStyle}\n");
        if (workspace.Datasets.Count > 0)
        {
            text.Append($"  class {string.Join(',', workspace.Datasets.Keys.Select(id => names[DatasetKey(id)]))} dataset\n");
        }

        foreach (var group in workspace.Models.Keys.GroupBy(highlight.ClassOf).Where(g => g.Key is not null).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            text.Append($"  class {string.Join(',', group.Select(id => names[id]))} {group.Key}\n");
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
                "affected" => ", fillcolor=\"#fff3bf\", color=\"#e67700\", penwidth=2",
                "unaffected" => ", fillcolor=\"#f1f3f5\", color=\"#adb5bd\", fontcolor=\"#495057\"",
                _ => string.Empty,
            };
            text.Append($"  {DotId(model.Id)} [label={DotId($"{model.Id}\n{model.Architecture}")}{style}];\n");
        }

        foreach (var model in workspace.Models.Values)
        {
            foreach (var use in model.Data.Where(u => workspace.Datasets.ContainsKey(u.Dataset)))
            {
                text.Append($"  {DotId("dataset:" + use.Dataset)} -> {DotId(model.Id)} [style=dashed, label={DotId(LabelsText(use))}];\n");
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

    /// <summary>Mermaid node names must be simple; model ids may hold '.' and '-', so number the nodes.</summary>
    private static Dictionary<string, string> NodeNames(Workspace workspace)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var id in workspace.Datasets.Keys)
        {
            names[DatasetKey(id)] = $"d{i++}";
        }

        i = 0;
        foreach (var id in workspace.Models.Keys)
        {
            names[id] = $"m{i++}";
        }

        return names;
    }

    private static string LabelsText(DataUse use) =>
        use.Labels is null ? "all labels"
        : use.Labels.Count == 1 ? $"label {use.Labels[0]}"
        : $"labels {Ranges(use.Labels)}";

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

    private static string MermaidText(string value) =>
        value.Replace("\"", "#quot;", StringComparison.Ordinal).Replace("<", "#lt;", StringComparison.Ordinal).Replace(">", "#gt;", StringComparison.Ordinal);

    private static string DotId(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
}
