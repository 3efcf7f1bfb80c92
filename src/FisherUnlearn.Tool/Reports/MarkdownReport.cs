using System.Globalization;
using FisherUnlearn.Engine.Verification;
using System.Text;
using FisherUnlearn.Lineage.Rendering;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Reports;

/// <summary>
/// report.md: GitHub-flavoured Markdown (also the GitHub Actions step summary). Title with the removal and its reason; a
/// summary table (what is forgotten, method, affected models and roots, time, targets); the lineage as a Mermaid graph
/// with roots and affected models marked; a table of all models; one collapsible section per model (role, method,
/// calibrated parameters, before/after/reference metrics, time, input and output SHA-256); provenance (manifest hashes,
/// tool version).
/// </summary>
internal static class MarkdownReport
{
    public const string FileName = "report.md";

    // The title, the verdict and the start of the summary table (what is forgotten), shared by both reports.
    private static StringBuilder Head(ReportModel model)
    {
        var md = new StringBuilder();
        Title(md, model);
        md.Append(Verdict(model)).Append("\n\n");
        md.Append("| | |\n|---|---|\n");
        if (model.Forget.Length > 0)
        {
            md.Append("| Forget | ").Append(Text(model.Forget)).Append(" |\n");
        }

        return md;
    }

    public static string Render(ReportModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var md = Head(model);

        if (!string.IsNullOrEmpty(model.RequestedAt))
        {
            md.Append("| Requested | ").Append(Text(model.RequestedAt)).Append(" |\n");
        }

        md.Append("| Method | ").Append(Code(model.Method, inTable: true)).Append(" |\n");
        md.Append("| Affected | ").Append(AffectedText(model)).Append(" |\n");
        md.Append("| Roots | ").Append(model.Roots.Count == 0 ? "none" : string.Join(", ", model.Roots.Select(r => Code(r, inTable: true)))).Append(" |\n");
        md.Append("| Time | ").Append(TimeText(model)).Append(" |\n");
        md.Append("| Targets | ").Append(TargetsText(model)).Append(" |\n");
        md.Append('\n');

        if (model.Diagram.Models.Count > 0)
        {
            md.Append("## Lineage\n\n");
            var fit = GraphRenderer.FitOf(model.Diagram);
            if (fit == MermaidFit.TooLarge)
            {
                // GitHub would show an error box instead: Mermaid draws at most 500 edges.
                md.Append(string.Create(CultureInfo.InvariantCulture,
                    $"The lineage has {model.Diagram.Edges.Count(e => e.FromKind != DiagramNodeKind.Dataset)} relations, more than the {GraphRenderer.MermaidMaxEdges} edges Mermaid draws (so GitHub would not show it here): see the picture in {HtmlReport.FileName}.\n\n"));
            }
            else
            {
                md.Append("Red: roots (their own data holds what is forgotten); orange: affected descendants; grey: unaffected.")
                    .Append(fit == MermaidFit.WithoutDatasets
                        ? string.Create(CultureInfo.InvariantCulture, $" Datasets left out: with them the graph would have more than the {GraphRenderer.MermaidMaxEdges} edges Mermaid draws.")
                        : string.Empty)
                    .Append("\n\n");
                md.Append("```mermaid\n").Append(GraphRenderer.Mermaid(model.Diagram)).Append("```\n\n");
            }
        }

        md.Append("## Models\n\n");
        var reference = model.Models.Any(m => m.Reference is not null);
        md.Append("| model | role | method | status | forget % | retain % | test % | MIA % | time |\n");
        md.Append("|---|---|---|---|--:|--:|--:|--:|--:|\n");
        foreach (var m in model.Models)
        {
            md.Append($"| {Code(m.Id, inTable: true)} | {Text(m.Role)} | {Code(m.Method, inTable: true)} | {StatusText(model, m)} | {Change(m, x => x.ForgetAccuracy)} | {Change(m, x => x.RetainAccuracy)} | {Change(m, x => x.TestAccuracy)} | {Change(m, x => x.Mia, MiaMark)} | {ReportText.ModelSeconds(m)} |\n");
        }

        md.Append('\n');
        if (model.Models.Any(UninformativeMia))
        {
            md.Append(UninformativeMiaNote).Append("\n\n");
        }

        if (model.Models.Any(Unmeasured))
        {
            md.Append(UnmeasuredNote).Append("\n\n");
        }

        if (OutputBiasOnlyNote(model) is { } biasOnly)
        {
            md.Append(biasOnly).Append("\n\n");
        }

        md.Append(reference
            ? $"Each cell: before → after (retrained reference). Forget: {ForgetLegend(model)}; retain: on the labels kept; MIA: share of forget samples a membership-inference attack calls members.\n\n"
            : $"Each cell: before → after. Forget: {ForgetLegend(model)}; retain: on the labels kept; MIA: share of forget samples a membership-inference attack calls members.\n\n");

        foreach (var m in model.Models)
        {
            md.Append("<details><summary><b>").Append(Html(m.Id)).Append("</b> (").Append(Html(m.Role)).Append(", ").Append(Html(m.Method)).Append(", ")
                .Append(m.Succeeded ? ReportText.Seconds(m.Seconds) : m.Missing ? StatusText(model, m, symbols: false) : "failed").Append(")</summary>\n\n");
            if (m.Error is not null)
            {
                md.Append(m.Missing ? "**No current output:** " : "**Failed:** ").Append(Text(m.Error)).Append("\n\n");
            }

            if (m.UpstreamRoots.Count > 0 && m.Role != "root")
            {
                md.Append("Inherits the forgotten data from ").Append(string.Join(", ", m.UpstreamRoots.Select(r => Code(r)))).Append(".\n\n");
            }

            md.Append("| | before | after |").Append(reference ? " reference |" : string.Empty).Append('\n');
            md.Append("|---|--:|--:|").Append(reference ? "--:|" : string.Empty).Append('\n');
            foreach (var (label, pick) in Metrics)
            {
                // MIA rates from an attack at chance carry the † of the main table here too.
                var mia = label == "MIA %";
                string Value(ReportMetrics? x) => ReportText.Percent(x is null ? null : pick(x)) + (mia && x?.MiaInformative == false ? MiaMark : string.Empty);
                md.Append("| ").Append(label).Append(" | ").Append(Value(m.Before)).Append(" | ").Append(Value(m.After)).Append(" |");
                if (reference)
                {
                    md.Append(' ').Append(Value(m.Reference)).Append(" |");
                }

                md.Append('\n');
            }

            md.Append('\n');

            if (ReportText.Unchanged(m.Parameters) is { } why)
            {
                md.Append("- Left as it was: ").Append(Text(why)).Append('\n');
            }

            md.Append("- Parameters: ").Append(Text(ReportText.Parameters(m.Parameters))).Append('\n');
            md.Append("- Input SHA-256: ").Append(Code(ReportText.ShortHash(m.InputSha256))).Append("; output").Append(m.Output is null ? string.Empty : " " + Code(m.Output))
                .Append(" SHA-256: ").Append(Code(ReportText.ShortHash(m.OutputSha256))).Append('\n');
            foreach (var missed in model.MissedBy(m))
            {
                md.Append("- Missed: ").Append(Text(missed)).Append('\n');
            }

            md.Append("\n</details>\n\n");
        }

        md.Append("## Provenance\n\n");
        if (model.Manifests.Count > 0)
        {
            md.Append("| manifest | path | SHA-256 |\n|---|---|---|\n");
            foreach (var manifest in model.Manifests)
            {
                md.Append($"| {Text(manifest.Kind)} {Code(manifest.Id, inTable: true)} | {Code(manifest.Path, inTable: true)} | {Code(ReportText.ShortHash(manifest.Sha256), inTable: true)} |\n");
            }

            md.Append('\n');
        }
        else if (model.RemovalSha256 is not null)
        {
            md.Append("Removal manifest SHA-256: ").Append(Code(model.RemovalSha256)).Append("\n\n");
        }

        md.Append("Tool: ").Append(Code("dotnet unlearn " + model.ToolVersion)).Append(". Full hashes, parameters and metrics: `report.json`.\n");
        return md.ToString();
    }

