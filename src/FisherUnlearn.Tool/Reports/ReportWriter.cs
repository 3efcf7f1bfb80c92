using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Tool.Output;

namespace FisherUnlearn.Tool.Reports;

/// <summary>The report files of one removal (absolute paths).</summary>
internal sealed record ReportFiles(string Json, string Markdown, string Html);

/// <summary>
/// Writes the reports of a removal into its output folder (<c>&lt;out&gt;/&lt;removal-id&gt;/</c>): report.json
/// (<see cref="RunReport.Build(ReportModel)"/>, a superset of the run-only report), report.md (<see cref="MarkdownReport"/>)
/// and report.html (<see cref="HtmlReport"/>), each atomically (temporary file, then rename).
/// </summary>
internal static class ReportWriter
{
    /// <summary>Writes report.json, report.md and report.html.</summary>
    public static ReportFiles WriteAll(string removalOutputDirectory, ReportModel model)
    {
        ArgumentNullException.ThrowIfNull(removalOutputDirectory);
        ArgumentNullException.ThrowIfNull(model);
        var directory = Path.GetFullPath(removalOutputDirectory);
        Directory.CreateDirectory(directory);
        var json = RunReport.Write(directory, model);
        var (markdown, html) = WriteReadable(directory, model);
        return new ReportFiles(json, markdown, html);
    }

    /// <summary>Writes report.md and report.html only (report.json untouched); returns their paths.</summary>
    public static (string Markdown, string Html) WriteReadable(string removalOutputDirectory, ReportModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var directory = Path.GetFullPath(removalOutputDirectory);
        Directory.CreateDirectory(directory);
        var markdown = Path.Combine(directory, MarkdownReport.FileName);
        var html = Path.Combine(directory, HtmlReport.FileName);
        AtomicFile.WriteAllText(markdown, MarkdownReport.Render(model));
        AtomicFile.WriteAllText(html, HtmlReport.Render(model));
        return (markdown, html);
    }

    /// <summary>The report files of a removal's output folder.</summary>
    public static ReportFiles FilesIn(string removalOutputDirectory)
    {
        var directory = Path.GetFullPath(removalOutputDirectory);
        return new ReportFiles(Path.Combine(directory, RunReport.FileName), Path.Combine(directory, MarkdownReport.FileName), Path.Combine(directory, HtmlReport.FileName));
    }

    /// <summary>Deletes report.json, report.md and report.html where present; returns the paths it could not delete, with
    /// why.</summary>
    public static IReadOnlyList<(string Path, string Why)> DeleteAll(string removalOutputDirectory)
    {
        var files = FilesIn(removalOutputDirectory);
        var left = new List<(string, string)>();
        foreach (var path in new[] { files.Json, files.Markdown, files.Html })
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                left.Add((path, ex.Message));
            }
        }

        return left;
    }

    /// <summary>Regenerates report.md and report.html from a report.json alone (no workspace needed).</summary>
    public static ReportFiles Regenerate(string reportJsonPath)
    {
        var model = RunReport.Read(reportJsonPath);
        var directory = Path.GetDirectoryName(Path.GetFullPath(reportJsonPath))!;
        var (markdown, html) = WriteReadable(directory, model);
        return new ReportFiles(Path.GetFullPath(reportJsonPath), markdown, html);
    }
}
