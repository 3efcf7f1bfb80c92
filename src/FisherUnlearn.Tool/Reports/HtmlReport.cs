using System.Text;
using FisherUnlearn.Engine.Verification;
using FisherUnlearn.Lineage.Rendering;

namespace FisherUnlearn.Tool.Reports;

/// <summary>
/// report.html: one self-contained page that renders offline (inline CSS and SVG only: no scripts, fonts, stylesheets or
/// images from elsewhere). The same summary as report.md; the lineage as an SVG (<see cref="SvgGraphRenderer"/>); bar
/// charts of forget, retain and test accuracy and MIA before/after (and reference) per model; the models table with
/// parameters and hashes; provenance.
/// </summary>
internal static class HtmlReport
{
    public const string FileName = "report.html";

    private const string BeforeColor = "#adb5bd";
    private const string AfterColor = "#1c7ed6";
    private const string ReferenceColor = "#2f9e44";

    private const string Style = """
        .verdict { display: inline-block; padding: 6px 12px; border-radius: 6px; font-weight: 600; margin: 4px 0 16px; }
        .verdict.ok { background: #d3f9d8; color: #2b8a3e; border: 1px solid #8ce99a; }
        .verdict.bad { background: #ffe3e3; color: #c92a2a; border: 1px solid #ffa8a8; }
        .verdict.pending { background: #fff3bf; color: #8f5b00; border: 1px solid #ffe066; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 12px; }
        .charts .panel svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
        .before { color: #868e96; }
        .ref { color: #2f9e44; }
        .bad { color: #c92a2a; }
        #models th, #models td { padding: 5px 6px; }
        td.params { font-size: 12px; min-width: 150px; }
        td.params p.unchanged { margin: 0 0 4px; }
        td.hash code { font-size: 11px; white-space: nowrap; }
        """;

    public static string Render(ReportModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var html = new StringBuilder();
        HtmlPage.Begin(html, $"Removal {model.RemovalId} · dotnet unlearn", Style);

        html.Append("<h1>Removal <code>").Append(E(model.RemovalId)).Append("</code></h1>\n");
        if (!string.IsNullOrWhiteSpace(model.Reason))
        {
            html.Append("<p class=\"reason\">").Append(E(model.Reason)).Append("</p>\n");
        }

        var verdict = model.TargetsMet ? "ok" : model.Pending ? "pending" : "bad";
        html.Append("<div class=\"verdict ").Append(verdict).Append("\" id=\"verdict\">")
            .Append(E(MarkdownReport.Verdict(model, symbols: false).Trim('*'))).Append("</div>\n");

        html.Append("<section class=\"cards\" id=\"summary\">\n");
        Card(html, "Forget", model.Forget.Length == 0 ? "–" : model.Forget);
        Card(html, "Method", model.Method);
        Card(html, "Affected", MarkdownReport.AffectedText(model));
        HtmlPage.Card(html, "Roots", HtmlPage.Ids(model.Roots), ids: true);
        Card(html, "Time", MarkdownReport.TimeText(model));
        Card(html, "Targets", MarkdownReport.TargetsText(model, symbols: false));
        if (!string.IsNullOrEmpty(model.RequestedAt))
        {
            Card(html, "Requested", model.RequestedAt);
        }

        html.Append("</section>\n");

        if (model.Diagram.Models.Count > 0)
        {
            html.Append("<h2>Lineage</h2>\n<div class=\"panel graph\" id=\"lineage\">\n");
            html.Append(SvgGraphRenderer.Render(model.Diagram, new SvgGraphOptions { IdPrefix = "lineage", IncludeDatasets = false, MinScale = HtmlPage.GraphMinScale }));
            html.Append("</div>\n");
        }

        var measured = model.Models.Where(m => m.Before is not null || m.After is not null).ToList();
        if (measured.Count > 0)
        {
            var reference = measured.Any(m => m.Reference is not null);
            html.Append("<h2>Before and after</h2>\n<div class=\"charts\" id=\"charts\">\n");
            foreach (var (label, pick) in MarkdownReport.Metrics)
            {
                // MIA rates from an attack near chance carry their † in the chart too, as in the tables (QA: "100.0" read at
                // face value in the chart, "100.0†" in the table).
                var mia = label == "MIA %";
                IReadOnlyList<string?>? Marks(Func<ReportEntry, ReportMetrics?> state) =>
                    mia ? [.. measured.Select(m => state(m)?.MiaInformative == false ? MarkdownReport.MiaMark : null)] : null;
                var series = new List<ChartSeries>
                {
                    new("before", BeforeColor, [.. measured.Select(m => m.Before is null ? null : pick(m.Before))], Marks(m => m.Before)),
                    new("after", AfterColor, [.. measured.Select(m => m.After is null ? null : pick(m.After))], Marks(m => m.After)),
                };
                if (reference)
                {
                    series.Add(new("retrained reference", ReferenceColor, [.. measured.Select(m => m.Reference is null ? null : pick(m.Reference))], Marks(m => m.Reference)));
                }

                var forget = label.StartsWith("forget", StringComparison.Ordinal);
                var attack = label == MarkdownReport.MiaAttackLabel;
                var title = char.ToUpperInvariant(label[0]) + label[1..].Replace(" %", string.Empty, StringComparison.Ordinal);
                // The target line only where the bars are what it applies to: a sample request's forget bars pool the samples.
                var (line, lineLabel) = forget && !model.ForgetsSamples && model.MaxForgetAccuracy is { } max ? (max, $"target ≤ {ReportText.Percent(max)}%")
                    : attack ? (MembershipInference.InformativeAccuracy, $"informative from {MembershipInference.InformativeAccuracy * 100:0}%")
                    : ((double?)null, (string?)null);
                html.Append("<div class=\"panel\">")
                    .Append(SvgBarChart.Render(title, [.. measured.Select(m => m.Id)], series, line, lineLabel))
                    .Append("</div>\n");
            }

            html.Append("</div>\n");
        }

        ModelsTable(html, model);
        ProvenanceTable(html, model);
        HtmlPage.End(html, $"Generated by <code>dotnet unlearn {E(model.ToolVersion)}</code>. Full hashes, parameters and metrics are in <code>report.json</code> next to this file.");
        return html.ToString();
    }

