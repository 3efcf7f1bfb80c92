using FisherUnlearn.Build.Tasks;
using FisherUnlearn.Build.Tests.Support;
using FisherUnlearn.Testing;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace FisherUnlearn.Build.Tests.Tasks;

/// <summary>
/// Under GitHub Actions each per-model tool process would append a whole report to the step summary. UnlearnRun runs
/// them without GITHUB_STEP_SUMMARY/GITHUB_OUTPUT and publishes each removal once, with <c>run &lt;removal&gt; --merge</c>,
/// when every affected model of the removal is up to date. A fake tool (/bin/sh) writes the outputs and appends to the
/// summary like the real one: <c>run &lt;removal&gt; &lt;model&gt;</c> per model, <c>merge &lt;removal&gt;</c> when merging.
/// </summary>
public sealed class GitHubSummaryTests
{
    // forget-clinic-8 affects clinic-north, digits-federated and digits-student (samples/digits).
    private static readonly string[] ClinicModels = ["clinic-north", "digits-federated", "digits-student"];

    private const string FakeTool = """
        r=$2
        if [ "$1" = "plan" ]; then
          [ -e "$7/stale-$r" ] && exit 3
          exit 0
        fi
        if [ "$3" = "--merge" ]; then
          [ -n "$GITHUB_STEP_SUMMARY" ] && echo "merge $r" >> "$GITHUB_STEP_SUMMARY"
          [ -n "$GITHUB_OUTPUT" ] && echo "removal=$r" >> "$GITHUB_OUTPUT"
          exit 0
        fi
        mkdir -p "$6/$r" && echo "$4" > "$6/$r/$4.safetensors"
        [ -n "$GITHUB_STEP_SUMMARY" ] && echo "run $r $4" >> "$GITHUB_STEP_SUMMARY"
        [ -n "$GITHUB_OUTPUT" ] && echo "removal=$r" >> "$GITHUB_OUTPUT"
        exit 0
        """;

