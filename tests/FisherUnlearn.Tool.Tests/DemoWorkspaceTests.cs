using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Scaffolding;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

public sealed class DemoWorkspaceTests
{
    /// <summary>What the tool must embed: samples/digits without outputs (bin/, obj/, artifacts/) or the converter script.</summary>
    private static List<string> SampleFiles()
    {
        var root = RepoPaths.DigitsSample;
        return [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => !f.Split('/').Any(s => s is "bin" or "obj" or "artifacts"))
            .Where(f => f.EndsWith(".json", StringComparison.Ordinal) || f.EndsWith("-ubyte.gz", StringComparison.Ordinal) || f == "data/ATTRIBUTION.md"
                || f.EndsWith(".csproj", StringComparison.Ordinal) || f.EndsWith(".targets", StringComparison.Ordinal) || f.EndsWith(".props", StringComparison.Ordinal) || f == "Models.sln")
            .Order(StringComparer.Ordinal)];
    }

    [Fact]
    public void The_tool_embeds_the_digits_sample()
    {
        var expected = SampleFiles();

        Assert.Equal(expected, DemoWorkspace.Files);
        Assert.Contains("unlearn.json", expected);
        Assert.Contains("data/train-images-idx3-ubyte.gz", expected);
        Assert.Contains("Models.sln", expected);
        Assert.Contains("digits-base/digits-base.csproj", expected);
        Assert.Equal(28, expected.Count);
    }

    [Fact]
    public async Task Materialized_files_are_byte_identical_to_the_sample_and_validate()
    {
        using var ws = new TempWorkspace();
        var target = ws.PathOf("demo");

        var result = DemoWorkspace.Materialize(target, TestContext.Current.CancellationToken);

        Assert.Equal(SampleFiles(), result.Created);
        Assert.Empty(result.Reused);
        Assert.Empty(result.Kept);
        foreach (var file in result.Created)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(RepoPaths.DigitsSample, file)).AsSpan()
                .SequenceEqual(File.ReadAllBytes(ws.PathOf("demo/" + file))), $"{file} differs from samples/digits/{file}");
        }

        var validate = await CliRun.InvokeAsync(target, "validate");
        Assert.Equal(0, validate.ExitCode);
        Assert.Contains("7 models, 1 dataset, 2 removal requests: valid.", validate.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_where_the_demo_writes_a_folder_stops_it_before_it_writes_anything()
    {
        using var ws = new TempWorkspace();
        ws.Write("demo/data", "mine");

        var run = await CliRun.InvokeAsync(ws.Root, "demo", "demo");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error FUL3009", run.Error, StringComparison.Ordinal);
        Assert.Contains("is a file, and the scaffold writes a folder there (data/", run.Error, StringComparison.Ordinal);
        Assert.Equal(["data"], Directory.EnumerateFileSystemEntries(ws.PathOf("demo")).Select(Path.GetFileName));
    }

    [Fact]
    public void Materializing_again_reuses_identical_files_and_never_overwrites_changed_ones()
    {
        using var ws = new TempWorkspace();
        var target = ws.PathOf("demo");
        DemoWorkspace.Materialize(target, TestContext.Current.CancellationToken);
        ws.Write("demo/forget-3.removal.json", "{ \"mine\": true }");
        ws.Delete("demo/digits-base");

        var again = DemoWorkspace.Materialize(target, TestContext.Current.CancellationToken);

        Assert.Equal(["digits-base/digits-base.csproj", "digits-base/digits-base.lineage.json"], again.Created);
        Assert.Equal(["forget-3.removal.json"], again.Kept);
        Assert.Equal(SampleFiles().Count - 3, again.Reused.Count);
        Assert.Equal("{ \"mine\": true }", ws.ReadText("demo/forget-3.removal.json"));
        Assert.DoesNotContain(ws.Files(), f => f.Contains(".tmp-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_unlearn_json_init_wrote_is_reused_not_called_changed_by_you()
    {
        using var ws = new TempWorkspace();
        var target = ws.CreateDirectory("demo");
        Assert.Equal(0, (await CliRun.InvokeAsync(target, "init")).ExitCode);
        var initSettings = ws.ReadText("demo/unlearn.json");

        var result = DemoWorkspace.Materialize(target, TestContext.Current.CancellationToken);

        Assert.Empty(result.Kept);
        Assert.Equal(["unlearn.json"], result.Reused);
        Assert.Equal(initSettings, ws.ReadText("demo/unlearn.json")); // kept as it is: no ping-pong with a later init
    }

    [Fact]
    public void Init_and_the_demo_write_unlearn_json_with_the_same_settings_so_either_may_stay()
    {
        using var ws = new TempWorkspace();
        ws.Write("init/unlearn.json", System.Text.Encoding.UTF8.GetString(InitTemplates.Files().Single(f => f.Path == "unlearn.json").Content));
        ws.Write("demo/unlearn.json", System.Text.Encoding.UTF8.GetString(DemoWorkspace.Read("unlearn.json")));

        var init = Lineage.Discovery.WorkspaceLoader.Load(ws.PathOf("init"), TestContext.Current.CancellationToken).Settings;
        var demo = Lineage.Discovery.WorkspaceLoader.Load(ws.PathOf("demo"), TestContext.Current.CancellationToken).Settings;

        Assert.Equal(demo.Include, init.Include);
        Assert.Equal(demo.Exclude, init.Exclude);
        Assert.Equal((demo.Output, demo.Method ?? "fiun", demo.Parallelism, demo.Threads, demo.PlanLabels, demo.MaxPlans),
            (init.Output, init.Method ?? "fiun", init.Parallelism, init.Threads, init.PlanLabels, init.MaxPlans));
        Assert.Equal(demo.Parameters, init.Parameters);
    }

    [Fact]
    public void Files_checked_out_with_crlf_line_ends_are_still_the_demos_own()
    {
        using var ws = new TempWorkspace();
        var target = ws.PathOf("demo");
        DemoWorkspace.Materialize(target, TestContext.Current.CancellationToken);
        var text = DemoWorkspace.Files.Where(f => !f.EndsWith(".gz", StringComparison.Ordinal)).ToList();
        foreach (var file in text)
        {
            ws.Write("demo/" + file, ws.ReadText("demo/" + file).ReplaceLineEndings("\r\n")); // as git's core.autocrlf checks out
        }

        var again = DemoWorkspace.Materialize(target, TestContext.Current.CancellationToken);

        Assert.Empty(again.Kept);
        Assert.Equal(DemoWorkspace.Files.Count, again.Reused.Count);
        Assert.Contains("\r\n", ws.ReadText("demo/unlearn.json"), StringComparison.Ordinal); // left as they are
    }

    [Fact]
    public async Task A_demo_whose_step_fails_lists_the_steps_errors_in_its_json_with_paths_from_where_the_user_is()
    {
        using var ws = new TempWorkspace();
        ws.Write("ne/unlearn.json", """{ "x": 1 }""");

        var demo = await CliRun.InvokeAsync(ws.Root, "demo", "ne", "--json");

        Assert.Equal(2, demo.ExitCode);
        var diagnostic = Assert.Single(demo.Json["diagnostics"]!, d => (string?)d["code"] == "FUL1005");
        Assert.Equal("ne/unlearn.json", (string?)diagnostic["file"]);
        Assert.Contains("ne/unlearn.json(1,", demo.Error, StringComparison.Ordinal);
    }

    /// <summary>As every command, demo takes its folder from --workspace too (the steps then fail on that folder's bad
    /// unlearn.json, which shows the demo went there, without a training run); two different folders are a usage error.</summary>
    [Fact]
    public async Task The_demo_folder_can_be_given_as_workspace_and_two_different_folders_are_exit_2()
    {
        using var ws = new TempWorkspace();
        ws.Write("ne/unlearn.json", """{ "x": 1 }""");

        var viaWorkspace = await CliRun.InvokeAsync(ws.Root, "demo", "--workspace", "ne", "--json");
        var both = await CliRun.InvokeAsync(ws.Root, "demo", "other", "--workspace", "ne");
        var same = await CliRun.InvokeAsync(ws.Root, "demo", "ne", "--workspace", "./ne/", "--json");

        Assert.Equal(2, viaWorkspace.ExitCode);
        Assert.Equal("ne/unlearn.json", (string?)Assert.Single(viaWorkspace.Json["diagnostics"]!, d => (string?)d["code"] == "FUL1005")["file"]);
        Assert.False(ws.Exists("unlearn-demo"));
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("error FUL3005", both.Error, StringComparison.Ordinal);
        Assert.Contains("give one", both.Error, StringComparison.Ordinal);
        Assert.False(ws.Exists("other"));
        Assert.Single(same.Json["diagnostics"]!, d => (string?)d["code"] == "FUL1005");
    }
}
