using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Tests.Support;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Tests.Reports;

/// <summary>When <c>run</c> writes, keeps and publishes the removal's reports: a run with nothing to do, a removal that
/// affects no model, a merge with nothing to merge.</summary>
[Collection(RunCommandCollection.Name)]
public sealed class RunReportScenarios
{
    private const string Reports = "artifacts/unlearn/forget-3/";

    private static Dictionary<string, string> GitHubActions(TempWorkspace ws, string name)
    {
        var summary = ws.Write($"gha/{name}/summary.md", string.Empty);
        var output = ws.Write($"gha/{name}/output.txt", string.Empty);
        return new Dictionary<string, string>
        {
            ["GITHUB_ACTIONS"] = "true",
            ["GITHUB_STEP_SUMMARY"] = summary,
            ["GITHUB_OUTPUT"] = output,
            ["GITHUB_WORKSPACE"] = ws.Root,
        };
    }

    private static (string Markdown, string Html, string Json, DateTime Written) Snapshot(TempWorkspace ws) =>
        (ws.ReadText(Reports + "report.md"), ws.ReadText(Reports + "report.html"), ws.ReadText(Reports + "report.json"),
            File.GetLastWriteTimeUtc(ws.PathOf(Reports + "report.json")));

    [Fact]
    public async Task A_run_with_every_output_up_to_date_publishes_the_existing_report_in_github_actions_without_rewriting_it()
    {
        using var ws = DigitsChain.Create();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3")).ExitCode);
        var before = Snapshot(ws);
        var actions = GitHubActions(ws, "again");

        var again = await CliRun.InvokeAsync(ws.Root, actions, "run", "forget-3");

        Assert.Equal(0, again.ExitCode);
        Assert.Contains("every output is up to date", again.Error, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(ws)); // the reports keep the work's times, not this no-op's
        Assert.Equal("\n" + before.Markdown, File.ReadAllText(actions["GITHUB_STEP_SUMMARY"]));
        var outputs = File.ReadAllLines(actions["GITHUB_OUTPUT"]);
        Assert.Contains("removal=forget-3", outputs);
        Assert.Contains("report=artifacts/unlearn/forget-3/report.md", outputs);
        Assert.Contains("report-html=artifacts/unlearn/forget-3/report.html", outputs);
        Assert.Contains("report-json=artifacts/unlearn/forget-3/report.json", outputs);
        Assert.Contains("affected=2", outputs);
        Assert.Contains("failed=0", outputs);
        Assert.Contains("missing=0", outputs);
        Assert.Contains("targets-met=true", outputs);
    }

    [Fact]
    public async Task A_run_with_nothing_to_do_rewrites_a_report_that_lists_other_outputs_than_the_current_ones()
    {
        using var ws = DigitsChain.Create();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--only", "a")).ExitCode); // report: a done, b missing
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--shard", "2/2")).ExitCode); // b, no report
        Assert.Equal(["done", "missing"], JObject.Parse(ws.ReadText(Reports + "report.json"))["models"]!.Select(m => (string)m["status"]!));
        var actions = GitHubActions(ws, "all");

        var all = await CliRun.InvokeAsync(ws.Root, actions, "run", "forget-3");

        Assert.Equal(0, all.ExitCode);
        Assert.Contains("every output is up to date", all.Error, StringComparison.Ordinal);
        Assert.Equal(["done", "done"], JObject.Parse(ws.ReadText(Reports + "report.json"))["models"]!.Select(m => (string)m["status"]!));
        Assert.DoesNotContain("without a current output", ws.ReadText(Reports + "report.md"), StringComparison.Ordinal);
        Assert.Contains("missing=0", File.ReadAllLines(actions["GITHUB_OUTPUT"]));
    }