    private static TempWorkspace TrainedDigits()
    {
        var ws = Digits.Copy();
        foreach (var model in new[] { "digits-base", "digits-plus-5", "digits-plus-6", "digits-head-7", "clinic-north", "digits-federated", "digits-student" })
        {
            File.SetLastWriteTimeUtc(ws.Write($"{model}/bin/{model}.safetensors", model), DateTime.UtcNow.AddMinutes(-10));
        }

        foreach (var file in Directory.EnumerateFiles(ws.Root, "*.json", SearchOption.AllDirectories).Concat(Directory.EnumerateFiles(ws.PathOf("data"))))
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(-10));
        }

        return ws;
    }

    private static (bool Result, RecordingBuildEngine Engine) Run(TempWorkspace ws, IReadOnlyDictionary<string, string?> environment, string removal, params string[] models)
    {
        var (task, engine) = Task(ws, environment, removal, models);
        return (task.Execute(), engine);
    }

    private static (UnlearnRun Task, RecordingBuildEngine Engine) Task(TempWorkspace ws, IReadOnlyDictionary<string, string?> environment, string removal, params string[] models)
    {
        var engine = new RecordingBuildEngine();
        var task = new UnlearnRun
        {
            BuildEngine = engine,
            Checkpoints = [.. models.Select(m => (ITaskItem)new TaskItem(ws.PathOf($"{m}/bin/{m}.safetensors"), new Dictionary<string, string>
            {
                ["ModelId"] = m,
                ["RemovalId"] = removal,
                ["OutputPath"] = ws.PathOf($"artifacts/unlearn/{removal}/{m}.safetensors"),
            }))],
            ToolExecutable = "/bin/sh",
            ToolArguments = ["-c", FakeTool, "fake-tool"],
            WorkingDirectory = ws.Root,
            Workspace = ws.Root,
            OutputRoot = ws.PathOf("artifacts/unlearn"),
            Parallelism = 2,
            GetEnvironmentVariable = name => environment.GetValueOrDefault(name),
        };
        return (task, engine);
    }

    private static Dictionary<string, string?> Actions(TempWorkspace ws) => new()
    {
        ["GITHUB_ACTIONS"] = "true",
        ["GITHUB_STEP_SUMMARY"] = ws.PathOf("summary.md"),
        ["GITHUB_OUTPUT"] = ws.PathOf("output.txt"),
    };

    private static string[] Lines(TempWorkspace ws, string file) => ws.Exists(file) ? File.ReadAllLines(ws.PathOf(file)) : [];

    [Fact]
    public void Each_removal_is_published_once_by_a_merge_and_the_per_model_runs_publish_nothing()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "uses /bin/sh as a fake tool");
        using var ws = TrainedDigits();

        var (result, engine) = Run(ws, Actions(ws), "forget-clinic-8", ClinicModels);

        Assert.True(result, engine.Log);
        Assert.Equal(["merge forget-clinic-8"], Lines(ws, "summary.md"));
        Assert.Equal(["removal=forget-clinic-8"], Lines(ws, "output.txt"));

        // Two projects that finish together both find every output up to date: the second finds the marker of these
        // outputs and publishes nothing more.
        var (task, other) = Task(ws, Actions(ws), "forget-clinic-8");
        task.PublishSummaries(["forget-clinic-8"]);
        Assert.Equal(["merge forget-clinic-8"], Lines(ws, "summary.md"));
        Assert.Contains("already published", other.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void A_project_that_finishes_while_other_models_of_the_removal_are_out_of_date_leaves_the_summary_to_the_last_one()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "uses /bin/sh as a fake tool");
        using var ws = TrainedDigits();

        // clinic-north's project first: digits-federated and digits-student (other projects) have no outputs yet.
        var (first, firstEngine) = Run(ws, Actions(ws), "forget-clinic-8", "clinic-north");
        Assert.True(first, firstEngine.Log);
        Assert.Empty(Lines(ws, "summary.md"));
        Assert.Contains("digits-federated, digits-student", firstEngine.Log, StringComparison.Ordinal);

        var (last, lastEngine) = Run(ws, Actions(ws), "forget-clinic-8", "digits-federated", "digits-student");
        Assert.True(last, lastEngine.Log);
        Assert.Equal(["merge forget-clinic-8"], Lines(ws, "summary.md"));
    }

    [Fact]
    public void Outputs_current_by_their_times_but_not_by_content_are_not_published_until_the_tool_finds_them_up_to_date()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "uses /bin/sh as a fake tool");
        using var ws = TrainedDigits();
        // The removal's labels edited: the other projects' pairs are stale by content, though no time says so yet.
        ws.Write("stale-forget-clinic-8", "the fake tool's 'plan --check' exits 3 while this file is there");

        var (first, firstEngine) = Run(ws, Actions(ws), "forget-clinic-8", ClinicModels);

        Assert.True(first, firstEngine.Log);
        Assert.Empty(Lines(ws, "summary.md"));
        Assert.Contains("'plan --check' finds some", firstEngine.Log, StringComparison.Ordinal);

        File.Delete(ws.PathOf("stale-forget-clinic-8")); // the last project's build made them current
        var (last, lastEngine) = Task(ws, Actions(ws), "forget-clinic-8");
        last.PublishSummaries(["forget-clinic-8"]);
        Assert.Equal(["merge forget-clinic-8"], Lines(ws, "summary.md"));
        Assert.DoesNotContain("plan --check' finds some", lastEngine.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Outside_GitHub_Actions_nothing_is_merged()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "uses /bin/sh as a fake tool");
        using var ws = TrainedDigits();
        var environment = Actions(ws);
        environment["GITHUB_ACTIONS"] = null;

        var (result, engine) = Run(ws, environment, "forget-clinic-8", ClinicModels);

        Assert.True(result, engine.Log);
        Assert.Empty(Lines(ws, "summary.md"));
        Assert.DoesNotContain("forget-clinic-8 --merge --out", engine.Log, StringComparison.Ordinal);
    }
}
