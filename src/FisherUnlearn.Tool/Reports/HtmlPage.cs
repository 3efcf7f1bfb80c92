using System.Net;
using System.Text;

namespace FisherUnlearn.Tool.Reports;

/// <summary>
/// What the tool's HTML pages (<see cref="HtmlReport"/>, <see cref="LineagePage"/>) share: the document head with one
/// inline stylesheet (no scripts, fonts or anything fetched, so a page renders offline and from a CI artifact), the
/// summary cards and HTML escaping.
/// </summary>
internal static class HtmlPage
{
    private const string BaseStyle = """
        :root { color-scheme: light; }
        * { box-sizing: border-box; }
        body { margin: 0; background: #f8f9fa; color: #212529; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
        main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 40px; }
        h1 { font-size: 24px; margin: 0 0 4px; }
        h1 code { font-size: 22px; }
        h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #dee2e6; }
        code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; background: #f1f3f5; padding: 1px 4px; border-radius: 3px; }
        .reason { color: #495057; font-size: 16px; margin: 0 0 14px; }
        .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 10px; align-items: start; }
        .card { background: #fff; border: 1px solid #dee2e6; border-radius: 8px; padding: 10px 14px; min-width: 0; }
        .card .k { color: #868e96; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
        .card .v { font-size: 15px; font-weight: 600; margin-top: 2px; overflow-wrap: break-word; }
        .panel { background: #fff; border: 1px solid #dee2e6; border-radius: 8px; padding: 12px; overflow-x: auto; }
        .graph svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
        table { border-collapse: collapse; width: 100%; background: #fff; font-size: 13px; }
        th, td { border: 1px solid #dee2e6; padding: 5px 8px; text-align: left; vertical-align: top; }
        th { background: #f1f3f5; font-weight: 600; }
        td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        tr.root td:first-child { border-left: 4px solid #c92a2a; }
        tr.descendant td:first-child { border-left: 4px solid #e8590c; }
        .muted { color: #868e96; font-size: 12px; }
        td.id code { white-space: nowrap; }
        .joints { white-space: normal; }
        td.sha code { overflow-wrap: anywhere; }
        @media print {
          body { background: #fff; font-size: 11px; }
          main { max-width: none; padding: 0; }
          .panel { overflow: visible; border: none; padding: 0; }
          .graph svg { min-width: 0 !important; }
          table { font-size: 10px; }
          th, td, td.n { white-space: normal !important; }
          h2 { break-after: avoid; }
          .card, tr { break-inside: avoid; }
        }
        footer { margin-top: 28px; color: #868e96; font-size: 12px; }
        """;

    /// <summary>How far a page shrinks a lineage drawing to fit its width; a wider one scrolls (<see cref="SvgGraphOptions.MinScale"/>).</summary>
    public const double GraphMinScale = 0.6;

    /// <summary>Opens the document up to and including <c>&lt;main&gt;</c>; <paramref name="style"/> adds the page's own rules.</summary>
    public static void Begin(StringBuilder html, string title, string style = "")
    {
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.Append("<title>").Append(E(title)).Append("</title>\n");
        html.Append("<style>\n").Append(BaseStyle);
        if (style.Length > 0)
        {
            html.Append('\n').Append(style);
        }

        html.Append("\n</style>\n</head>\n<body>\n<main>\n");
    }

    /// <summary>Closes what <see cref="Begin"/> opened, after a footer of escaped text and <c>code</c> spans.</summary>
    public static void End(StringBuilder html, string footerHtml)
    {
        html.Append("<footer>").Append(footerHtml).Append("</footer>\n");
        html.Append("</main>\n</body>\n</html>\n");
    }

    public static void Card(StringBuilder html, string key, string value, bool ids = false) =>
        html.Append("<div class=\"card\"><div class=\"k\">").Append(E(key)).Append("</div><div class=\"v\">").Append(ids ? Breakable(value) : E(value)).Append("</div></div>\n");

    /// <summary><see cref="E"/>; a text longer than <see cref="UnbrokenLength"/> characters gets a line-break opportunity
    /// after each '.', '-', '_', '/' and ',' (in a <c>joints</c> span, which may wrap where the cell keeps ids on one line):
    /// a long id or path wraps where it has a joint, a table never squeezes it below its longest part, and a short one
    /// stays whole (QA: with breaks allowed anywhere, ids were cut into four-letter pieces; with breaks at every joint,
    /// the demo's 'digits-federated' took two lines at 1280 px; without any, 63-character ids pushed the Models table
    /// past 1280 px).</summary>
    public static string Breakable(string text)
    {
        var escaped = E(text);
        if (text.Length <= UnbrokenLength)
        {
            return escaped;
        }

        var html = new StringBuilder(escaped.Length + 48).Append("<span class=\"joints\">");
        foreach (var c in escaped)
        {
            html.Append(c);
            if (c is '.' or '-' or '_' or '/' or ',')
            {
                html.Append("<wbr>");
            }
        }

        return html.Append("</span>").ToString();
    }

    /// <summary>The longest text <see cref="Breakable"/> leaves whole.</summary>
    public const int UnbrokenLength = 24;

    /// <summary>A card's list of ids: the first <paramref name="shown"/>, then how many more (the page's table lists every
    /// one; QA: 18 roots of up to 63 characters made a card a page high).</summary>
    public static string Ids(IReadOnlyList<string> ids, int shown = 5) =>
        ids.Count == 0 ? "none" : ids.Count <= shown + 1 ? string.Join(", ", ids) : $"{string.Join(", ", ids.Take(shown))} and {ids.Count - shown} more";

    /// <summary>Escaped for HTML text and attribute values, with hidden characters shown (<see cref="ReportText.Visible"/>):
    /// HtmlEncode leaves control characters as they are, and a NUL or a bell in a manifest's text would otherwise be
    /// written raw into the page.</summary>
    public static string E(string text) => WebUtility.HtmlEncode(ReportText.Visible(text));
}
