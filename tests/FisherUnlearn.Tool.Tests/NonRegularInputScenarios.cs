using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

/// <summary>A checkpoint that is a symbolic link to /dev/zero, or a data file or manifest that is a FIFO, used to hang
/// every command that hashes or reads it. Each is refused with FUL1027 at its path, exit 2, before it is opened, and
/// nothing is written or replaced. Every command runs under a time limit, so a regression fails instead of hanging.</summary>
public sealed class NonRegularInputScenarios
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private static TempWorkspace ChainWithCheckpoints()
    {
        var ws = SampleWorkspaces.Chain();
        ws.Write("data/train.csv", ToyChain.Csv(40, seed: 1));
        ws.Write("data/test.csv", ToyChain.Csv(20, seed: 2));
        foreach (var (model, value) in new[] { ("a", 1f), ("b", 2f) })
        {
            var path = ws.PathOf($"{model}/bin/{model}.safetensors");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            SafetensorsFile.Write(path, new Dictionary<string, SafetensorsTensor> { ["w"] = SafetensorsTensor.FromFloats([1], [value]) });
        }

        return ws;
    }

    // In-process commands run synchronously: on a thread of their own, so that the limit can fire.
    private static async Task<CliRun> Within(TempWorkspace ws, params string[] args) =>
        await Task.Run(() => CliRun.InvokeAsync(ws.Root, args), TestContext.Current.CancellationToken).WaitAsync(Limit, TestContext.Current.CancellationToken);

    private static void AssertRefused(CliRun run, string relativePath, string kind)
    {
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Error}");
        // One line per model that meets it (harvest goes on with the next model); each names the file and what it is.
        var lines = run.ErrorLines.Where(l => l.Contains("FUL1027", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(lines);
        Assert.All(lines, line => Assert.StartsWith(relativePath + ": error FUL1027: ", line, StringComparison.Ordinal));
        Assert.All(lines, line => Assert.Contains(kind, line, StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("plan", "forget-1", "--check")]
    [InlineData("run", "forget-1")]
    [InlineData("harvest")]
    public async Task A_checkpoint_linked_to_dev_zero_is_refused_and_left_as_it_is(params string[] command)
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "no /dev/zero on Windows");
        using var ws = ChainWithCheckpoints();
        var checkpoint = ws.Link("a/bin/a.safetensors", "/dev/zero");

        var run = await Within(ws, [.. command, "--no-progress"]);

        AssertRefused(run, "a/bin/a.safetensors", "a character device");
        Assert.Equal("/dev/zero", new FileInfo(checkpoint).LinkTarget);
        Assert.False(Directory.Exists(ws.PathOf("artifacts/unlearn/forget-1")) && Directory.EnumerateFiles(ws.PathOf("artifacts/unlearn/forget-1"), "*.safetensors").Any());
    }

    [Theory]
    [InlineData("status")]
    [InlineData("plan", "forget-1", "--check")]
    [InlineData("run", "forget-1")]
    [InlineData("harvest")]
    public async Task A_data_file_that_is_a_fifo_is_refused(params string[] command)
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "no FIFOs on Windows");
        using var ws = ChainWithCheckpoints();
        ws.MakeFifo("data/train.csv");

        var run = await Within(ws, [.. command, "--no-progress"]);

        AssertRefused(run, "data/train.csv", "a FIFO (named pipe)");
    }

    [Theory]
    [InlineData("status")]
    [InlineData("plan", "forget-1", "--check")]
    [InlineData("run", "forget-1")]
    [InlineData("harvest")]
    public async Task A_module_assembly_that_is_a_fifo_is_refused_not_waited_on(params string[] command)
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "no FIFOs on Windows");
        using var ws = ChainWithCheckpoints();
        ws.Write("b/b.lineage.json", """
            { "schemaVersion": 1, "id": "b", "checkpoint": "bin/b.safetensors",
              "architecture": { "kind": "custom", "assembly": "../lib/Net.dll", "type": "Net.Model", "classes": 4 },
              "parents": [ { "id": "a", "relation": "distill" } ],
              "data": [ { "dataset": "toy", "labels": [2] } ] }
            """);
        ws.MakeFifo("lib/Net.dll");

        var run = await Within(ws, [.. command, "--no-progress"]);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("FUL1027", run.Error, StringComparison.Ordinal);
        Assert.Contains("a FIFO (named pipe)", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_manifest_that_is_a_fifo_is_listed_by_validate_and_stops_other_commands()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "no FIFOs on Windows");
        using var ws = ChainWithCheckpoints();
        ws.MakeFifo("c/c.lineage.json");

        AssertRefused(await Within(ws, "validate"), "c/c.lineage.json", "a FIFO (named pipe)");
        AssertRefused(await Within(ws, "status"), "c/c.lineage.json", "a FIFO (named pipe)");
    }

    [Theory]
    [InlineData("../../annex/objects/a.safetensors", ", which does not exist (a large file not fetched yet? 'git annex get' or 'dvc pull' fetches it)")]
    [InlineData("a.safetensors", " that leads around in a loop of links")]
    public async Task A_checkpoint_link_that_leads_nowhere_is_a_missing_checkpoint_that_says_why(string target, string why)
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "symbolic links need privileges on Windows");
        using var ws = ChainWithCheckpoints();
        ws.Link("a/bin/a.safetensors", target); // not fetched yet (git-annex, DVC), or a link to itself

        var status = await Within(ws, "status");
        var check = await Within(ws, "plan", "forget-1", "--check");
        var run = await Within(ws, "run", "forget-1", "--no-progress");

        Assert.True(status.ExitCode == 0, status.Error);
        Assert.Contains("checkpoint missing for a", status.Out, StringComparison.Ordinal);
        Assert.Equal(3, check.ExitCode);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"error FUL4104: Model 'a' is affected, but its checkpoint 'a/bin/a.safetensors' is a symbolic link to '{target}'{why}", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("FUL3009", status.Error + check.Error + run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_data_file_link_that_leads_nowhere_is_FUL4001_that_says_why()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "symbolic links need privileges on Windows");
        using var ws = SampleWorkspaces.ChainWithData();
        ws.Link("data/train.csv", "gone.csv");

        var run = await Within(ws, "run", "forget-1", "--no-progress");

        Assert.Equal(1, run.ExitCode); // the model fails, as with a data file that is not there at all
        Assert.Contains("error FUL4001: The data file", run.Error, StringComparison.Ordinal);
        Assert.Contains("is a symbolic link to 'gone.csv', which does not exist", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("FUL3009", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Folders_no_manifest_is_read_from_may_be_unreadable_the_output_folder_and_a_nested_workspace()
    {
        Assert.SkipWhen(!OperatingSystem.IsLinux(), "file modes and setpriv are Linux's");
        using var ws = ChainWithCheckpoints();
        ws.Write("nested/unlearn.json", "{ }");
        ws.CreateDirectory("nested/locked");
        ws.CreateDirectory("artifacts/unlearn/forget-1");
        File.SetUnixFileMode(ws.PathOf("nested/locked"), UnixFileMode.None);
        File.SetUnixFileMode(ws.PathOf("artifacts"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); // as a umask of 077 makes it

        using var tool = ToolProcess.StartUnprivileged(ws.Root, "validate");
        var exit = await tool.ExitCodeAsync();

        File.SetUnixFileMode(ws.PathOf("nested/locked"), (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(ws.PathOf("artifacts"), (UnixFileMode)0b111_101_101);
        Assert.True(exit == 0, $"exit {exit}: {tool.Error}");
        Assert.DoesNotContain("FUL1033", tool.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_data_file_that_is_a_folder_is_FUL4001_that_says_so_not_that_it_does_not_exist()
    {
        using var ws = SampleWorkspaces.ChainWithData();
        ws.Delete("data/train.csv");
        ws.CreateDirectory("data/train.csv");

        var run = await Within(ws, "run", "forget-1", "--no-progress");

        Assert.Equal(2, run.ExitCode); // a wrong path, said before any model starts (not a file deleted since the harvest)
        Assert.Contains("error FUL4001: The data file", run.Error, StringComparison.Ordinal);
        Assert.Contains("train.csv' is a folder, not a file.", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("validate")]
    [InlineData("plan", "forget-1")]
    [InlineData("status")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_folder_the_user_cannot_list_stops_the_command_instead_of_losing_its_models(params string[] command)
    {
        Assert.SkipWhen(!OperatingSystem.IsLinux(), "file modes and setpriv are Linux's");
        using var ws = ChainWithCheckpoints();
        File.SetUnixFileMode(ws.PathOf("b"), UnixFileMode.None); // model b's folder: the walk cannot list it

        using var tool = ToolProcess.StartUnprivileged(ws.Root, [.. command, "--no-progress"]);
        var exit = await tool.ExitCodeAsync();

        File.SetUnixFileMode(ws.PathOf("b"), (UnixFileMode)0b111_101_101);
        Assert.True(exit == 2, $"exit {exit}: {tool.Error}");
        Assert.Contains("b: error FUL1033: The folder 'b' cannot be listed (", tool.Error, StringComparison.Ordinal);
        Assert.Contains("its models would leave the network", tool.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", tool.Error, StringComparison.Ordinal);
    }
}