    private static void ModelsTable(StringBuilder html, ReportModel model)
    {
        var reference = model.Models.Any(m => m.Reference is not null);
        html.Append("<h2>Models</h2>\n<div class=\"panel\">\n<table id=\"models\">\n<thead><tr><th>model</th><th>role</th><th>method</th><th>status</th>");
        // The attack's accuracy has its chart; in the table it shows as the † of the MIA rates it makes uninformative.
        var columns = MarkdownReport.Metrics.Where(m => m.Label != MarkdownReport.MiaAttackLabel).ToList();
        foreach (var (label, _) in columns)
        {
            html.Append("<th>").Append(E(label)).Append("</th>");
        }

        html.Append("<th>time</th><th>parameters</th><th>SHA-256 in / out</th></tr></thead>\n<tbody>\n");
        foreach (var m in model.Models)
        {
            html.Append("<tr class=\"").Append(m.Role == "root" ? "root" : "descendant").Append("\" data-id=\"").Append(E(m.Id)).Append("\">");
            html.Append("<td class=\"id\"><code>").Append(HtmlPage.Breakable(m.Id)).Append("</code>");
            if (m.Role != "root" && m.UpstreamRoots.Count > 0)
            {
                html.Append("<div class=\"muted\">via ").Append(HtmlPage.Breakable(string.Join(", ", m.UpstreamRoots))).Append("</div>");
            }

            html.Append("</td><td>").Append(E(m.Role)).Append("</td><td>").Append(E(m.Method)).Append("</td>");
            var missed = model.MissedBy(m);
            html.Append("<td").Append(m.Succeeded && missed.Count == 0 ? ">" : " class=\"bad\">").Append(E(MarkdownReport.StatusText(model, m, symbols: false)));
            if (m.Error is not null)
            {
                html.Append("<div class=\"muted\">").Append(E(m.Error)).Append("</div>");
            }

            foreach (var miss in missed)
            {
                html.Append("<div class=\"muted\">").Append(E(miss)).Append("</div>");
            }

            html.Append("</td>");
            foreach (var (label, pick) in columns)
            {
                var mia = label == "MIA %";
                string Value(ReportMetrics? x) => ReportText.Percent(x is null ? null : pick(x)) + (mia && x?.MiaInformative == false ? MarkdownReport.MiaMark : string.Empty);
                html.Append("<td class=\"n\"><span class=\"before\">").Append(Value(m.Before)).Append("</span> → <b>").Append(Value(m.After)).Append("</b>");
                if (reference)
                {
                    // On a line of its own: the table fits a 1280-px window with its parameters and hashes (QA: clipped).
                    html.Append("<br><span class=\"ref\">(").Append(Value(m.Reference)).Append(")</span>");
                }

                html.Append("</td>");
            }

            html.Append("<td class=\"n\">").Append(ReportText.ModelSeconds(m)).Append("</td>");
            html.Append("<td class=\"params\">");
            if (ReportText.Unchanged(m.Parameters) is { } why)
            {
                html.Append("<p class=\"unchanged\"><strong>Left as it was:</strong> ").Append(E(why)).Append("</p>");
            }

            html.Append(E(ReportText.Parameters(m.Parameters))).Append("</td>");
            html.Append("<td class=\"hash\"><code title=\"input ").Append(E(m.InputSha256 ?? string.Empty)).Append("\">").Append(ReportText.ShortHash(m.InputSha256)).Append("</code><br>")
                .Append("<code title=\"output ").Append(E(m.OutputSha256 ?? string.Empty)).Append("\">").Append(ReportText.ShortHash(m.OutputSha256)).Append("</code></td></tr>\n");
        }

        html.Append("</tbody>\n</table>\n<p class=\"muted\">Percentages: <span class=\"before\">before</span> → <b>after</b>")
            .Append(reference ? " <span class=\"ref\">(retrained reference)</span>" : string.Empty)
            .Append(". Forget: ").Append(E(MarkdownReport.ForgetLegend(model))).Append("; retain: on the labels kept; test: on every label the model knows; MIA: share of forget samples a membership-inference attack calls members; † marks a rate from an attack near chance (see the MIA attack accuracy chart).</p>\n");
        if (model.Models.Any(MarkdownReport.UninformativeMia))
        {
            html.Append("<p class=\"muted\">").Append(E(MarkdownReport.UninformativeMiaNote)).Append("</p>\n");
        }

        if (MarkdownReport.OutputBiasOnlyNote(model) is { } biasOnly)
        {
            html.Append("<p class=\"muted\">").Append(E(biasOnly.Replace("`", string.Empty, StringComparison.Ordinal))).Append("</p>\n");
        }

        if (model.Models.Any(MarkdownReport.Unmeasured))
        {
            html.Append("<p class=\"muted\">").Append(E(MarkdownReport.UnmeasuredNote)).Append("</p>\n");
        }

        html.Append("</div>\n");
    }

