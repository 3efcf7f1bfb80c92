using System.Diagnostics;
using CliWrap;
using CliWrap.Buffered;
using FisherUnlearn.Testing;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Tests.EndToEnd;

/// <summary>The installed tool doing the real work: the demo end to end and again as a no-op, <c>--json</c> with the
/// live display asked for, and a run killed half way that leaves nothing half-written and finishes on the next run.</summary>
[Collection(PackedToolCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class InstalledToolRunTests(PackedToolFixture tool)
{
    [Fact(Timeout = 15 * 60 * 1000)]
    public async Task The_demo_runs_end_to_end_then_reruns_as_a_no_op_and_a_killed_run_is_finished_by_the_next()
    {
        using var temp = new TempWorkspace("fiun-e2e-demo");
        var exe = await Install(temp);
        var demo = temp.PathOf("my demo"); // a folder name with a space, as people have them

        var first = await Run(exe, temp.Root, "demo", demo, "--no-progress");
        Assert.True(first.ExitCode == 0, first.StandardError);
        Assert.Contains("try next: dotnet unlearn plan forget-3 --workspace \"my demo\",", first.StandardError, StringComparison.Ordinal); // pastes as one word
        Assert.Contains("trained digits-base", first.StandardError, StringComparison.Ordinal);
        Assert.Contains("Targets met.", first.StandardOutput, StringComparison.Ordinal);
        foreach (var report in new[] { "report.json", "report.md", "report.html" })
        {
            Assert.True(File.Exists(Path.Combine(demo, "artifacts", "unlearn", "forget-3", report)), report);
        }

        var second = await Run(exe, temp.Root, "demo", demo, "--no-progress");
        Assert.True(second.ExitCode == 0, second.StandardError);
        Assert.DoesNotContain("trained digits", second.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("unlearned digits", second.StandardError, StringComparison.Ordinal);
        Assert.Contains("nothing to do", second.StandardError, StringComparison.Ordinal);

        // --json keeps stdout to one document even when the live display is asked for (no --no-progress).
        var json = await Run(exe, temp.Root, "run", "forget-clinic-8", "--workspace", demo, "--json", "--parallel", "2");
        Assert.True(json.ExitCode == 0, json.StandardError);
        Assert.Equal(3, JObject.Parse(json.StandardOutput)["models"]!.Count());

        // Kill a run in the middle: no partial file is left, and the next run completes the job.
        var started = Stopwatch.StartNew();
        using var victim = Process.Start(new ProcessStartInfo(exe, ["run", "forget-3", "--workspace", demo, "--force", "--parallel", "1", "--no-progress"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        var output = Path.Combine(demo, "artifacts", "unlearn", "forget-3");
        while (!victim.HasExited && started.Elapsed < TimeSpan.FromSeconds(60)
            && !(await victim.StandardError.ReadLineAsync(TestContext.Current.CancellationToken) ?? string.Empty).Contains("unlearned", StringComparison.Ordinal))
        {
        }

        victim.Kill(entireProcessTree: true);
        await victim.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Empty(Directory.GetFiles(output, "*tmp*", SearchOption.AllDirectories));

        var check = await Run(exe, temp.Root, "plan", "forget-3", "--workspace", demo, "--check");
        var resume = await Run(exe, temp.Root, "run", "forget-3", "--workspace", demo, "--parallel", "1", "--no-progress", "--json");
        var done = await Run(exe, temp.Root, "plan", "forget-3", "--workspace", demo, "--check");

        Assert.Equal(0, resume.ExitCode);
        Assert.Equal(6, JObject.Parse(resume.StandardOutput)["models"]!.Count());
        Assert.Equal(0, done.ExitCode);
        Assert.True(check.ExitCode is 0 or 3, check.StandardError);

        // CI fan-out: the matrix's shards as separate installed-tool processes, then --merge, equal the single run.
        var matrix = await Run(exe, temp.Root, "plan", "forget-3", "--workspace", demo, "--matrix", "--max-jobs", "3");
        var shards = JObject.Parse(matrix.StandardOutput)["include"]!.Select(j => (string)j["shard"]!).ToList();
        var runs = await Task.WhenAll(shards.Select(shard => Run(exe, temp.Root, "run", "forget-3", "--workspace", demo, "--shard", shard,
            "--out", "sharded", "--parallel", "1", "--no-progress")));
        var merged = await Run(exe, temp.Root, "run", "forget-3", "--workspace", demo, "--merge", "--out", "sharded");

        Assert.Equal(["1/3", "2/3", "3/3"], shards);
        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.StandardError));
        Assert.Equal(0, merged.ExitCode);
        foreach (var model in Directory.GetFiles(output, "*.safetensors").Select(Path.GetFileName))
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(output, model!)), File.ReadAllBytes(Path.Combine(temp.Root, "sharded", "forget-3", model!)));
        }

        // Exit codes through the installed tool: 3 for stale work, 2 for a bad request.
        File.Delete(Path.Combine(output, "digits-base.safetensors"));
        Assert.Equal(3, (await Run(exe, temp.Root, "plan", "forget-3", "--workspace", demo, "--check")).ExitCode);
        Assert.Equal(2, (await Run(exe, temp.Root, "run", "forget-99", "--workspace", demo)).ExitCode);
    }

    private async Task<string> Install(TempWorkspace temp)
    {
        var toolPath = temp.PathOf("tools");
        await ToolPacker.RunAsync(ToolPacker.Dotnet(tool.Home).WithArguments(
            ["tool", "install", "--tool-path", toolPath, "--add-source", tool.Feed, ToolPacker.PackageId, "--version", tool.Version]), TestContext.Current.CancellationToken);
        return Path.Combine(toolPath, OperatingSystem.IsWindows() ? "dotnet-unlearn.exe" : "dotnet-unlearn");
    }

    private static async Task<BufferedCommandResult> Run(string exe, string workingDirectory, params string[] args) =>
        await CliWrap.Cli.Wrap(exe).WithArguments(args).WithWorkingDirectory(workingDirectory)
            .WithEnvironmentVariables(e => e.Set("OMP_WAIT_POLICY", "PASSIVE"))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(TestContext.Current.CancellationToken);
}