    /// <summary>The GitHub step summary of a removal that affects no model (FUL2012), for which no report is written:
    /// the title, the verdict (nothing to do), what is forgotten and how many models were looked at.</summary>
    public static string RenderNothingAffected(ReportModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var md = Head(model);

        md.Append("| Affected | none; ").Append(model.Unaffected.Count).Append(" unaffected |\n\n");
        md.Append("No report is written (FUL2012): no model's own data holds what the removal asks to forget.\n");
        return md.ToString();
    }

    private static void Title(StringBuilder md, ReportModel model)
    {
        md.Append("# Removal ").Append(Code(model.RemovalId));
        if (!string.IsNullOrWhiteSpace(model.Reason))
        {
            md.Append(": ").Append(Text(model.Reason));
        }

        md.Append("\n\n");
    }

    internal static readonly (string Label, Func<ReportMetrics, double?> Pick)[] Metrics =
    [
        ("forget accuracy %", m => m.ForgetAccuracy),
        ("retain accuracy %", m => m.RetainAccuracy),
        ("test accuracy %", m => m.TestAccuracy),
        ("MIA %", m => m.Mia),
        (MiaAttackLabel, m => m.MiaAttackAccuracy),
    ];

    /// <summary>The label of the membership attack's own accuracy among <see cref="Metrics"/>.</summary>
    public const string MiaAttackLabel = "MIA attack accuracy %";

