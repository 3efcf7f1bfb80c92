using FisherUnlearn.Build.Tasks;
using FisherUnlearn.Build.Tests.Support;
using FisherUnlearn.Testing;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace FisherUnlearn.Build.Tests.Tasks;

/// <summary><c>msbuild -question</c>: MSBuild sets FailIfNotIncremental on IIncrementalTask tasks.</summary>
public sealed class IncrementalTests
{
    private static ITaskItem Input(string file, string output, string cache = "") =>
        new TaskItem(file, new Dictionary<string, string> { ["ModelId"] = "m", ["RemovalId"] = "r", ["OutputPath"] = output, ["InputsCache"] = cache });

    private static ITaskItem Line(string text, string cache) => new TaskItem(text, new Dictionary<string, string> { ["CacheFile"] = cache });

    [Fact]
    public void Both_tasks_are_incremental_tasks()
    {
        Assert.IsAssignableFrom<IIncrementalTask>(new CheckUnlearnOutputs());
        Assert.IsAssignableFrom<IIncrementalTask>(new UnlearnRun());
    }

    [Fact]
    public void Outside_question_mode_the_check_does_nothing()
    {
        using var ws = new TempWorkspace();
        var engine = new RecordingBuildEngine();
        var task = new CheckUnlearnOutputs { BuildEngine = engine, Inputs = [Input(ws.Write("in", "x"), ws.PathOf("out/missing"))] };
        Assert.True(task.Execute());
        Assert.Empty(engine.Errors);
    }

    [Fact]
    public void In_question_mode_a_stale_output_is_an_error_naming_it_and_nothing_is_written()
    {
        using var ws = new TempWorkspace();
        var input = ws.Write("in.safetensors", "x");
        var fresh = ws.Write("out/fresh.safetensors", "y");
        File.SetLastWriteTimeUtc(input, DateTime.UtcNow.AddMinutes(-5));
        var missing = ws.PathOf("out/missing.safetensors");
        var cache = ws.PathOf("obj/unlearn/r/m.inputs.cache");
        var engine = new RecordingBuildEngine();
        var task = new CheckUnlearnOutputs
        {
            BuildEngine = engine,
            FailIfNotIncremental = true,
            Inputs = [Input(input, fresh), Input(input, missing)],
        };

        Assert.False(task.Execute());
        var error = Assert.Single(engine.Errors);
        Assert.Equal("FUL3012", error.Code);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Equal([missing], task.Stale.Select(s => s.ItemSpec));
        Assert.False(File.Exists(missing));

        // A pair whose cache content would change is stale; the task never writes the cache.
        var withCache = new CheckUnlearnOutputs
        {
            BuildEngine = new RecordingBuildEngine(),
            FailIfNotIncremental = true,
            Inputs = [Input(input, fresh, cache)],
            CacheLines = [Line("tool 1.0", cache)],
        };
        Assert.False(withCache.Execute());
        Assert.Equal("inputs changed", Assert.Single(withCache.Stale).GetMetadata("Reason"));
        Assert.False(File.Exists(cache));
    }

    [Fact]
    public void In_question_mode_an_up_to_date_output_passes()
    {
        using var ws = new TempWorkspace();
        var input = ws.Write("in.safetensors", "x");
        File.SetLastWriteTimeUtc(input, DateTime.UtcNow.AddMinutes(-5));
        var cache = ws.Write("obj/unlearn/r/m.inputs.cache", "tool 1.0\n");
        File.SetLastWriteTimeUtc(cache, DateTime.UtcNow.AddMinutes(-5));
        var output = ws.Write("out/o.safetensors", "y");
        var task = new CheckUnlearnOutputs
        {
            BuildEngine = new RecordingBuildEngine(),
            FailIfNotIncremental = true,
            Inputs = [Input(input, output, cache), Input(cache, output, cache)],
            CacheLines = [Line("tool 1.0", cache), Line("tool 2.0", ws.PathOf("obj/unlearn/r/other.inputs.cache"))],
        };
        Assert.True(task.Execute());
    }

    [Fact]
    public void In_question_mode_a_cache_written_after_the_output_makes_only_its_pair_stale()
    {
        using var ws = new TempWorkspace();
        var input = ws.Write("in.safetensors", "x");
        File.SetLastWriteTimeUtc(input, DateTime.UtcNow.AddMinutes(-10));
        var (one, two) = (ws.Write("out/one.safetensors", "1"), ws.Write("out/two.safetensors", "2"));
        File.SetLastWriteTimeUtc(one, DateTime.UtcNow.AddMinutes(-5));
        File.SetLastWriteTimeUtc(two, DateTime.UtcNow.AddMinutes(-5));
        var (oneCache, twoCache) = (ws.Write("obj/unlearn/r/one.inputs.cache", "a\n"), ws.Write("obj/unlearn/r/two.inputs.cache", "b\n"));
        File.SetLastWriteTimeUtc(twoCache, DateTime.UtcNow.AddMinutes(-6));
        var task = new CheckUnlearnOutputs
        {
            BuildEngine = new RecordingBuildEngine(),
            FailIfNotIncremental = true,
            Inputs = [Input(input, one, oneCache), Input(oneCache, one, oneCache), Input(input, two, twoCache), Input(twoCache, two, twoCache)],
            CacheLines = [Line("a", oneCache), Line("b", twoCache)],
        };

        Assert.False(task.Execute());
        var stale = Assert.Single(task.Stale);
        Assert.Equal(one, stale.ItemSpec);
        Assert.Equal("inputs changed", stale.GetMetadata("Reason"));
    }

    [Fact]
    public void UnlearnRun_in_question_mode_names_what_it_would_run_and_starts_nothing()
    {
        using var ws = new TempWorkspace();
        var engine = new RecordingBuildEngine();
        var task = new UnlearnRun
        {
            BuildEngine = engine,
            FailIfNotIncremental = true,
            Checkpoints = [Input(ws.Write("in", "x"), ws.PathOf("out/o.safetensors"))],
            ToolExecutable = ws.PathOf("does-not-exist"),
            WorkingDirectory = ws.Root,
            Workspace = ws.Root,
            OutputRoot = ws.PathOf("out"),
        };
        Assert.False(task.Execute());
        Assert.Equal("FUL3012", Assert.Single(engine.Errors).Code);
        Assert.DoesNotContain(engine.Errors, e => e.Code == "FUL3001");
    }
}