    private static void ProvenanceTable(StringBuilder html, ReportModel model)
    {
        html.Append("<h2>Provenance</h2>\n<div class=\"panel\">\n");
        if (model.Manifests.Count > 0)
        {
            html.Append("<table id=\"manifests\">\n<thead><tr><th>manifest</th><th>path</th><th>SHA-256 (canonical JSON)</th></tr></thead>\n<tbody>\n");
            foreach (var manifest in model.Manifests)
            {
                html.Append("<tr><td>").Append(E(manifest.Kind)).Append(" <code>").Append(HtmlPage.Breakable(manifest.Id)).Append("</code></td><td><code>").Append(HtmlPage.Breakable(manifest.Path))
                    .Append("</code></td><td class=\"sha\"><code>").Append(E(manifest.Sha256)).Append("</code></td></tr>\n");
            }

            html.Append("</tbody>\n</table>\n");
        }
        else if (model.RemovalSha256 is not null)
        {
            html.Append("<p>Removal manifest SHA-256: <code>").Append(E(model.RemovalSha256)).Append("</code></p>\n");
        }

        html.Append("<p class=\"muted\">Tool version: <code>").Append(E(model.ToolVersion)).Append("</code></p>\n</div>\n");
    }

    private static void Card(StringBuilder html, string key, string value) => HtmlPage.Card(html, key, value);

    private static string E(string text) => HtmlPage.E(text);
}
