using System.Globalization;
using System.Security;
using System.Text;

namespace FisherUnlearn.Lineage.Rendering;

/// <summary>Settings of <see cref="SvgGraphRenderer.Render"/>.</summary>
public sealed record SvgGraphOptions
{
    /// <summary>Draw the datasets (top row) and their dashed edges to the models that train on them.</summary>
    public bool IncludeDatasets { get; init; } = true;

    /// <summary>Draw a legend of the colours under the graph (only when the diagram is highlighted).</summary>
    public bool Legend { get; init; } = true;

    /// <summary>Prefix of the ids inside the SVG (arrow markers), so several pictures can share one page.</summary>
    public string IdPrefix { get; init; } = "lineage";
}

/// <summary>
/// Draws a <see cref="LineageDiagram"/> as one standalone SVG element (no scripts, fonts or stylesheets), with a layered
/// layout: each model on the row of its topological level (the longest parent chain above it; datasets on a row of
/// their own at the top), rows ordered by the mean position of each node's parents to limit crossings, and centred.
/// Edges are curves with an arrow and their relation (or the labels a model trains on) as a label. Roots are red,
/// other affected models orange, unaffected models grey, datasets blue. Deterministic; pure (no I/O).
/// </summary>
public static class SvgGraphRenderer
{
    private const double NodeHeight = 46;
    private const double RowGap = 74;
    private const double ColumnGap = 28;
    private const double Margin = 20;
    private const double TitleSize = 13;
    private const double DetailSize = 11;
    private const string FontFamily = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

    /// <summary>Fill, stroke, stroke width and text colour of each node class.</summary>
    public static IReadOnlyDictionary<string, (string Fill, string Stroke, double Width, string Text)> Palette { get; } =
        new Dictionary<string, (string, string, double, string)>(StringComparer.Ordinal)
        {
            ["root"] = ("#ffe3e3", "#c92a2a", 3, "#000000"),
            ["affected"] = ("#ffe8cc", "#e8590c", 2, "#000000"),
            ["unaffected"] = ("#f1f3f5", "#adb5bd", 1, "#495057"),
            ["plain"] = ("#ffffff", "#495057", 1.2, "#000000"),
            ["dataset"] = ("#e7f5ff", "#1971c2", 1.2, "#000000"),
        };

