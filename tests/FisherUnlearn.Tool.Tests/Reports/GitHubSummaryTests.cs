using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Reports;

namespace FisherUnlearn.Tool.Tests.Reports;

public sealed class GitHubSummaryTests
{
    private static CliContext Context(string root, Dictionary<string, string> environment, StringWriter? error = null) =>
        new(TextWriter.Null, error ?? new StringWriter(), name => environment.GetValueOrDefault(name), root);

    [Fact]
    public void Appends_the_summary_after_a_blank_line_and_writes_the_outputs()
    {
        using var ws = new TempWorkspace("fiun-gha");
        var summary = ws.Write("summary.md", "# earlier step\n");
        var output = ws.Write("output.txt", "earlier=1\n");
        var context = Context(ws.Root, new() { ["GITHUB_ACTIONS"] = "true", ["GITHUB_STEP_SUMMARY"] = summary, ["GITHUB_OUTPUT"] = output, ["GITHUB_WORKSPACE"] = ws.Root });
        var model = ReportSamples.Digits();
        var files = ReportWriter.WriteAll(ws.PathOf("artifacts/unlearn/forget-3"), model);

        GitHubSummary.Publish(context, model, files);
        GitHubSummary.Append(context, "second");

        var text = File.ReadAllText(summary);
        Assert.StartsWith("# earlier step\n\n# Removal `forget-3`", text, StringComparison.Ordinal);
        Assert.EndsWith("\n\nsecond\n", text, StringComparison.Ordinal);
        var lines = File.ReadAllLines(output);
        Assert.Equal("earlier=1", lines[0]);
        Assert.Contains("removal=forget-3", lines);
        Assert.Contains("report=artifacts/unlearn/forget-3/report.md", lines);
        Assert.Contains("report-html=artifacts/unlearn/forget-3/report.html", lines);
        Assert.Contains("affected=6", lines);
        Assert.Contains("failed=0", lines);
        Assert.Contains("targets-met=true", lines);
        Assert.Contains("targets-met-forget-3=true", lines);
    }

    [Fact]
    public void Earlier_content_without_a_final_line_break_still_gets_a_blank_line_before_the_summary()
    {
        using var ws = new TempWorkspace("fiun-gha");
        var summary = ws.Write("summary.md", "x");
        var context = Context(ws.Root, new() { ["GITHUB_ACTIONS"] = "true", ["GITHUB_STEP_SUMMARY"] = summary });

        GitHubSummary.Append(context, "# Removal");

        Assert.Equal("x\n\n# Removal\n", File.ReadAllText(summary));
    }

    [Fact]
    public void Does_nothing_outside_github_actions()
    {
        using var ws = new TempWorkspace("fiun-gha");
        var summary = ws.Write("summary.md", string.Empty);
        var context = Context(ws.Root, new() { ["GITHUB_STEP_SUMMARY"] = summary });

        Assert.False(GitHubSummary.Append(context, "hello"));
        Assert.Equal(string.Empty, File.ReadAllText(summary));
    }

    [Fact]
    public void Multi_line_outputs_use_a_delimiter_and_an_unwritable_summary_is_logged_not_thrown()
    {
        using var ws = new TempWorkspace("fiun-gha");
        var output = ws.Write("output.txt", string.Empty);
        var error = new StringWriter();
        var context = Context(ws.Root, new() { ["GITHUB_ACTIONS"] = "true", ["GITHUB_OUTPUT"] = output, ["GITHUB_STEP_SUMMARY"] = ws.PathOf("missing/dir/summary.md") }, error);

        Assert.True(GitHubSummary.SetOutputs(context, [new("list", "a\nb")]));
        Assert.False(GitHubSummary.Append(context, "x"));

        var lines = File.ReadAllLines(output);
        Assert.StartsWith("list<<ghadelimiter_", lines[0], StringComparison.Ordinal);
        Assert.Equal(["a", "b"], lines[1..3]);
        Assert.Equal(lines[0][6..], lines[3]);
        Assert.Contains("dotnet-unlearn: could not append to $GITHUB_STEP_SUMMARY", error.ToString(), StringComparison.Ordinal);
    }
}
