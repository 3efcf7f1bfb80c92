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

    /// <summary>When set, the SVG element's CSS <c>min-width</c> is its width times this: a page that shrinks a picture to
    /// its own width (<c>max-width: 100%</c>) then shrinks a wide lineage no further and scrolls it instead (QA: 32 models
    /// drawn at a fifth of their size, their labels 2-3 px high). Null: no style (a standalone file).</summary>
    public double? MinScale { get; init; }
}

/// <summary>
/// Draws a <see cref="LineageDiagram"/> as one standalone SVG element (no scripts, fonts or stylesheets), with a layered
/// layout: each model on the row of its topological level (the longest parent chain above it; datasets on a row of
/// their own at the top); an edge that skips rows gets a waypoint in each row in between, so it runs through a column
/// of its own and never through a box; rows are ordered, then placed, by alternating sweeps that pull each node
/// towards what it hangs from and what hangs from it (<see cref="Spread"/> keeps the gaps). Edges are curves with an
/// arrow; each has its relation (or the labels a model trains on) as a label where it enters its target's row, labels
/// on one row moved apart so none overlaps another. Roots are red, other affected models orange, unaffected models
/// grey, datasets blue. Deterministic; pure (no I/O).
/// </summary>
public static class SvgGraphRenderer
{
    private const double NodeHeight = 46;
    private const double RowGap = 74;
    private const double ColumnGap = 28;
    private const double WaypointWidth = 4;

    // Narrowed to its minimum scale (SvgGraphOptions.MinScale) and still wider than this, a page of the usual width scrolls
    // the drawing; a standalone file never does.
    private const double ScrolledWidth = 1000;
    private const double LabelGap = 6;
    private const int OrderingSweeps = 4;
    private const int PlacementSweeps = 4;
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
        var p = options.IdPrefix;