    [Fact]
    public async Task A_removal_that_affects_no_model_publishes_outputs_that_say_so_and_writes_no_report()
    {
        using var ws = SampleWorkspaces.Chain(); // forget-3: no model trains on label 3
        var actions = GitHubActions(ws, "none");

        var run = await CliRun.InvokeAsync(ws.Root, actions, "run", "forget-3");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("FUL2012", run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(ws.PathOf(Reports)));
        Assert.Equal(
            ["removal=forget-3", "report=", "report-html=", "report-json=", "affected=0", "failed=0", "missing=0", "targets-met=true", "targets-met-forget-3=true"],
            File.ReadAllLines(actions["GITHUB_OUTPUT"]));
        var summary = File.ReadAllText(actions["GITHUB_STEP_SUMMARY"]);
        Assert.StartsWith("\n# Removal `forget-3`", summary, StringComparison.Ordinal);
        Assert.Contains("No model learned the forgotten data: nothing to do.", summary, StringComparison.Ordinal);
        Assert.Contains("| Affected | none; 2 unaffected |", summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sample_request_with_a_forget_target_that_affects_no_model_has_its_targets_met_for_run_and_verify()
    {
        // QA: only verify judges a sample request's forget target, so run and verify published targets-met=unknown here,
        // where no model learned the samples (no model trains on a test split) and "targetsMet" in --json said true.
        using var ws = SampleWorkspaces.ChainWithData();
        ws.Write("test-samples.removal.json", """
            { "schemaVersion": 1, "id": "test-samples", "forget": { "samples": [ { "dataset": "toy", "split": "test", "indices": [1, 2] } ] },
              "targets": { "maxForgetAccuracy": 0.01, "maxRetainDrop": 0.02 } }
            """);

        foreach (var command in new[] { "run", "verify" })
        {
            var actions = GitHubActions(ws, command);

            var result = await CliRun.InvokeAsync(ws.Root, actions, command, "test-samples", "--json");

            Assert.Equal(0, result.ExitCode);
            Assert.Contains("FUL2012", result.Out, StringComparison.Ordinal);
            Assert.True((bool?)JObject.Parse(result.Out)["targetsMet"]);
            var outputs = File.ReadAllLines(actions["GITHUB_OUTPUT"]);
            Assert.Contains("affected=0", outputs);
            Assert.Contains("targets-met=true", outputs);
            Assert.Contains("targets-met-test-samples=true", outputs);
        }
    }

    [Fact]
    public async Task A_merge_with_nothing_to_merge_fails_and_keeps_the_complete_verified_report()
    {
        using var ws = DigitsChain.Create();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3")).ExitCode);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "verify", "forget-3")).ExitCode);
        var verified = Snapshot(ws);
        var actions = GitHubActions(ws, "merge");

        // Every result there is fiun's: none is for ssd.
        var merge = await CliRun.InvokeAsync(ws.Root, actions, "run", "forget-3", "--merge", "--method", "ssd", "--json");

        Assert.Equal(1, merge.ExitCode);
        Assert.Contains("error FUL3023:", merge.Error, StringComparison.Ordinal);
        Assert.Contains("merged 0 of 2 models (ssd): nothing to merge; the reports are left as they were", merge.Error, StringComparison.Ordinal);
        Assert.Equal(verified, Snapshot(ws));
        Assert.NotNull(JObject.Parse(verified.Json)["verification"]);
        Assert.Empty((JArray)merge.Json["models"]!);
        // Nothing published: outputs from the kept report would pass a failed merge off as the fiun run's success.
        Assert.Equal(string.Empty, File.ReadAllText(actions["GITHUB_OUTPUT"]));
        Assert.Equal(string.Empty, File.ReadAllText(actions["GITHUB_STEP_SUMMARY"]));
    }

    [Fact]
    public async Task A_merge_of_some_results_writes_the_reports_of_what_it_merged_with_the_rest_missing()
    {
        using var ws = DigitsChain.Create();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3")).ExitCode);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--shard", "2/2", "--method", "ssd")).ExitCode);

        var merge = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--merge", "--method", "ssd");

        Assert.Equal(1, merge.ExitCode);
        Assert.Contains("error FUL3023:", merge.Error, StringComparison.Ordinal); // a's result is fiun's
        var report = JObject.Parse(ws.ReadText(Reports + "report.json"));
        Assert.Equal("ssd", (string?)report["method"]);
        // a's output is there, but made with fiun: out of date for an ssd request, not missing.
        Assert.Equal(["stale", "done"], report["models"]!.Select(m => (string)m["status"]!));
        Assert.Contains("1 of 2 models without a current output yet (out of date)", ws.ReadText(Reports + "report.md"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reason_with_markup_and_control_characters_is_quoted_as_text_in_the_reports_and_the_step_summary()
    {
        using var ws = DigitsChain.Create();
        // As JSON writes them: a NUL, a bell, and markup GitHub would render in the step summary.
        ws.Write("forget-3.removal.json", """
            { "schemaVersion": 1, "id": "forget-3", "reason": "<b>urgent</b> | ticket\u0000 \u0007 & co", "forget": { "labels": [3] } }
            """);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        var actions = GitHubActions(ws, "reason");

        var run = await CliRun.InvokeAsync(ws.Root, actions, "run", "forget-3");

        Assert.Equal(0, run.ExitCode);
        var markdown = ws.ReadText(Reports + "report.md");
        var html = ws.ReadText(Reports + "report.html");
        var summary = File.ReadAllText(actions["GITHUB_STEP_SUMMARY"]);
        Assert.StartsWith("# Removal `forget-3`: &lt;b&gt;urgent&lt;/b&gt; \\| ticket\\u0000 \\u0007 &amp; co\n", markdown, StringComparison.Ordinal);
        Assert.Contains("<p class=\"reason\">&lt;b&gt;urgent&lt;/b&gt; | ticket\\u0000 \\u0007 &amp; co</p>", html, StringComparison.Ordinal);
        Assert.Equal("\n" + markdown, summary);
        foreach (var text in new[] { markdown, html, summary })
        {
            Assert.DoesNotContain("<b>urgent", text, StringComparison.Ordinal);
            Assert.DoesNotContain('\0', text);
            Assert.DoesNotContain('\a', text);
        }

        // report.json keeps the reason as written (JSON escapes it).
        Assert.Equal("<b>urgent</b> | ticket\u0000 \u0007 & co", (string?)JObject.Parse(ws.ReadText(Reports + "report.json"))["reason"]);
    }
}