    /// <summary>The mark of an MIA rate measured by an attack at chance (<see cref="UninformativeMiaNote"/>).</summary>
    public const string MiaMark = "†";

    /// <summary>What the mark means, for the line under a table that uses it.</summary>
    public static readonly string UninformativeMiaNote = string.Create(CultureInfo.InvariantCulture,
        $"{MiaMark} The membership-inference attack is near chance on that state (below {MembershipInference.InformativeAccuracy * 100:0}% accuracy on the model's own train and test samples): its rate there is not evidence either way.");

    /// <summary>What the forget column measures: held-out samples of forgotten labels, or the forgotten samples themselves.</summary>
    public static string ForgetLegend(ReportModel model) => model.ForgetsSamples
        ? "accuracy on the forgotten training samples themselves (and on held-out samples of any forgotten labels)"
        : "held-out accuracy on the forgotten labels";

    /// <summary>What a dash in a metrics cell means, for the line under a table that has one.</summary>
    public const string UnmeasuredNote =
        "– Not measured: the model has no sample to measure it on (for example no label left to retain when it forgets every label it knows; for the MIA rate, no forgotten training sample it learned, or train data deleted since: FUL5008). A target on such a value is not checked.";

    /// <summary>Whether any measured state of the model lacks one of the four values (the set to measure it on is empty).</summary>
    public static bool Unmeasured(ReportEntry m) =>
        new[] { m.Before, m.After, m.Reference }.OfType<ReportMetrics>()
            .Any(x => x.ForgetAccuracy is null || x.RetainAccuracy is null || x.TestAccuracy is null || x.Mia is null);

    /// <summary>Whether the model's output lowered the forgotten labels' output biases (the head shift) and dampened no
    /// weight: it no longer predicts them, but its other layers are as they were.</summary>
    public static bool OutputBiasOnly(ReportEntry m) =>
        m.Succeeded && ReportText.Unchanged(m.Parameters) is null
        && ReportText.HeadShifted(m.Parameters)
        && m.Parameters!["selected"] is { Type: JTokenType.Integer } selected && (long)selected! == 0;

