using FisherUnlearn.Build.Tasks;
using FisherUnlearn.Build.Tests.Support;
using FisherUnlearn.Testing;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace FisherUnlearn.Build.Tests.Tasks;

/// <summary>Finding the tool (FUL3001 when missing) and running it: canonical lines become MSBuild errors.</summary>
public sealed class ToolTests
{
    [Fact]
    public void The_local_tool_manifest_gives_dotnet_tool_run_and_the_pinned_version()
    {
        using var ws = new TempWorkspace();
        ws.Write(".config/dotnet-tools.json", """
            { "version": 1, "isRoot": true, "tools": { "fisherunlearn.tool": { "version": "1.2.3", "commands": [ "dotnet-unlearn" ], "rollForward": false } } }
            """);
        var task = new ResolveUnlearnTool { BuildEngine = new RecordingBuildEngine(), ProjectDirectory = ws.CreateDirectory("models/a"), DotnetHost = "/x/dotnet" };
        Assert.True(task.Execute());
        Assert.Equal("/x/dotnet", task.ToolExecutable);
        Assert.Equal(["tool", "run", "dotnet-unlearn", "--"], task.ToolArguments);
        Assert.Equal("1.2.3", task.ToolVersion);
        Assert.Equal("local", task.ToolSource);
    }

    [Fact]
    public void No_tool_anywhere_is_FUL3001_telling_to_run_dotnet_tool_restore()
    {
        using var ws = new TempWorkspace();
        ws.Write("dotnet-tools.json", """{ "version": 1, "isRoot": true, "tools": {} }""");
        var engine = new RecordingBuildEngine();
        var task = new ResolveUnlearnTool { BuildEngine = engine, ProjectDirectory = ws.Root, CommandName = "dotnet-unlearn-absent-" + Guid.NewGuid().ToString("N") };
        Assert.False(task.Execute());
        var error = Assert.Single(engine.Errors);
        Assert.Equal("FUL3001", error.Code);
        Assert.Contains("dotnet tool restore", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_configured_tool_path_that_does_not_exist_is_FUL3001()
    {
        using var ws = new TempWorkspace();
        var engine = new RecordingBuildEngine();
        var task = new ResolveUnlearnTool { BuildEngine = engine, ProjectDirectory = ws.Root, ToolPath = "nope/dotnet-unlearn.dll" };
        Assert.False(task.Execute());
        Assert.Equal("FUL3001", Assert.Single(engine.Errors).Code);
    }

    [Fact]
    public void Run_passes_removal_model_output_and_settings_to_the_tool()
    {
        var task = new UnlearnRun { ToolArguments = ["tool", "run", "dotnet-unlearn", "--"], OutputRoot = "/o", Workspace = "/w", Method = "ssd", Threads = 2 };
        Assert.Equal(["tool", "run", "dotnet-unlearn", "--", "run", "forget-3", "--only", "m", "--out", "/o", "--workspace", "/w", "--no-progress", "--method", "ssd", "--threads", "2"],
            task.ArgumentsFor("forget-3", "m"));
        // The threads an allocation computed are passed when none were set; a set UnlearnThreads wins.
        Assert.Equal(["--threads", "2"], task.ArgumentsFor("forget-3", "m", threads: 4).TakeLast(2));
        Assert.Equal(["--threads", "4"], new UnlearnRun { OutputRoot = "/o", Workspace = "/w" }.ArgumentsFor("forget-3", "m", threads: 4).TakeLast(2));
    }

    private static (UnlearnRun Task, RecordingBuildEngine Engine, bool Result, string Output) RunFake(string script)
    {
        using var ws = new TempWorkspace();
        return RunFake(ws, script);
    }

    private static (UnlearnRun Task, RecordingBuildEngine Engine, bool Result, string Output) RunFake(TempWorkspace ws, string script, Dictionary<string, string>? metadata = null)
    {
        var output = ws.PathOf("out/forget-3/m.safetensors");
        var engine = new RecordingBuildEngine();
        var item = new Dictionary<string, string>(metadata ?? []) { ["ModelId"] = "m", ["RemovalId"] = "forget-3", ["OutputPath"] = output };
        var task = new UnlearnRun
        {
            BuildEngine = engine,
            Checkpoints = [new TaskItem(ws.Write("in", "x"), item)],
            ToolExecutable = "/bin/sh",
            ToolArguments = ["-c", script.Replace("$OUT", output, StringComparison.Ordinal), "fake-tool"],
            WorkingDirectory = ws.Root,
            Workspace = ws.Root,
            OutputRoot = ws.PathOf("out"),
        };
        return (task, engine, task.Execute(), output);
    }

    [Fact]
    public void A_canonical_error_of_the_tool_becomes_an_MSBuild_error_with_code_file_and_line()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "uses /bin/sh as a fake tool");
        using var ws = new TempWorkspace();
        var (_, engine, result, _) = RunFake(ws, "echo 'dotnet-unlearn: loading' >&2; echo 'm/m.lineage.json(4,7): error FUL4104: Model m has no checkpoint.' >&2; exit 2");
        Assert.False(result);
        var error = Assert.Single(engine.Errors);
        Assert.Equal("FUL4104", error.Code);
        // The tool writes paths relative to its working folder (the project's); relayed, they are absolute like the tasks' own.
        Assert.Equal(ws.PathOf("m/m.lineage.json"), error.File);
        Assert.Equal(4, error.LineNumber);
        Assert.Equal(7, error.ColumnNumber);
        Assert.Contains(engine.Messages, m => m.Message == "dotnet-unlearn: loading");
    }