        // Edges first, so nodes are drawn over their ends; labels last, over everything. An edge that skips rows runs
        // through a column of its own in each row between (its waypoints), so it never crosses a box.
        var labels = new List<EdgeLabel>();
        var edges = new StringBuilder();
        for (var i = 0; i < diagram.Edges.Count; i++)
        {
            var edge = diagram.Edges[i];
            if (!layout.Boxes.TryGetValue(Key(edge.FromKind, edge.From), out var from) || !layout.Boxes.TryGetValue(Key(DiagramNodeKind.Model, edge.To), out var to))
            {
                continue;
            }

            var data = edge.FromKind == DiagramNodeKind.Dataset;
            var hot = !data && from.Node!.Class is "root" or "affected" && to.Node!.Class is "root" or "affected";
            var color = data ? "#1971c2" : hot ? "#e8590c" : "#868e96";
            var marker = data ? "arrow-data" : hot ? "arrow-hot" : "arrow";
            var path = new StringBuilder();
            double lx, ly;
            if (to.Y <= from.Y)
            {
                // Not downwards (only in a cyclic, invalid lineage): from side to side.
                var (x1, y1, x2, y2) = (from.CenterX, from.Y + (NodeHeight / 2), to.CenterX, to.Y + (NodeHeight / 2));
                path.Append(Invariant($"M{x1:0.#},{y1:0.#} C{x1:0.#},{y1 + 24:0.#} {x2:0.#},{y2 - 24:0.#} {x2:0.#},{y2 - 1:0.#}"));
                (lx, ly) = ((x1 + x2) / 2, (y1 + y2) / 2);
            }
            else
            {
                var (ax, ay) = (from.CenterX, from.Y + NodeHeight);
                path.Append(Invariant($"M{ax:0.#},{ay:0.#}"));
                foreach (var waypoint in layout.Routes[i])
                {
                    Curve(path, ax, ay, waypoint.CenterX, waypoint.Y);
                    (ax, ay) = (waypoint.CenterX, waypoint.Y + NodeHeight);
                    path.Append(Invariant($" L{ax:0.#},{ay:0.#}"));
                }

                Curve(path, ax, ay, to.CenterX, to.Y - 1);

                // The label sits in the middle of the last gap, where the edge enters its target's row.
                (lx, ly) = ((ax + to.CenterX) / 2, (ay + to.Y) / 2);
            }

            edges.Append(Invariant($"  <path class=\"edge{(data ? " data" : string.Empty)}\" data-from=\"{Xml(edge.From)}\" data-to=\"{Xml(edge.To)}\" d=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{(hot ? 2 : 1.4):0.#}\"{(data ? " stroke-dasharray=\"5 4\"" : string.Empty)} marker-end=\"url(#{p}-{marker})\"/>\n"));
            labels.Add(new EdgeLabel(edge.Label, data, lx, ly, TextWidth(edge.Label, DetailSize) + 8));
        }

        var svg = new StringBuilder();
        // The drawing's extent: the layout, widened where spread labels stick out of it.
        var spread = SpreadLabels(labels).ToList();
        var contentLeft = Math.Min(0, spread.Count == 0 ? 0 : spread.Min(l => l.X - (l.Width / 2)));
        var contentRight = Math.Max(layout.Width, spread.Count == 0 ? 0 : spread.Max(l => l.X + (l.Width / 2)));
        var legendWidth = legendItems.Sum(i => 30 + TextWidth(i.Text, DetailSize));
        var width = Math.Max(contentRight - contentLeft, legend ? legendWidth : 0) + (2 * Margin);
        var height = layout.Height + (2 * Margin) + (legend ? 34 : 0);
        var minWidth = options.MinScale is { } scale ? Invariant($" style=\"min-width: {Math.Ceiling(width * scale):0}px\"") : string.Empty;
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"lineage-graph\" role=\"img\" width=\"{width:0}\" height=\"{height:0}\" viewBox=\"0 0 {width:0} {height:0}\" font-family=\"{FontFamily}\"{minWidth}>\n"));
        static string Count(int n, string noun) => Invariant($"{n} {noun}{(n == 1 ? string.Empty : "s")}");
        svg.Append("<title>Lineage: ").Append(Count(diagram.Models.Count, "model"))
            .Append(diagram.IsHighlighted ? Invariant($", {Count(diagram.Models.Count(m => m.Class == "root"), "root")}, {diagram.Models.Count(m => m.Class is "root" or "affected")} affected") : string.Empty)
            .Append("</title>\n");
        svg.Append("<defs>\n");
        foreach (var (name, color) in new[] { ("arrow", "#495057"), ("arrow-hot", "#e8590c"), ("arrow-data", "#1971c2") })
        {
            svg.Append(Invariant($"  <marker id=\"{p}-{name}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{color}\"/></marker>\n"));
        }

        svg.Append("</defs>\n");
        // Its own white ground: the grey labels and legend were invisible on a dark page (a README in GitHub's dark theme).
        svg.Append("<rect class=\"ground\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
        svg.Append(Invariant($"<g transform=\"translate({Margin + ((width - (2 * Margin) - (contentRight - contentLeft)) / 2) - contentLeft:0.#},{Margin:0.#})\">\n"));
        svg.Append(edges);
        foreach (var box in layout.Boxes.Values.Where(b => b.Node is not null).OrderBy(b => b.Node!.Kind).ThenBy(b => b.Node!.Id, StringComparer.Ordinal))
        {
            var node = box.Node!;
            var dataset = node.Kind == DiagramNodeKind.Dataset;
            var kind = dataset ? "dataset" : node.Class ?? "plain";
            var (fill, stroke, strokeWidth, text) = Palette[kind];
            svg.Append(Invariant($"  <g class=\"node {(dataset ? "dataset" : "model")}{(node.Class is null || dataset ? string.Empty : " " + node.Class)}\" data-id=\"{Xml(node.Id)}\">"));
            svg.Append(Invariant($"<title>{Xml(node.Id)}{(node.Class is null || dataset ? string.Empty : " (" + node.Class + ")")}: {Xml(node.Detail)}</title>"));
            svg.Append(Invariant($"<rect x=\"{box.X:0.#}\" y=\"{box.Y:0.#}\" width=\"{box.Width:0.#}\" height=\"{NodeHeight:0.#}\" rx=\"{(dataset ? 14 : 6):0}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{strokeWidth:0.#}\"/>"));
            svg.Append(Invariant($"<text x=\"{box.CenterX:0.#}\" y=\"{box.Y + 19:0.#}\" font-size=\"{TitleSize:0.#}\" font-weight=\"600\" text-anchor=\"middle\" fill=\"{text}\">{Xml(node.Id)}</text>"));
            svg.Append(Invariant($"<text x=\"{box.CenterX:0.#}\" y=\"{box.Y + 35:0.#}\" font-size=\"{DetailSize:0.#}\" text-anchor=\"middle\" fill=\"{(kind == "unaffected" ? "#868e96" : "#495057")}\">{Xml(node.Detail)}</text></g>\n"));
        }

        foreach (var label in spread)
        {
            svg.Append(Invariant($"  <g class=\"edge-label\"><rect x=\"{label.X - (label.Width / 2):0.#}\" y=\"{label.Y - 8:0.#}\" width=\"{label.Width:0.#}\" height=\"16\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.9\"/>"));
            svg.Append(Invariant($"<text x=\"{label.X:0.#}\" y=\"{label.Y + 4:0.#}\" font-size=\"{DetailSize:0.#}\" text-anchor=\"middle\" fill=\"{(label.Data ? "#1864ab" : "#343a40")}\"{(label.Data ? " font-style=\"italic\"" : string.Empty)}>{Xml(label.Text)}</text></g>\n"));
        }

        if (legend)
        {
            var y = layout.Height + 14;
            // Under the middle of a drawing a page shows whole; at the left of one so wide that pages scroll it (QA: 1,900 px
            // in, out of view at first).
            var x = options.MinScale is { } least && width * least > ScrolledWidth ? contentLeft : (contentLeft + contentRight - legendWidth) / 2;
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

    // A cubic from (x1, y1) down to (x2, y2) whose control points lie straight below and above its ends: it stays
    // between the two heights, so inside the gap between two rows.
    private static void Curve(StringBuilder path, double x1, double y1, double x2, double y2)
    {
        var bend = Math.Max(24, (y2 - y1) / 2);
        path.Append(Invariant($" C{x1:0.#},{y1 + bend:0.#} {x2:0.#},{y2 - bend:0.#} {x2:0.#},{y2:0.#}"));
    }

    private sealed record EdgeLabel(string Text, bool Data, double X, double Y, double Width);

    /// <summary>Labels on one line (a gap between two rows) moved apart sideways until none overlaps the next, each as
    /// close to its edge as that allows (<see cref="Spread"/>).</summary>
    private static IEnumerable<EdgeLabel> SpreadLabels(List<EdgeLabel> labels) =>
        labels.GroupBy(l => Math.Round(l.Y, 1)).OrderBy(g => g.Key).SelectMany(line =>
        {
            var ordered = line.OrderBy(l => l.X).ToList();
            var centres = Spread([.. ordered.Select(l => (l.X, l.Width))], LabelGap);
            return ordered.Select((l, i) => l with { X = centres[i] });
        });

    /// <summary>
    /// One-dimensional overlap removal that keeps the order: items (wanted centre, width), sorted by centre, get the
    /// centres closest to the wanted ones (least squares) with at least <paramref name="gap"/> between neighbours.
    /// Overlapping items merge into blocks, each block placed at the mean of its items' wanted positions.
    /// </summary>
    internal static double[] Spread(IReadOnlyList<(double Centre, double Width)> items, double gap)
    {
        ArgumentNullException.ThrowIfNull(items);
        // A block: its first item, item count, total extent, and the sum of (wanted centre - offset in the block).
        var blocks = new List<(int First, int Count, double Extent, double Sum)>();
        var offsets = new double[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var (first, count, extent, sum) = (i, 1, items[i].Width, items[i].Centre - (items[i].Width / 2));
            offsets[i] = items[i].Width / 2;
            while (blocks.Count > 0)
            {
                var previous = blocks[^1];
                if (previous.Sum / previous.Count + previous.Extent + gap <= sum / count)
                {
                    break;
                }

                // Merge: this block's items move right of the previous block's by its extent and the gap.
                var shift = previous.Extent + gap;
                for (var j = first; j < first + count; j++)
                {
                    offsets[j] += shift;
                }

                (first, count, extent, sum) = (previous.First, previous.Count + count, previous.Extent + gap + extent, previous.Sum + sum - (shift * count));
                blocks.RemoveAt(blocks.Count - 1);
            }

            blocks.Add((first, count, extent, sum));
        }

        var centres = new double[items.Count];
        foreach (var (first, count, _, sum) in blocks)
        {
            var left = sum / count;
            for (var j = first; j < first + count; j++)
            {
                centres[j] = left + offsets[j];
            }
        }

        return centres;
    }

    /// <summary>Approximate width of text in a sans-serif font (no font metrics offline), on the wide side: DejaVu Sans, what
    /// Linux browsers fall back to, is about a tenth wider than Helvetica or Segoe UI, and a 63-character id drawn in it ran
    /// past its box into the next (QA). Per character, in ems: close to DejaVu Sans's advances (bold about 8% wider).</summary>
    internal static double TextWidth(string text, double size, bool bold = false) =>
        text.Sum(c => c switch
        {
            'i' or 'l' or 'j' or '.' or ',' or ':' or ';' or '\'' or '|' or '!' => 0.34,
            'f' or 't' or 'r' or ' ' or '-' or '(' or ')' or '[' or ']' => 0.44,
            '_' => 0.5,
            'm' or 'w' or 'M' or 'W' or '@' => 0.98,
            >= 'A' and <= 'Z' => 0.72,
            >= '0' and <= '9' => 0.64,
            _ => 0.62,
        }) * size * (bold ? 1.08 : 1.0);

    private static List<(string Kind, string Text)> LegendItems(LineageDiagram diagram) =>
        [
            ("root", "root (own data forgotten)"),
            ("affected", "affected descendant"),
            ("unaffected", "unaffected"),
            .. diagram.Datasets.Count > 0 ? new[] { ("dataset", "dataset") } : [],
        ];

    private static string Key(DiagramNodeKind kind, string id) => (kind == DiagramNodeKind.Dataset ? "d:" : "m:") + id;

    /// <summary>A node's place, or (<see cref="Node"/> null) a waypoint: where an edge that skips rows crosses one.</summary>
    private sealed record Box(string Key, DiagramNode? Node, int Level, double Width)
    {
        public double X { get; set; }

        public double Y { get; set; }

        public double CenterX => X + (Width / 2);
    }

    /// <summary>The boxes by key, and per edge of the diagram (same index) its waypoints from top to bottom.</summary>
    private sealed record LayoutResult(Dictionary<string, Box> Boxes, List<Box>[] Routes, double Width, double Height);

    private static LayoutResult Layout(LineageDiagram diagram)
    {
        var offset = diagram.Datasets.Count > 0 ? 1 : 0;
        var modelIds = diagram.Models.Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        var parents = diagram.Models.ToDictionary(m => m.Id, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var edge in diagram.Edges.Where(e => e.FromKind == DiagramNodeKind.Model && modelIds.Contains(e.From) && modelIds.Contains(e.To)))
        {
            parents[edge.To].Add(edge.From);
        }

        // Longest-path levels (Kahn's order); models left on a cycle go below everything else.
        var level = new Dictionary<string, int>(StringComparer.Ordinal);
        var pending = diagram.Models.ToDictionary(m => m.Id, m => parents[m.Id].Count, StringComparer.Ordinal);
        var children = diagram.Models.ToDictionary(m => m.Id, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var (child, list) in parents)
        {
            foreach (var parent in list)
            {
                children[parent].Add(child);
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
            var key = Key(DiagramNodeKind.Dataset, dataset.Id);
            boxes[key] = new Box(key, dataset, 0, NodeWidth(dataset));
        }

        foreach (var model in diagram.Models)
        {
            var key = Key(DiagramNodeKind.Model, model.Id);
            boxes[key] = new Box(key, model, level.GetValueOrDefault(model.Id, deepest + 1), NodeWidth(model));
        }

        // What each box hangs from (for ordering): a node's sources, or for an edge that skips rows the waypoint just
        // above its target, each waypoint hanging from the one above it.
        var inputs = boxes.Keys.ToDictionary(k => k, _ => new List<string>(), StringComparer.Ordinal);
        var routes = new List<Box>[diagram.Edges.Count];
        var waypoints = new List<Box>();
        for (var i = 0; i < diagram.Edges.Count; i++)
        {
            routes[i] = [];
            var edge = diagram.Edges[i];
            if (!boxes.TryGetValue(Key(edge.FromKind, edge.From), out var from) || !boxes.TryGetValue(Key(DiagramNodeKind.Model, edge.To), out var to))
            {
                continue;
            }

            var above = from.Key;
            for (var l = from.Level + 1; l < to.Level; l++)
            {
                var waypoint = new Box(Invariant($"w:{i}:{l}"), null, l, WaypointWidth);
                inputs[waypoint.Key] = [above];
                routes[i].Add(waypoint);
                waypoints.Add(waypoint);
                above = waypoint.Key;
            }

            inputs[to.Key].Add(above);
        }

        var rows = boxes.Values.Concat(waypoints).GroupBy(b => b.Level).OrderBy(g => g.Key).Select(g => g.ToList()).ToList();
        foreach (var waypoint in waypoints)
        {
            boxes[waypoint.Key] = waypoint;
        }

        var outputs = boxes.Keys.ToDictionary(k => k, _ => new List<string>(), StringComparer.Ordinal);
        foreach (var (key, list) in inputs)
        {
            foreach (var source in list)
            {
                outputs[source].Add(key);
            }
        }

        // Order: rows sorted by the mean place of what each box hangs from (downwards) or of what hangs from it
        // (upwards), alternately, ending downwards; ties keep the current order. Datasets keep theirs.
        var position = new Dictionary<string, double>(StringComparer.Ordinal);
        void Number(List<Box> row)
        {
            for (var i = 0; i < row.Count; i++)
            {
                position[row[i].Key] = i - ((row.Count - 1) / 2.0);
            }
        }

        void Sort(List<Box> row, Dictionary<string, List<string>> neighbours)
        {
            if (row.Any(b => b.Node?.Kind == DiagramNodeKind.Dataset))
            {
                return;
            }

            double Mean(Box box)
            {
                var known = neighbours[box.Key].Where(position.ContainsKey).Select(k => position[k]).ToList();
                return known.Count == 0 ? position.GetValueOrDefault(box.Key) : known.Average();
            }

            var current = row.Select((b, i) => (b, i)).ToDictionary(t => t.b.Key, t => (Index: t.i, Mean: Mean(t.b)), StringComparer.Ordinal);
            row.Sort((a, b) =>
            {
                var byMean = current[a.Key].Mean.CompareTo(current[b.Key].Mean);
                return byMean != 0 ? byMean : current[a.Key].Index.CompareTo(current[b.Key].Index);
            });
            Number(row);
        }

        rows.ForEach(Number);
        for (var sweep = 0; sweep < OrderingSweeps; sweep++)
        {
            rows.ForEach(row => Sort(row, inputs));
            if (sweep < OrderingSweeps - 1)
            {
                Enumerable.Reverse(rows).ToList().ForEach(row => Sort(row, outputs));
            }
        }

        // Place: rows packed and centred, then each box pulled under what it hangs from (downwards) or over what
        // hangs from it (upwards), alternately, ending downwards; Spread keeps each row's order and gaps.
        var rowWidths = rows.Select(r => r.Sum(b => b.Width) + (ColumnGap * (r.Count - 1))).ToList();
        var widest = rowWidths.Count == 0 ? 0 : rowWidths.Max();
        for (var r = 0; r < rows.Count; r++)
        {
            var x = (widest - rowWidths[r]) / 2;
            foreach (var box in rows[r])
            {
                box.X = x;
                box.Y = r * (NodeHeight + RowGap);
                x += box.Width + ColumnGap;
            }
        }

        void Pull(List<Box> row, Dictionary<string, List<string>> neighbours)
        {
            var wanted = row.Select(b => (neighbours[b.Key].Count == 0 ? b.CenterX : neighbours[b.Key].Average(k => boxes[k].CenterX), b.Width)).ToList();
            var centres = Spread(wanted, ColumnGap);
            for (var i = 0; i < row.Count; i++)
            {
                row[i].X = centres[i] - (row[i].Width / 2);
            }
        }

        for (var sweep = 0; sweep < PlacementSweeps; sweep++)
        {
            rows.ForEach(row => Pull(row, inputs));
            if (sweep < PlacementSweeps - 1)
            {
                Enumerable.Reverse(rows).ToList().ForEach(row => Pull(row, outputs));
            }
        }

        var left = rows.Count == 0 ? 0 : rows.Min(r => r[0].X);
        foreach (var box in rows.SelectMany(r => r))
        {
            box.X -= left;
        }

        var width = rows.Count == 0 ? 200 : rows.Max(r => r[^1].X + r[^1].Width);
        var height = rows.Count == 0 ? NodeHeight : (rows.Count * NodeHeight) + ((rows.Count - 1) * RowGap);
        return new LayoutResult(boxes, routes, width, height);
    }

    private static double NodeWidth(DiagramNode node) =>
        Math.Ceiling(Math.Max(96, Math.Max(TextWidth(node.Id, TitleSize, bold: true), TextWidth(node.Detail, DetailSize)) + 24));

    // Hidden characters shown as in the reports (raw, a control character is not even well-formed XML), then escaped.
    private static string Xml(string text) => SecurityElement.Escape(Text.HiddenCharacters.Visible(text)) ?? string.Empty;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
