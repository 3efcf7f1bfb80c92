using FisherUnlearn.Tool.Tests.Support;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Tests.Reports;

[Collection(RunCommandCollection.Name)]
public sealed class VerifyReportScenarios
{
    [Fact]
    public async Task Verify_in_github_actions_refreshes_the_reports_and_publishes_the_summary_and_outputs()
    {
        using var ws = DigitsChain.Create();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3")).ExitCode);
        var summary = ws.Write("gha/summary.md", string.Empty);
        var output = ws.Write("gha/output.txt", string.Empty);
        var environment = new Dictionary<string, string>
        {
            ["GITHUB_ACTIONS"] = "true",
            ["GITHUB_STEP_SUMMARY"] = summary,
            ["GITHUB_OUTPUT"] = output,
            ["GITHUB_WORKSPACE"] = ws.Root,
        };

        var verify = await CliRun.InvokeAsync(ws.Root, environment, "verify", "forget-3");

        Assert.True(verify.ExitCode == 0, verify.Error);
        var report = JObject.Parse(ws.ReadText("artifacts/unlearn/forget-3/report.json"));
        Assert.Equal(64, ((string)report["removalSha256"]!).Length);
        Assert.True((bool)report["verification"]!["targetsMet"]!);
        Assert.Equal(["a"], report["roots"]!.Select(r => (string)r!));
        Assert.All(report["models"]!, m => Assert.Equal(64, ((string)m["inputSha256"]!).Length));
        Assert.All(report["models"]!, m => Assert.InRange((double)m["metrics"]!["after"]!["forgetAccuracy"]!, 0, 0.05));
        var markdown = ws.ReadText("artifacts/unlearn/forget-3/report.md");
        Assert.StartsWith("# Removal `forget-3`", markdown, StringComparison.Ordinal);
        Assert.Contains("```mermaid", markdown, StringComparison.Ordinal);
        Assert.Contains("class=\"lineage-graph\"", ws.ReadText("artifacts/unlearn/forget-3/report.html"), StringComparison.Ordinal);
        Assert.Equal("\n" + markdown, File.ReadAllText(summary));
        var lines = File.ReadAllLines(output);
        Assert.Contains("report=artifacts/unlearn/forget-3/report.md", lines);
        Assert.Contains("affected=2", lines);
        Assert.Contains("targets-met=true", lines);
    }

    [Fact]
    public async Task Editing_only_the_reason_keeps_the_verified_measurements_and_the_runs_time_in_the_reports()
    {
        using var ws = DigitsChain.Create();
        ws.Write("forget-3.removal.json", ws.ReadText("forget-3.removal.json").Replace("\"id\": \"forget-3\",", "\"id\": \"forget-3\", \"reason\": \"Erasure request #1\",", StringComparison.Ordinal));
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3")).ExitCode);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "verify", "forget-3")).ExitCode);
        var path = "artifacts/unlearn/forget-3/report.json";
        var verified = JObject.Parse(ws.ReadText(path));
        ws.Write("forget-3.removal.json", ws.ReadText("forget-3.removal.json").Replace("#1", "#2", StringComparison.Ordinal));

        var run = await CliRun.InvokeAsync(ws.Root, "run", "forget-3");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("nothing to do", run.Error, StringComparison.Ordinal);
        var kept = JObject.Parse(ws.ReadText(path));
        Assert.NotEqual((string)verified["removalSha256"]!, (string)kept["removalSha256"]!);
        Assert.Equal((double)verified["seconds"]!, (double)kept["seconds"]!);
        Assert.Equal(verified["verification"]!.ToString(), kept["verification"]!.ToString());
        Assert.Equal(verified["models"]!.Select(m => m["metrics"]!.ToString()), kept["models"]!.Select(m => m["metrics"]!.ToString()));
        Assert.Contains("Erasure request #2", ws.ReadText("artifacts/unlearn/forget-3/report.md"), StringComparison.Ordinal);
        Assert.Contains("targets met (verified)", ws.ReadText("artifacts/unlearn/forget-3/report.md"), StringComparison.Ordinal);

        // Verify after the next such edit: the provenance is the manifest as it is now, which the outputs still answer.
        ws.Write("forget-3.removal.json", ws.ReadText("forget-3.removal.json").Replace("#2", "#3", StringComparison.Ordinal));
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "verify", "forget-3")).ExitCode);
        var reverified = JObject.Parse(ws.ReadText(path));
        var hash = (string)reverified["removalSha256"]!;
        Assert.NotEqual((string)kept["removalSha256"]!, hash);
        Assert.Equal(hash, (string)reverified["manifests"]!.Single(m => (string)m["kind"]! == "removal")["sha256"]!);
        Assert.Contains("nothing to do", (await CliRun.InvokeAsync(ws.Root, "run", "forget-3")).Error, StringComparison.Ordinal);
        Assert.Equal(hash, (string)JObject.Parse(ws.ReadText(path))["removalSha256"]!); // what run itself records for it
    }

    [Fact]
    public async Task Verify_without_the_runs_report_rebuilds_it_from_the_job_records_with_their_times_and_settings()
    {
        using var ws = DigitsChain.Create();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--method", "ssd")).ExitCode);
        var path = "artifacts/unlearn/forget-3/report.json";
        var ran = JObject.Parse(ws.ReadText(path));
        File.Delete(Path.Combine(ws.Root, path));

        var verify = await CliRun.InvokeAsync(ws.Root, "verify", "forget-3", "--method", "ssd");

        Assert.True(verify.ExitCode is 0 or 1, verify.Error);
        var rebuilt = JObject.Parse(ws.ReadText(path));
        Assert.Equal("ssd", (string?)rebuilt["method"]);
        Assert.NotNull(rebuilt["verification"]);
        foreach (var model in ran["models"]!)
        {
            var again = rebuilt["models"]!.Single(m => (string?)m["id"] == (string?)model["id"]);
            Assert.Equal((double)model["seconds"]!, (double)again["seconds"]!);
            Assert.True((double)again["seconds"]! > 0);
            Assert.Equal((string?)model["outputSha256"], (string?)again["outputSha256"]);
            Assert.Equal(model["parameters"]!.ToString(), again["parameters"]!.ToString());
        }
    }
}
