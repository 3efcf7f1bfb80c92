using System.Globalization;
using System.Text;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Output;

namespace FisherUnlearn.Tool.Reports;

/// <summary>
/// GitHub Actions integration beyond annotations (docs/reports.md): when <c>GITHUB_ACTIONS=true</c>, appends Markdown
/// to the job's step summary (<c>$GITHUB_STEP_SUMMARY</c>) and <c>name=value</c> lines to the step's outputs
/// (<c>$GITHUB_OUTPUT</c>). Outside Actions, or when the variable is unset, it does nothing. The files are shared with
/// other steps' writers, so each append starts on a new line (the summary with a blank line) and is retried a few times
/// on an <see cref="IOException"/> (a sharing violation); a failure to write is logged, never fatal.
/// </summary>
internal static class GitHubSummary
{
    public const string SummaryVariable = "GITHUB_STEP_SUMMARY";
    public const string OutputVariable = "GITHUB_OUTPUT";

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Appends Markdown to the step summary. True when written.</summary>
    public static bool Append(CliContext context, string markdown)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(markdown);
        // A blank line before it, also after earlier content that did not end its last line.
        var lead = context.GetEnvironmentVariable(SummaryVariable) is { Length: > 0 } path && EndsInsideALine(path) ? "\n\n" : "\n";
        return AppendTo(context, SummaryVariable, lead + markdown.TrimEnd('\n') + "\n");
    }

    private static bool EndsInsideALine(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (stream.Length == 0)
            {
                return false;
            }

            stream.Position = stream.Length - 1;
            return stream.ReadByte() != '\n';
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false; // a missing or unreadable file: AppendTo reports what it can
        }
    }

    /// <summary>Writes step outputs (<c>name=value</c>; a value with a line break uses the heredoc form). True when written.</summary>
    public static bool SetOutputs(CliContext context, IEnumerable<KeyValuePair<string, string>> outputs)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(outputs);
        var text = new StringBuilder();
        foreach (var (name, value) in outputs)
        {
            if (value.Contains('\n', StringComparison.Ordinal) || value.Contains('\r', StringComparison.Ordinal))
            {
                var delimiter = "ghadelimiter_" + Guid.NewGuid().ToString("N");
                text.Append(name).Append("<<").Append(delimiter).Append('\n').Append(value).Append('\n').Append(delimiter).Append('\n');
            }
            else
            {
                text.Append(name).Append('=').Append(value).Append('\n');
            }
        }

        return text.Length == 0 || AppendTo(context, OutputVariable, text.ToString());
    }

    /// <summary>What <c>run</c> and <c>verify</c> publish for a report: the summary (report.md's content) and the outputs
    /// <c>removal</c>, <c>report</c> (report.md), <c>report-html</c>, <c>report-json</c>, <c>affected</c>, <c>failed</c> and
    /// <c>targets-met</c> (<c>true|false</c>). Paths are relative to <c>GITHUB_WORKSPACE</c> when inside it. No-op outside Actions.</summary>
    public static void Publish(CliContext context, ReportModel model, ReportFiles files, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(files);
        if (!context.InGitHubActions)
        {
            return;
        }

        Publish(context, model, MarkdownReport.Render(model), files, log);
    }

    /// <summary>Publishes reports already on disk (a run that found every output up to date): the summary is report.md as
    /// it is, not rendered again from report.json, whose rounded times would make it differ from the report by a digit.
    /// Falls back to rendering <paramref name="model"/> when report.md cannot be read. No-op outside Actions.</summary>
    public static void PublishExisting(CliContext context, ReportModel model, ReportFiles files, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(files);
        if (!context.InGitHubActions)
        {
            return;
        }

        string markdown;
        try
        {
            markdown = File.ReadAllText(files.Markdown);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            markdown = MarkdownReport.Render(model);
        }

        Publish(context, model, markdown, files, log);
    }

    /// <summary>What <c>verify</c> publishes when it could not write the reports (FUL5011: a read-only folder): the summary
    /// and outputs of its measurements all the same, with empty report paths, since the files there do not hold them (QA:
    /// nothing was published, not even targets-met). No-op outside Actions.</summary>
    public static void PublishUnwritten(CliContext context, ReportModel model, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(model);
        if (!context.InGitHubActions)
        {
            return;
        }

        Publish(context, model, MarkdownReport.Render(model), files: null, log);
    }

    /// <summary>What <c>run</c> publishes for a removal that affects no model (FUL2012): a short summary saying so, and
    /// the outputs of <see cref="Publish(CliContext, ReportModel, ReportFiles, Action{string}?)"/> with <c>affected=0</c>,
    /// <c>failed=0</c>, <c>missing=0</c>, <c>targets-met=true</c> (nothing can miss them) and empty report paths (no
    /// report is written). No-op outside Actions.</summary>
    public static void PublishNothingAffected(CliContext context, ReportModel model, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(model);
        if (!context.InGitHubActions)
        {
            return;
        }

        Publish(context, model, MarkdownReport.RenderNothingAffected(model), files: null, log);
    }

    private static void Publish(CliContext context, ReportModel model, string markdown, ReportFiles? files, Action<string>? log)
    {
        if (!Append(context, markdown))
        {
            log?.Invoke($"could not write the step summary ({SummaryVariable} unset or not writable)");
        }

        // Every output is set, an empty path included: an unset output and an empty one read the same in a workflow,
        // but a step that finds report= in $GITHUB_OUTPUT knows this tool ran.
        SetOutputs(context, [
            new("removal", model.RemovalId),
            new("report", files is null ? string.Empty : context.ForActions(files.Markdown)),
            new("report-html", files is null ? string.Empty : context.ForActions(files.Html)),
            new("report-json", files is null ? string.Empty : context.ForActions(files.Json)),
            new("affected", model.Models.Count.ToString(CultureInfo.InvariantCulture)),
            new("failed", model.Models.Count(m => !m.Succeeded && !m.Missing).ToString(CultureInfo.InvariantCulture)),
            new("missing", model.Models.Count(m => m.Missing).ToString(CultureInfo.InvariantCulture)),
            new("targets-met", Verdict(model)),
            // One step can publish several removals (MSBuild's Unlearn over every removal, a loop over them): the names
            // above then hold the last one's, so each removal's verdict also has a name of its own to gate on.
            new("targets-met-" + model.RemovalId, Verdict(model)),
        ]);
    }

    // "unknown" while only verify can judge the targets (a sample request after run): neither a pass nor a miss.
    private static string Verdict(ReportModel model) => model.TargetsVerdict switch
    {
        true => "true",
        false => "false",
        null => "unknown",
    };

    private static bool AppendTo(CliContext context, string variable, string text)
    {
        if (!context.InGitHubActions || context.GetEnvironmentVariable(variable) is not { Length: > 0 } path)
        {
            return false;
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
                var bytes = Utf8NoBom.GetBytes(text);
                stream.Write(bytes);
                return true;
            }
            catch (IOException) when (attempt < 5)
            {
                Thread.Sleep(50 * attempt);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                new DiagnosticWriter(context, Verbosity.Normal).Log($"could not append to ${variable} ({path}): {ex.Message}");
                return false;
            }
        }
    }
}
