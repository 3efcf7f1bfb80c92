using System.Globalization;
using System.Text;

namespace FisherUnlearn.Tool.Reports;

/// <summary>One series of a <see cref="SvgBarChart"/>: a name, a colour and one value (0..1, null = no bar) per category.</summary>
/// <param name="Marks">Per value, a mark to print after it (the † of an MIA rate from an attack near chance); null for none.</param>
internal sealed record ChartSeries(string Name, string Color, IReadOnlyList<double?> Values, IReadOnlyList<string?>? Marks = null);

/// <summary>
/// A grouped horizontal bar chart of fractions (shown as 0-100 %) as one inline SVG element: one group of rows per category (model),
/// one bar per series (before, after, reference), each bar labelled with its value, a legend, and an optional dashed
/// limit line (a target). No scripts or external resources.
/// </summary>
internal static class SvgBarChart
{
    private const double PlotWidth = 300;
    private const double Top = 48;
    private const double Bar = 10;
    private const double GroupGap = 12;

    /// <summary>Characters of a category label that fit the widest left margin (240 px at about 6.6 px a character).</summary>
    internal const int MaxLabelLength = 34;

    /// <summary>A label that fits the margin: a longer one keeps its start and its end around an ellipsis, so two long ids
    /// that differ only at one end still read apart (the whole id is the label's tooltip).</summary>
    internal static string Shortened(string label)
    {
        if (label.Length <= MaxLabelLength)
        {
            return label;
        }

        var head = (MaxLabelLength - 1) / 2;
        return string.Concat(label.AsSpan(0, head), "…", label.AsSpan(label.Length - (MaxLabelLength - 1 - head)));
    }

    public static string Render(string title, IReadOnlyList<string> categories, IReadOnlyList<ChartSeries> series, double? limit = null, string? limitLabel = null)
    {
        // Horizontal bars: one row group per category (model ids of any length fit on the left), one bar per series.
        var left = Math.Ceiling(Math.Min(Math.Max(60, (categories.Count == 0 ? 0 : categories.Max(c => c.Length)) * 6.6) + 12, 240));
        var groupHeight = (series.Count * Bar) + GroupGap;
        var plotHeight = Math.Max(groupHeight, categories.Count * groupHeight);
        var width = left + PlotWidth + 40;
        var height = Top + plotHeight + 22;
        var svg = new StringBuilder();
        svg.Append(F($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" width=\"{width:0}\" height=\"{height:0}\" viewBox=\"0 0 {width:0} {height:0}\" font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif\">"));
        svg.Append("<title>").Append(Xml(title)).Append("</title>");
        svg.Append(F($"<text x=\"0\" y=\"16\" font-size=\"14\" font-weight=\"600\" fill=\"#212529\">{Xml(title)}</text>"));

        var x = 0.0;
        foreach (var s in series)
        {
            svg.Append(F($"<rect x=\"{x:0.#}\" y=\"26\" width=\"12\" height=\"10\" rx=\"2\" fill=\"{s.Color}\"/><text x=\"{x + 16:0.#}\" y=\"35\" font-size=\"11\" fill=\"#343a40\">{Xml(s.Name)}</text>"));
            x += 30 + (s.Name.Length * 6.2);
        }

        if (limit is not null && limitLabel is not null)
        {
            svg.Append(F($"<line x1=\"{x:0.#}\" y1=\"31\" x2=\"{x + 16:0.#}\" y2=\"31\" stroke=\"#c92a2a\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/><text x=\"{x + 20:0.#}\" y=\"35\" font-size=\"11\" fill=\"#c92a2a\">{Xml(limitLabel)}</text>"));
        }

        double X(double fraction) => left + (PlotWidth * Math.Clamp(fraction, 0, 1));
        for (var tick = 0; tick <= 100; tick += 25)
        {
            var tx = X(tick / 100.0);
            svg.Append(F($"<line x1=\"{tx:0.#}\" y1=\"{Top - 4:0}\" x2=\"{tx:0.#}\" y2=\"{Top + plotHeight:0.#}\" stroke=\"{(tick == 0 ? "#495057" : "#e9ecef")}\"/>"));
            svg.Append(F($"<text x=\"{tx:0.#}\" y=\"{Top + plotHeight + 14:0.#}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#868e96\">{tick}%</text>"));
        }

        for (var c = 0; c < categories.Count; c++)
        {
            var groupY = Top + (GroupGap / 2) + (c * groupHeight);
            svg.Append(F($"<g class=\"bar-group\" data-category=\"{Xml(categories[c])}\">"));
            svg.Append(F($"<text x=\"{left - 8:0.#}\" y=\"{groupY + (series.Count * Bar / 2) + 4:0.#}\" font-size=\"11\" text-anchor=\"end\" fill=\"#212529\"><title>{Xml(categories[c])}</title>{Xml(Shortened(categories[c]))}</text>"));
            for (var s = 0; s < series.Count; s++)
            {
                var value = c < series[s].Values.Count ? series[s].Values[c] : null;
                var barY = groupY + (s * Bar);
                if (value is not { } v)
                {
                    svg.Append(F($"<text x=\"{left + 4:0.#}\" y=\"{barY + 8:0.#}\" font-size=\"9\" fill=\"#adb5bd\">–</text>"));
                    continue;
                }

                var end = X(v);
                var mark = series[s].Marks is { } marks && c < marks.Count ? marks[c] ?? string.Empty : string.Empty;
                svg.Append(F($"<rect class=\"bar\" x=\"{left:0.#}\" y=\"{barY + 0.5:0.#}\" width=\"{Math.Max(end - left, 1):0.#}\" height=\"{Bar - 1:0.#}\" fill=\"{series[s].Color}\"><title>{Xml(categories[c])}, {Xml(series[s].Name)}: {(v * 100).ToString("0.0", CultureInfo.InvariantCulture)}%{Xml(mark)}</title></rect>"));
                svg.Append(F($"<text x=\"{Math.Max(end - left, 1) + left + 3:0.#}\" y=\"{barY + 8.5:0.#}\" font-size=\"9\" fill=\"#343a40\">{(v * 100).ToString("0.0", CultureInfo.InvariantCulture)}{Xml(mark)}</text>"));
            }

            svg.Append("</g>");
        }

        if (limit is { } l)
        {
            var lx = X(l);
            svg.Append(F($"<line class=\"limit\" x1=\"{lx:0.#}\" y1=\"{Top - 4:0}\" x2=\"{lx:0.#}\" y2=\"{Top + plotHeight:0.#}\" stroke=\"#c92a2a\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>"));
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    private static string Xml(string text) => HtmlPage.E(text);

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