    [Theory]
    [InlineData("m/m.lineage.json(4,7): error FUL4104: text", "/p/m/m.lineage.json(4,7): error FUL4104: text")]
    [InlineData("../forget-3.removal.json(2,3): warning FUL1026: a: b", "/forget-3.removal.json(2,3): warning FUL1026: a: b")]
    [InlineData("unlearn.json: error FUL1002: text", "/p/unlearn.json: error FUL1002: text")]
    [InlineData("/abs/m.lineage.json(4,7): error FUL4104: text", "/abs/m.lineage.json(4,7): error FUL4104: text")]
    [InlineData("error FUL3005: no file", "error FUL3005: no file")]
    [InlineData("dotnet-unlearn: m/m.lineage.json(1,1): info FUL4001: a message line", "dotnet-unlearn: m/m.lineage.json(1,1): info FUL4001: a message line")]
    [InlineData("dotnet-unlearn: 1 unlearned (fiun)", "dotnet-unlearn: 1 unlearned (fiun)")]
    public void Relayed_canonical_lines_get_absolute_file_paths(string line, string expected)
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix paths");
        Assert.Equal(expected, UnlearnRun.WithAbsoluteOrigin(line, "/p"));
    }

    [Theory]
    [InlineData("error FUL3021: libtorch could not be loaded", "/w/m/m.lineage.json(3,5): error FUL3021: libtorch could not be loaded")]
    [InlineData("  warning FUL1026: a: b", "/w/m/m.lineage.json(3,5): warning FUL1026: a: b")]
    [InlineData("m/m.lineage.json(4,7): error FUL4104: text", "/p/m/m.lineage.json(4,7): error FUL4104: text")]
    [InlineData("dotnet-unlearn: 1 unlearned (fiun)", "dotnet-unlearn: 1 unlearned (fiun)")]
    public void A_relayed_diagnostic_without_a_place_is_placed_where_the_job_comes_from(string line, string expected)
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix paths");
        Assert.Equal(expected, UnlearnRun.WithAbsoluteOrigin(line, "/p", "/w/m/m.lineage.json(3,5)"));
    }

    [Fact]
    public void A_tool_error_without_a_place_points_at_the_models_manifest_and_else_at_the_project()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "uses /bin/sh as a fake tool");
        var (_, engine, result, _) = RunFake("echo 'error FUL3021: libtorch could not be loaded.' >&2; exit 2");
        Assert.False(result);
        var error = Assert.Single(engine.Errors);
        Assert.Equal(("FUL3021", "test.proj"), (error.Code, error.File));

        using var ws = new TempWorkspace();
        var manifest = ws.Write("m/m.lineage.json", "{}");
        var (_, placed, placedResult, _) = RunFake(ws, "echo 'error FUL3021: libtorch could not be loaded.' >&2; exit 2",
            new() { ["Manifest"] = manifest, ["ManifestLine"] = "3", ["ManifestColumn"] = "5" });
        Assert.False(placedResult);
        var atManifest = Assert.Single(placed.Errors);
        Assert.Equal(("FUL3021", manifest, 3, 5), (atManifest.Code, atManifest.File, atManifest.LineNumber, atManifest.ColumnNumber));
        Assert.Equal("libtorch could not be loaded.", atManifest.Message);
    }

    [Fact]
    public void A_tool_that_dotnet_tool_run_cannot_find_is_FUL3001()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "uses /bin/sh as a fake tool");
        var (_, engine, result, _) = RunFake("echo 'Run \"dotnet tool restore\" to make the \"dotnet-unlearn\" command available.' >&2; exit 1");
        Assert.False(result);
        Assert.Equal("FUL3001", Assert.Single(engine.Errors).Code);
    }

    [Fact]
    public void A_silent_failure_is_FUL3011_and_success_without_output_is_FUL3013()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "uses /bin/sh as a fake tool");
        var (_, failed, failedResult, _) = RunFake("exit 1");
        Assert.False(failedResult);
        Assert.Equal("FUL3011", Assert.Single(failed.Errors).Code);

        var (_, silent, silentResult, _) = RunFake("exit 0");
        Assert.False(silentResult);
        Assert.Equal("FUL3013", Assert.Single(silent.Errors).Code);
    }

    [Fact]
    public void A_successful_run_reports_its_output()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "uses /bin/sh as a fake tool");
        var (task, engine, result, output) = RunFake("mkdir -p \"$(dirname '$OUT')\" && echo w > '$OUT'");
        Assert.True(result, engine.Log);
        Assert.Equal([output], task.Written.Select(w => w.ItemSpec));
    }
}