    /// <summary>What a head shift alone did and did not do, naming the models it was for (QA: a compliance reader saw
    /// "targets met" where only one bias tensor differed from the original); null when no model is such.</summary>
    public static string? OutputBiasOnlyNote(ReportModel model)
    {
        var ids = model.Models.Where(OutputBiasOnly).Select(m => m.Id).ToList();
        return ids.Count == 0 ? null
            : $"Output bias only: {string.Join(", ", ids.Select(id => $"`{id}`"))} dampened no weight. The forgotten labels' output biases were lowered "
              + "(the head shift) until the model stopped predicting them; its other layers are as they were, so they may still encode what it learned "
              + "of those labels, and a membership-inference rate marked † cannot show it either way. To dampen weights too, set \"headCorrection\": \"off\" "
              + "in the removal's parameters, at a cost in retained accuracy (docs/methods.md, step 3).";
    }

    /// <summary>Whether any state of the model has an MIA rate from an attack at chance.</summary>
    public static bool UninformativeMia(ReportEntry m) =>
        new[] { m.Before, m.After, m.Reference }.Any(x => x?.MiaInformative == false);

    // How many of the models without a current output have one made before an input changed (QA: the headline said only
    // "without a current output yet" while the rows said "out of date").
    private static string OutOfDate(ReportModel model) =>
        model.Models.Count(m => m.Status == ReportEntry.StaleStatus) is var stale and > 0
            ? stale == model.Models.Count(m => m.Missing) ? " (out of date)" : $" ({stale} out of date)"
            : string.Empty;