    public static string Render(LineageDiagram diagram, SvgGraphOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(diagram);
        options ??= new SvgGraphOptions();
        if (!options.IncludeDatasets)
        {
            diagram = diagram.WithoutDatasets();
        }

        var layout = Layout(diagram);
        var legend = options.Legend && diagram.IsHighlighted;
        var legendItems = LegendItems(diagram);
        var width = Math.Max(layout.Width, legend ? legendItems.Sum(i => 30 + TextWidth(i.Text, DetailSize)) : 0) + (2 * Margin);
        var height = layout.Height + (2 * Margin) + (legend ? 34 : 0);
        var p = options.IdPrefix;
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"lineage-graph\" role=\"img\" width=\"{width:0}\" height=\"{height:0}\" viewBox=\"0 0 {width:0} {height:0}\" font-family=\"{FontFamily}\">\n"));
        svg.Append(Invariant($"<title>Lineage: {diagram.Models.Count} models"))
            .Append(diagram.IsHighlighted ? Invariant($", {diagram.Models.Count(m => m.Class == "root")} roots, {diagram.Models.Count(m => m.Class is "root" or "affected")} affected") : string.Empty)
            .Append("</title>\n");
        svg.Append("<defs>\n");
        foreach (var (name, color) in new[] { ("arrow", "#495057"), ("arrow-hot", "#e8590c"), ("arrow-data", "#1971c2") })
        {
            svg.Append(Invariant($"  <marker id=\"{p}-{name}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{color}\"/></marker>\n"));
        }

        svg.Append("</defs>\n");
        svg.Append(Invariant($"<g transform=\"translate({Margin + ((width - (2 * Margin) - layout.Width) / 2):0.#},{Margin:0.#})\">\n"));

        // Edges first, so nodes are drawn over their ends; labels last, over everything.
        var labels = new StringBuilder();
        foreach (var edge in diagram.Edges)
        {
            if (!layout.Boxes.TryGetValue(Key(edge.FromKind, edge.From), out var from) || !layout.Boxes.TryGetValue(Key(DiagramNodeKind.Model, edge.To), out var to))
            {
                continue;
            }

            var data = edge.FromKind == DiagramNodeKind.Dataset;
            var hot = !data && from.Node.Class is "root" or "affected" && to.Node.Class is "root" or "affected";
            var x1 = from.CenterX;
            var y1 = from.Y + NodeHeight;
            var x2 = to.CenterX;
            var y2 = to.Y;
            if (y2 <= y1)
            {
                // Not downwards (only in a cyclic, invalid lineage): leave from the side.
                y1 = from.Y + (NodeHeight / 2);
                y2 = to.Y + (NodeHeight / 2);
            }

            var bend = Math.Max(24, (y2 - y1) / 2);
            var color = data ? "#1971c2" : hot ? "#e8590c" : "#868e96";
            var marker = data ? "arrow-data" : hot ? "arrow-hot" : "arrow";
            svg.Append(Invariant($"  <path class=\"edge{(data ? " data" : string.Empty)}\" data-from=\"{Xml(edge.From)}\" data-to=\"{Xml(edge.To)}\" d=\"M{x1:0.#},{y1:0.#} C{x1:0.#},{y1 + bend:0.#} {x2:0.#},{y2 - bend:0.#} {x2:0.#},{y2 - 1:0.#}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{(hot ? 2 : 1.4):0.#}\"{(data ? " stroke-dasharray=\"5 4\"" : string.Empty)} marker-end=\"url(#{p}-{marker})\"/>\n"));

            // Label on the curve: its midpoint for an edge to the next row; for a longer edge, where it crosses the gap
            // just above its target (the middle of a long edge would sit on the rows in between).
            var (lx, ly) = to.Level - from.Level <= 1 || y2 <= y1
                ? ((x1 + x2) / 2, (y1 + y2) / 2)
                : PointAtY(x1, y1, x2, y2, bend, to.Y - (RowGap / 2));
            var lw = TextWidth(edge.Label, DetailSize) + 8;
            labels.Append(Invariant($"  <g class=\"edge-label\"><rect x=\"{lx - (lw / 2):0.#}\" y=\"{ly - 8:0.#}\" width=\"{lw:0.#}\" height=\"16\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.9\"/>"));
            labels.Append(Invariant($"<text x=\"{lx:0.#}\" y=\"{ly + 4:0.#}\" font-size=\"{DetailSize:0.#}\" text-anchor=\"middle\" fill=\"{(data ? "#1864ab" : "#343a40")}\"{(data ? " font-style=\"italic\"" : string.Empty)}>{Xml(edge.Label)}</text></g>\n"));
        }

        foreach (var box in layout.Boxes.Values.OrderBy(b => b.Node.Kind).ThenBy(b => b.Node.Id, StringComparer.Ordinal))
        {
            var node = box.Node;
            var dataset = node.Kind == DiagramNodeKind.Dataset;
            var kind = dataset ? "dataset" : node.Class ?? "plain";
            var (fill, stroke, strokeWidth, text) = Palette[kind];
            svg.Append(Invariant($"  <g class=\"node {(dataset ? "dataset" : "model")}{(node.Class is null || dataset ? string.Empty : " " + node.Class)}\" data-id=\"{Xml(node.Id)}\">"));
            svg.Append(Invariant($"<title>{Xml(node.Id)}{(node.Class is null || dataset ? string.Empty : " (" + node.Class + ")")}: {Xml(node.Detail)}</title>"));
            svg.Append(Invariant($"<rect x=\"{box.X:0.#}\" y=\"{box.Y:0.#}\" width=\"{box.Width:0.#}\" height=\"{NodeHeight:0.#}\" rx=\"{(dataset ? 14 : 6):0}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{strokeWidth:0.#}\"/>"));
            svg.Append(Invariant($"<text x=\"{box.CenterX:0.#}\" y=\"{box.Y + 19:0.#}\" font-size=\"{TitleSize:0.#}\" font-weight=\"600\" text-anchor=\"middle\" fill=\"{text}\">{Xml(node.Id)}</text>"));
            svg.Append(Invariant($"<text x=\"{box.CenterX:0.#}\" y=\"{box.Y + 35:0.#}\" font-size=\"{DetailSize:0.#}\" text-anchor=\"middle\" fill=\"{(kind == "unaffected" ? "#868e96" : "#495057")}\">{Xml(node.Detail)}</text></g>\n"));
        }

        svg.Append(labels);
        if (legend)
        {
            var y = layout.Height + 14;
            var x = (layout.Width - legendItems.Sum(i => 30 + TextWidth(i.Text, DetailSize))) / 2;
            svg.Append("  <g class=\"legend\">");
            foreach (var (kind, text) in legendItems)
            {
                var (fill, stroke, strokeWidth, _) = Palette[kind];
                svg.Append(Invariant($"<rect x=\"{x:0.#}\" y=\"{y:0.#}\" width=\"16\" height=\"12\" rx=\"2\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{Math.Min(strokeWidth, 2):0.#}\"/>"));
                svg.Append(Invariant($"<text x=\"{x + 21:0.#}\" y=\"{y + 10:0.#}\" font-size=\"{DetailSize:0.#}\" fill=\"#343a40\">{Xml(text)}</text>"));
                x += 30 + TextWidth(text, DetailSize);
            }

            svg.Append("</g>\n");
        }

        svg.Append("</g>\n</svg>\n");
        return svg.ToString();
    }

    // The point of the edge's cubic (control points straight below/above its ends) at height y, by bisection (y is monotonic in t).
    private static (double X, double Y) PointAtY(double x1, double y1, double x2, double y2, double bend, double y)
    {
        static double Cubic(double a, double b, double c, double d, double t) =>
            (Math.Pow(1 - t, 3) * a) + (3 * Math.Pow(1 - t, 2) * t * b) + (3 * (1 - t) * t * t * c) + (t * t * t * d);
        double lo = 0, hi = 1;
        for (var i = 0; i < 40; i++)
        {
            var mid = (lo + hi) / 2;
            if (Cubic(y1, y1 + bend, y2 - bend, y2, mid) < y)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return (Cubic(x1, x1, x2, x2, lo), y);
    }

    /// <summary>Approximate width of text in a sans-serif font (no font metrics offline): wide enough for ids and labels.</summary>
    internal static double TextWidth(string text, double size, bool bold = false) =>
        text.Sum(c => c switch
        {
            'i' or 'l' or 'j' or '.' or ',' or ':' or ';' or '\'' or '|' or '!' => 0.3,
            'f' or 't' or 'r' or ' ' or '-' or '(' or ')' or '[' or ']' => 0.38,
            'm' or 'w' or 'M' or 'W' or '@' => 0.88,
            >= 'A' and <= 'Z' => 0.68,
            >= '0' and <= '9' => 0.56,
            _ => 0.56,
        }) * size * (bold ? 1.06 : 1.0);

    private static List<(string Kind, string Text)> LegendItems(LineageDiagram diagram) =>
        [
            ("root", "root (own data forgotten)"),
            ("affected", "affected descendant"),
            ("unaffected", "unaffected"),
            .. diagram.Datasets.Count > 0 ? new[] { ("dataset", "dataset") } : [],
        ];

    private static string Key(DiagramNodeKind kind, string id) => (kind == DiagramNodeKind.Dataset ? "d:" : "m:") + id;

    private sealed record Box(DiagramNode Node, int Level, double Width)
    {
        public double X { get; set; }

        public double Y { get; set; }

        public double CenterX => X + (Width / 2);
    }

    private sealed record LayoutResult(Dictionary<string, Box> Boxes, double Width, double Height);

    private static LayoutResult Layout(LineageDiagram diagram)
    {
        var offset = diagram.Datasets.Count > 0 ? 1 : 0;
        var modelIds = diagram.Models.Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        var parents = diagram.Models.ToDictionary(m => m.Id, _ => new List<string>(), StringComparer.Ordinal);
        var inputs = diagram.Models.ToDictionary(m => m.Id, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var edge in diagram.Edges.Where(e => modelIds.Contains(e.To)))
        {
            if (edge.FromKind == DiagramNodeKind.Model && modelIds.Contains(edge.From))
            {
                parents[edge.To].Add(Key(DiagramNodeKind.Model, edge.From));
            }

            inputs[edge.To].Add(Key(edge.FromKind, edge.From));
        }

        // Longest-path levels (Kahn's order); models left on a cycle go below everything else.
        var level = new Dictionary<string, int>(StringComparer.Ordinal);
        var pending = diagram.Models.ToDictionary(m => m.Id, m => parents[m.Id].Count, StringComparer.Ordinal);
        var children = diagram.Models.ToDictionary(m => m.Id, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var (child, list) in parents)
        {
            foreach (var parent in list)
            {
                children[parent[2..]].Add(child);
            }
        }

        var queue = new Queue<string>(diagram.Models.Where(m => pending[m.Id] == 0).Select(m => m.Id));
        foreach (var id in queue)
        {
            level[id] = offset;
        }

        while (queue.Count > 0)
        {
            var id = queue.Dequeue();
            foreach (var child in children[id])
            {
                level[child] = Math.Max(level.GetValueOrDefault(child, offset), level[id] + 1);
                if (--pending[child] == 0)
                {
                    queue.Enqueue(child);
                }
            }
        }

        var deepest = level.Count == 0 ? offset : level.Values.Max();
        var boxes = new Dictionary<string, Box>(StringComparer.Ordinal);
        foreach (var dataset in diagram.Datasets)
        {
            boxes[Key(DiagramNodeKind.Dataset, dataset.Id)] = new Box(dataset, 0, NodeWidth(dataset));
        }

        foreach (var model in diagram.Models)
        {
            boxes[Key(DiagramNodeKind.Model, model.Id)] = new Box(model, level.GetValueOrDefault(model.Id, deepest + 1), NodeWidth(model));
        }

        var rows = boxes.Values.GroupBy(b => b.Level).OrderBy(g => g.Key).Select(g => g.ToList()).ToList();

        // Order each row by the mean position of the node's inputs in the rows above (two sweeps).
        var position = new Dictionary<string, double>(StringComparer.Ordinal);
        void Number(List<Box> row)
        {
            for (var i = 0; i < row.Count; i++)
            {
                position[Key(row[i].Node.Kind, row[i].Node.Id)] = i - ((row.Count - 1) / 2.0);
            }
        }

        for (var sweep = 0; sweep < 2; sweep++)
        {
            foreach (var row in rows)
            {
                if (row[0].Node.Kind == DiagramNodeKind.Model)
                {
                    var current = row.Select((b, i) => (b, i)).ToDictionary(t => t.b, t => t.i);
                    row.Sort((a, b) =>
                    {
                        var byMean = Mean(a).CompareTo(Mean(b));
                        return byMean != 0 ? byMean : current[a].CompareTo(current[b]);
                    });
                }

                Number(row);
            }
        }

        double Mean(Box box)
        {
            var known = inputs[box.Node.Id].Where(position.ContainsKey).Select(k => position[k]).ToList();
            return known.Count == 0 ? 0 : known.Average();
        }

        var rowWidths = rows.Select(r => r.Sum(b => b.Width) + (ColumnGap * (r.Count - 1))).ToList();
        var width = rowWidths.Count == 0 ? 200 : rowWidths.Max();
        for (var r = 0; r < rows.Count; r++)
        {
            var x = (width - rowWidths[r]) / 2;
            foreach (var box in rows[r])
            {
                box.X = x;
                box.Y = r * (NodeHeight + RowGap);
                x += box.Width + ColumnGap;
            }
        }

        var height = rows.Count == 0 ? NodeHeight : (rows.Count * NodeHeight) + ((rows.Count - 1) * RowGap);
        return new LayoutResult(boxes, width, height);
    }

    private static double NodeWidth(DiagramNode node) =>
        Math.Ceiling(Math.Max(96, Math.Max(TextWidth(node.Id, TitleSize, bold: true), TextWidth(node.Detail, DetailSize)) + 24));

    private static string Xml(string text) => SecurityElement.Escape(text) ?? string.Empty;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