    /// <summary>One line for people: did it work?</summary>
    public static string Verdict(ReportModel model, bool symbols = true)
    {
        var ok = symbols ? "✅ " : string.Empty;
        var bad = symbols ? "❌ " : string.Empty;
        var failed = model.Models.Count(m => !m.Succeeded && !m.Missing);
        var missing = model.Models.Count(m => m.Missing);
        if (failed + missing > 0)
        {
            var parts = new[]
            {
                failed > 0 ? $"{failed} of {model.Models.Count} {Models(model.Models.Count)} failed" : null,
                missing > 0 ? $"{missing} of {model.Models.Count} {Models(model.Models.Count)} without a current output yet{OutOfDate(model)}" : null,
            };
            return $"**{bad}{string.Join("; ", parts.OfType<string>())}.**";
        }

        if (model.Models.Count == 0)
        {
            return $"**{ok}No model learned the forgotten data: nothing to do.**";
        }

        var missed = model.Models.Count(m => model.MissedBy(m).Count > 0);
        var unchanged = model.Models.Count(m => ReportText.Unchanged(m.Parameters) is not null);
        var done = unchanged == 0 ? $"{model.Models.Count} {Models(model.Models.Count)} unlearned"
            : $"{model.Models.Count} {Models(model.Models.Count)} done ({unchanged} written unchanged)";
        var awaits = symbols ? "⏳ " : string.Empty;
        return missed > 0 ? $"**{bad}Targets missed by {missed} of {model.Models.Count} models.**"
            : model.AwaitsVerify ? $"**{awaits}{done}; targets not known yet: 'dotnet unlearn verify' judges the forgotten samples.**"
            : model.HasTargets ? $"**{ok}{done}; targets met{(model.Verification is null ? " (by the run's measurements)" : model.Verification.Reference ? " (verified against the retrained reference)" : " (verified)")}.**"
            : $"**{ok}{done}.**";
    }

    private static string Models(int count) => count == 1 ? "model" : "models";

    internal static string AffectedText(ReportModel model)
    {
        var roots = model.Models.Count(m => m.Role == "root");
        var text = $"{model.Models.Count} model{(model.Models.Count == 1 ? string.Empty : "s")} ({roots} root{(roots == 1 ? string.Empty : "s")}, {model.Models.Count - roots} descendant{(model.Models.Count - roots == 1 ? string.Empty : "s")})";
        return model.Unaffected.Count > 0 ? $"{text}; {model.Unaffected.Count} unaffected" : text;
    }

    /// <summary>The models' own unlearning times, added up, which is what retraining is set against: the reference's time
    /// holds its retraining alone, while a run's wall time also holds loading libtorch and the before/after measurements
    /// (found in QA: the demo's report read "4.19 s unlearning; retraining the reference: 2.95 s (×1.42 slower)" for models
    /// that took 0.92 s). The wall time stays in report.json's <c>seconds</c>: after '--only' runs, shards and merges no
    /// single run's wall time describes the outputs. Each model's time counts to the millisecond, as report.json keeps it,
    /// so a run's summary and a later verify's agree.</summary>
    internal static string TimeText(ReportModel model)
    {
        if (model.Models.Count == 0)
        {
            return ReportText.Seconds(model.Seconds);
        }

        var unlearning = Math.Round(model.Models.Sum(m => Math.Round(m.Seconds, 3)), 3);
        var text = $"{ReportText.Seconds(unlearning)} unlearning (the models' own times, added up)";
        if (model.Verification?.ReferenceSeconds is { } reference && reference > 0)
        {
            text += $"; retraining the reference: {ReportText.Seconds(reference)}";
            // Left as they were, the models were not unlearned faster or slower than anything: only the time is said.
            var changed = model.Models.Any(m => ReportText.Unchanged(m.Parameters) is null);
            if (unlearning > 0 && changed)
            {
                text += $" (unlearning {SpeedUp(reference / unlearning)})";
            }
        }

        return text;
    }

    /// <summary>Unlearning against retraining: "×120 faster", "×1.03 faster", "×2.5 slower"; two decimals under 10, so that
    /// a ratio of 1.03 does not read "×1 faster".</summary>
    internal static string SpeedUp(double ratio)
    {
        var (factor, word) = ratio >= 1 ? (ratio, "faster") : (1 / ratio, "slower");
        return FormattableString.Invariant($"×{factor.ToString(factor < 10 ? "0.##" : "0.#", System.Globalization.CultureInfo.InvariantCulture)} {word}");
    }

    internal static string TargetsText(ReportModel model, bool symbols = true)
    {
        if (!model.HasTargets)
        {
            return "none set";
        }

        var limits = new List<string>();
        if (model.MaxForgetAccuracy is { } forget)
        {
            // On a sample request the forget column pools the forgotten samples, which are judged against unseen ones.
            limits.Add(!model.ForgetsSamples ? $"forget accuracy ≤ {ReportText.Percent(forget)}%"
                : model.ForgetsLabels ? $"held-out forget accuracy of the forgotten labels ≤ {ReportText.Percent(forget)}%, the forgotten samples scored no better than unseen ones"
                : "the forgotten samples scored no better than unseen ones");
        }

        if (model.MaxRetainDrop is { } drop)
        {
            limits.Add($"retain drop ≤ {ReportText.Percent(drop)} points");
        }

        // A target left out is not checked: said, so "met" does not read as "forgotten" (QA: a request with only
        // maxRetainDrop read "targets met" with the forgotten label still 93% recognised).
        if (model.MaxForgetAccuracy is null)
        {
            limits.Add("forget accuracy not checked (no maxForgetAccuracy)");
        }
        else if (model.MaxRetainDrop is null)
        {
            limits.Add("retain accuracy not checked (no maxRetainDrop)");
        }

        // Not met is not the same as missed: with models failed or without an output yet, and none of those measured
        // missing a target, the verdict is pending (report.json's targetsMet null).
        var pending = model.Undetermined;
        // The verdict, then how it was reached, then what the targets are (QA: the limits in parentheses after the verdict
        // read as a description of the result).
        var by = model.Verification is null ? "by the run's measurements" : model.Verification.Reference ? "verified against the retrained reference" : "verified";
        var verdict = (symbols ? (model.TargetsMet ? "✅ " : pending ? "⏳ " : "❌ ") : string.Empty)
            + (model.TargetsMet ? $"met ({by})"
                : model.Pending ? "not known yet: 'dotnet unlearn verify' judges the forgotten samples"
                : pending ? "not known yet: not every model has a current output"
                : $"missed ({by})");
        return $"{verdict}. Targets: {string.Join("; ", limits)}.";
    }

    internal static string StatusText(ReportModel model, ReportEntry entry, bool symbols = true) =>
        (symbols ? (!entry.Succeeded ? "❌ " : model.MissedBy(entry).Count > 0 ? "⚠️ " : "✅ ") : string.Empty)
        + (entry.Status == ReportEntry.StaleStatus ? "out of date" : entry.Missing ? "no output yet" : !entry.Succeeded ? "failed" : model.MissedBy(entry).Count > 0 ? "target missed" : "done");

    private static string Change(ReportEntry m, Func<ReportMetrics, double?> pick, string? uninformativeMark = null)
    {
        if (m.Before is null && m.After is null)
        {
            return "–";
        }

        string Value(ReportMetrics? x) => ReportText.Percent(x is null ? null : pick(x)) + (uninformativeMark is not null && x?.MiaInformative == false ? uninformativeMark : string.Empty);
        var text = $"{Value(m.Before)} → {Value(m.After)}";
        return m.Reference is null ? text : $"{text} ({Value(m.Reference)})";
    }

    /// <summary>Text quoted from a manifest or a report.json (a reason, an error, a parameter), as it was written: read as
    /// neither HTML, emphasis, a link nor a table's column separator, on one line (report.md's lines are its layout), with hidden characters
    /// shown (<see cref="ReportText.Visible"/>). GitHub renders the step summary's HTML, so an unescaped
    /// <c>&lt;b&gt;</c> in a reason would be bold there and a <c>&lt;details&gt;</c> would swallow the rest of the report.</summary>
    internal static string Text(string text)
    {
        var escaped = new StringBuilder(text.Length + 16);
        var source = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            escaped.Append(c switch
            {
                // Nor a bare link: GitHub and markdown-it link "http://x", "www.x" and "a@b.c" in plain text; an escaped ':',
                // '.' or '@' splits the text where they look for one, and still shows the character.
                ':' when source.AsSpan(i).StartsWith("://") => "\\:",
                '.' when i >= 3 && source.AsSpan(i - 3, 3).Equals("www", StringComparison.OrdinalIgnoreCase) => "\\.",
                '@' => "\\@",
                _ when ReportText.Hidden(c) => ReportText.Shown(c), // \u0007: that backslash is the escape's, so not doubled as the text's are
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                // A backslash of the text stays one (it would escape what follows: "\&lt;" shows as "&lt;"), a backtick
                // opens no code span, and a pipe does not end a table cell.
                '\\' => "\\\\",
                '`' => "\\`",
                '|' => "\\|",
                // Nor emphasis, strikethrough or a link ("*urgent* [ticket](http://x)" reads as written).
                '*' or '_' or '~' or '[' or ']' => "\\" + c,
                '\r' or '\n' or '\t' => " ",
                _ => c.ToString(),
            });
        }

        return escaped.ToString();
    }

    /// <summary>A code span of <paramref name="text"/> (an id, a path, a hash), shown as written: Markdown reads nothing
    /// inside one, so only what would end it is dealt with: a backtick in the text gets a longer fence, a line break
    /// becomes a space, a pipe is escaped <paramref name="inTable"/> (GitHub splits cells before it reads code spans),
    /// and hidden characters are shown (<see cref="ReportText.Visible"/>).</summary>
    internal static string Code(string text, bool inTable = false)
    {
        var content = ReportText.Visible(text).Replace("\r\n", " ", StringComparison.Ordinal).Replace('\r', ' ').Replace('\n', ' ').Replace('\t', ' ');
        if (inTable)
        {
            content = content.Replace("|", "\\|", StringComparison.Ordinal);
        }

        var longest = 0;
        for (int i = 0, run = 0; i < content.Length; i++)
        {
            run = content[i] == '`' ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        if (longest == 0)
        {
            return "`" + content + "`";
        }

        var fence = new string('`', longest + 1);
        return $"{fence} {content} {fence}";
    }

    private static string Html(string text) => HtmlPage.E(text);
}
