using System.Diagnostics;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

/// <summary>Incremental, parallel, sharded and locked runs, on the small two-model digits chain.</summary>
[Collection(RunCommandCollection.Name)]
public sealed class RunOrchestrationScenarios
{
    private static readonly string[] Models = ["a", "b"];

    [Fact]
    public async Task A_rerun_with_nothing_changed_does_no_work_and_says_so()
    {
        using var ws = await TrainedChain();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1")).ExitCode);
        var before = Outputs(ws, "artifacts/unlearn");
        var written = Models.Select(m => File.GetLastWriteTimeUtc(ws.PathOf($"artifacts/unlearn/forget-3/{m}.safetensors"))).ToList();
        var report = ws.ReadText("artifacts/unlearn/forget-3/report.json");

        var again = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1", "--json");

        Assert.Equal(0, again.ExitCode);
        Assert.All(again.Json["models"]!, m => Assert.Equal("up-to-date", (string)m["status"]!));
        Assert.Contains("nothing to do", again.Error, StringComparison.Ordinal);
        Assert.Equal(before, Outputs(ws, "artifacts/unlearn"));
        Assert.Equal(written, Models.Select(m => File.GetLastWriteTimeUtc(ws.PathOf($"artifacts/unlearn/forget-3/{m}.safetensors"))));
        Assert.Equal(report, ws.ReadText("artifacts/unlearn/forget-3/report.json")); // its times are still the real run's
    }

    /// <summary>A second Ctrl-C or a SIGKILL ends a writer before it can delete its temporary file: the next run deletes
    /// those whose process is gone once they are a minute old, and leaves a live writer's alone.</summary>
    [Fact]
    public async Task A_run_deletes_the_temporary_files_of_writers_killed_outright_and_no_others()
    {
        using var ws = await TrainedChain();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1")).ExitCode);
        using var gone = Process.Start("true")!;
        await gone.WaitForExitAsync(TestContext.Current.CancellationToken);
        string Plant(string name, bool aged = true)
        {
            ws.Write(name, "half");
            File.SetLastWriteTimeUtc(ws.PathOf(name), aged ? DateTime.UtcNow.AddMinutes(-5) : DateTime.UtcNow);
            return name;
        }

        var stale = new[]
        {
            Plant($"artifacts/unlearn/forget-3/.a.safetensors.tmp-{gone.Id}-0a"),
            Plant($"artifacts/unlearn/forget-3/.jobs/.a.json.tmp-{gone.Id}-0b"),
            Plant($"artifacts/unlearn/.{FileHashStore.FileName}.tmp-{gone.Id}-0c"),
        };
        var kept = new[]
        {
            Plant($"artifacts/unlearn/forget-3/.b.safetensors.tmp-{gone.Id}-0d", aged: false),
            Plant($"artifacts/unlearn/forget-3/.b.safetensors.tmp-{Environment.ProcessId}-0e"),
        };

        var again = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1");

        Assert.Equal(0, again.ExitCode);
        Assert.All(stale, f => Assert.False(File.Exists(ws.PathOf(f)), f));
        Assert.All(kept, f => Assert.True(File.Exists(ws.PathOf(f)), f));
    }

    [Fact]
    public async Task Changing_one_models_checkpoint_redoes_exactly_that_model_and_force_redoes_all()
    {
        using var ws = await TrainedChain();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1")).ExitCode);
        ws.Write("b/b.lineage.json", ws.ReadText("b/b.lineage.json").Replace("\"seed\": 1", "\"seed\": 2", StringComparison.Ordinal));
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);

        var changed = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1", "--json");
        var forced = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1", "--json", "--force");

        Assert.Equal(0, changed.ExitCode);
        Assert.Equal(["up-to-date", "done"], Statuses(changed));
        Assert.Equal(["done", "done"], Statuses(forced));
    }

    /// <summary>Outputs are the same bytes at any thread count (docs/engine-notes.md), so unlearn.json's threads and
    /// parallelism (and its other settings that change no output byte) leave every output up to date; a method parameter
    /// makes them stale.</summary>
    [Fact]
    public async Task Changing_threads_or_parallelism_in_unlearn_json_redoes_nothing_and_changing_a_parameter_redoes_every_model()
    {
        using var ws = await TrainedChain();
        ws.Write("unlearn.json", """{ "method": "fiun", "threads": 1, "parallelism": 1 }""");
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3")).ExitCode);
        var before = Outputs(ws, "artifacts/unlearn");

        ws.Write("unlearn.json", """{ "method": "fiun", "threads": 2, "parallelism": 2, "planLabels": 1, "maxPlans": 10, "x-owner": "ml-team", "parameters": { "x-note": "tried" } }""");
        var check = await CliRun.InvokeAsync(ws.Root, "plan", "forget-3", "--check");
        var status = await CliRun.InvokeAsync(ws.Root, "status", "--json");
        var again = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--json");

        Assert.True(check.ExitCode == 0, check.Error);
        Assert.Equal("done", (string?)status.Json["removals"]!.Single(r => (string?)r["id"] == "forget-3")["state"]);
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(["up-to-date", "up-to-date"], Statuses(again));
        Assert.Equal(before, Outputs(ws, "artifacts/unlearn"));

        ws.Write("unlearn.json", """{ "method": "fiun", "threads": 2, "parallelism": 2, "parameters": { "alpha": 2 } }""");
        var stale = await CliRun.InvokeAsync(ws.Root, "plan", "forget-3", "--check");
        var redone = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--json");

        Assert.Equal(3, stale.ExitCode);
        Assert.Equal(0, redone.ExitCode);
        Assert.Equal(["done", "done"], Statuses(redone));
    }

    [Fact]
    public async Task Changing_a_roots_manifest_makes_every_model_below_it_stale_not_just_the_root()
    {
        using var ws = await TrainedChain();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1")).ExitCode);
        // a now also trains on digit 5, so b inherits it: b's retained labels change though neither checkpoint does.
        ws.Write("a/a.lineage.json", ws.ReadText("a/a.lineage.json").Replace("[0, 1, 2, 3]", "[0, 1, 2, 3, 5]", StringComparison.Ordinal));

        var status = await CliRun.InvokeAsync(ws.Root, "status", "--json");
        var check = await CliRun.InvokeAsync(ws.Root, "plan", "forget-3", "--check");
        var changed = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1", "--json");

        var models = status.Json["removals"]!.Single(r => (string)r["id"]! == "forget-3")["models"]!;
        Assert.Equal(["stale", "stale"], models.Select(m => (string)m["state"]!));
        Assert.Equal(3, check.ExitCode);
        Assert.Contains("stale: b", check.Error, StringComparison.Ordinal);
        Assert.Equal(["done", "done"], Statuses(changed));
    }

    [Fact]
    public async Task Worker_processes_produce_the_same_outputs_as_one_process()
    {
        using var ws = await TrainedChain();

        // Both as real processes, as users run them (the test host's own libtorch state is not a user's).
        using var single = ToolProcess.Start(ws.Root, "run", "forget-3", "--parallel", "1", "--threads", "1", "--out", "single", "--no-progress");
        Assert.True(await single.ExitCodeAsync() == 0, single.Error);
        using var parallel = ToolProcess.Start(ws.Root, "run", "forget-3", "--parallel", "2", "--threads", "1", "--out", "parallel", "--no-progress");

        Assert.True(await parallel.ExitCodeAsync() == 0, parallel.Error);
        Assert.Equal(Outputs(ws, "single"), Outputs(ws, "parallel"));
    }

    [Fact]
    public async Task Shards_run_as_separate_processes_then_merged_equal_a_single_run()
    {
        using var ws = await TrainedChain();
        using var single = ToolProcess.Start(ws.Root, "run", "forget-3", "--parallel", "1", "--threads", "1", "--out", "single", "--no-progress");
        Assert.True(await single.ExitCodeAsync() == 0, single.Error);

        var matrix = await CliRun.InvokeAsync(ws.Root, "plan", "forget-3", "--matrix");
        var shards = Newtonsoft.Json.Linq.JObject.Parse(matrix.Out)["include"]!.Select(j => (string)j["shard"]!).ToList();
        var processes = shards.Select(shard => ToolProcess.Start(ws.Root, "run", "forget-3", "--shard", shard, "--out", "sharded", "--parallel", "1", "--threads", "1", "--no-progress")).ToList();
        try
        {
            foreach (var process in processes)
            {
                Assert.True(await process.ExitCodeAsync() == 0, process.Error);
            }
        }
        finally
        {
            foreach (var process in processes)
            {
                process.Dispose();
            }
        }

        var merged = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--merge", "--out", "sharded", "--json");

        Assert.Equal(["1/2", "2/2"], shards);
        Assert.Equal(0, merged.ExitCode);
        Assert.Equal(Outputs(ws, "single"), Outputs(ws, "sharded"));
        var report = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("sharded/forget-3/report.json"));
        Assert.Equal(Models, report["models"]!.Select(m => (string)m["id"]!));
    }

    [Fact]
    public async Task A_second_run_on_a_locked_output_folder_stops_with_a_clear_message()
    {
        using var ws = await TrainedChain();
        using var held = OutputLock.TryAcquire(ws.PathOf("artifacts/unlearn/forget-3"), out _);

        var run = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("error FUL3007:", run.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(ws.PathOf("artifacts/unlearn/forget-3/a.safetensors")));
    }

    [Fact]
    public async Task Two_runs_at_once_one_finishes_the_other_is_told_the_folder_is_busy()
    {
        using var ws = await TrainedChain();
        using var first = ToolProcess.Start(ws.Root, "run", "forget-3", "--parallel", "1", "--threads", "1", "--no-progress");
        await WaitFor(() => File.Exists(ws.PathOf("artifacts/unlearn/forget-3/" + OutputLock.FileName)));

        using var second = ToolProcess.Start(ws.Root, "run", "forget-3", "--parallel", "1", "--threads", "1", "--no-progress");
        var secondExit = await second.ExitCodeAsync();
        var firstExit = await first.ExitCodeAsync();

        Assert.True(firstExit == 0, first.Error);
        Assert.Equal(1, secondExit);
        Assert.Contains("error FUL3007:", second.Error, StringComparison.Ordinal);
        var again = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1", "--json");
        Assert.All(again.Json["models"]!, m => Assert.Equal("up-to-date", (string)m["status"]!));
    }

    [Fact]
    public async Task A_whole_run_or_verify_and_an_only_run_never_write_the_folder_at_once()
    {
        using var ws = await TrainedChain();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1")).ExitCode);
        var folder = ws.PathOf("artifacts/unlearn/forget-3");
        var before = File.ReadAllBytes(Path.Combine(folder, "report.json"));

        // An --only run (one project's build) is writing model a: neither a whole run nor verify may go on meanwhile, or
        // the reports would describe (or certify) a file that was replaced under them (QA).
        using (OutputLock.TryAcquirePart(folder, "model-a", out _))
        {
            var run = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--force", "--parallel", "1");
            var verify = await CliRun.InvokeAsync(ws.Root, "verify", "forget-3");

            Assert.Equal(1, run.ExitCode);
            Assert.Contains("error FUL3007:", run.Error, StringComparison.Ordinal);
            Assert.Equal(1, verify.ExitCode);
            Assert.Contains("error FUL3007:", verify.Error, StringComparison.Ordinal);
            Assert.Equal(before, File.ReadAllBytes(Path.Combine(folder, "report.json")));
        }

        // And the other way round: a whole writer holds the folder, an --only run (or a merge) is told so.
        using (OutputLock.TryAcquireWhole(folder, out _))
        {
            var only = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--only", "a", "--force", "--parallel", "1");
            var merge = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--merge");

            Assert.Equal(1, only.ExitCode);
            Assert.Contains("error FUL3007:", only.Error, StringComparison.Ordinal);
            Assert.Equal(1, merge.ExitCode);
            Assert.Contains("error FUL3007:", merge.Error, StringComparison.Ordinal);
            Assert.Equal(before, File.ReadAllBytes(Path.Combine(folder, "report.json")));
        }

        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "verify", "forget-3")).ExitCode);
    }

    [Fact]
    public async Task Runs_of_different_models_at_once_both_finish_and_the_report_has_both()
    {
        using var ws = await TrainedChain();

        using var a = ToolProcess.Start(ws.Root, "run", "forget-3", "--only", "a", "--parallel", "1", "--threads", "1", "--no-progress");
        using var b = ToolProcess.Start(ws.Root, "run", "forget-3", "--only", "b", "--parallel", "1", "--threads", "1", "--no-progress");

        Assert.True(await a.ExitCodeAsync() == 0, a.Error);
        Assert.True(await b.ExitCodeAsync() == 0, b.Error);
        var report = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("artifacts/unlearn/forget-3/report.json"));
        Assert.Equal(Models, report["models"]!.Select(m => (string)m["id"]!));
    }

    [Fact]
    public async Task Ctrl_C_stops_with_exit_code_130_leaves_no_partial_file_and_the_next_run_finishes()
    {
        using var ws = await TrainedChain();
        using var run = ToolProcess.Start(ws.Root, "run", "forget-3", "--parallel", "1", "--threads", "1", "--no-progress");
        await WaitFor(() => Directory.Exists(ws.PathOf("artifacts/unlearn/forget-3")));

        run.Interrupt();
        var exit = await run.ExitCodeAsync();
        var resumed = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1", "--json");

        if (exit == 130)
        {
            Assert.Contains("FUL3008", run.Error, StringComparison.Ordinal);
        }
        else
        {
            Assert.True(exit == 0, run.Error); // the run won the race and finished before the signal: still a clean state
        }

        Assert.Empty(Directory.GetFiles(ws.PathOf("artifacts"), "*tmp*", SearchOption.AllDirectories));
        Assert.Equal(0, resumed.ExitCode);
        Assert.Equal(Models, resumed.Json["models"]!.Select(m => (string)m["id"]!));
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "plan", "forget-3", "--check")).ExitCode);
    }

    [Fact]
    public async Task A_run_cancelled_after_a_model_finished_keeps_its_record_so_the_next_run_skips_it()
    {
        using var ws = await TrainedChain();
        var analysis = Lineage.WorkspaceAnalysis.Analyze(ws.Root, TestContext.Current.CancellationToken);
        using var cancel = new CancellationTokenSource();
        var progress = new CancelAfterFirst(cancel);

        Assert.ThrowsAny<OperationCanceledException>(() =>
            new Running.RunCoordinator(progress).Run(analysis, analysis.Workspace.Removals["forget-3"], new Running.RunRequest { Parallel = 1, Threads = 1 }, cancel.Token));
        Assert.Equal(["a"], progress.Finished);
        Assert.True(ws.Exists("artifacts/unlearn/forget-3/.jobs/a.json"));
        Assert.False(ws.Exists("artifacts/unlearn/forget-3/b.safetensors"));

        var resumed = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1", "--json");

        Assert.Equal(["up-to-date", "done"], Statuses(resumed));
    }

    [Fact]
    public async Task A_run_stopped_after_it_replaced_an_output_leaves_no_report_that_passes_for_current()
    {
        using var ws = await TrainedChain();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1")).ExitCode);
        Assert.Contains("targets met", ws.ReadText("artifacts/unlearn/forget-3/report.md"), StringComparison.Ordinal);
        var analysis = Lineage.WorkspaceAnalysis.Analyze(ws.Root, TestContext.Current.CancellationToken);
        using var cancel = new CancellationTokenSource();

        // Stopped (Ctrl-C, SIGTERM, a cancelled CI job) once 'a' is written again: b's output is still the earlier one.
        Assert.ThrowsAny<OperationCanceledException>(() => new Running.RunCoordinator(new CancelAfterFirst(cancel))
            .Run(analysis, analysis.Workspace.Removals["forget-3"], new Running.RunRequest { Parallel = 1, Threads = 1, Force = true }, cancel.Token));

        foreach (var report in new[] { "report.json", "report.md", "report.html" })
        {
            Assert.False(ws.Exists($"artifacts/unlearn/forget-3/{report}"), report);
        }

        // Both outputs are current (b's inputs did not change), and the next run writes the reports of them again.
        var resumed = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1", "--json");
        Assert.Equal(["up-to-date", "up-to-date"], Statuses(resumed));
        var json = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("artifacts/unlearn/forget-3/report.json"));
        Assert.Equal(
            Models.Select(m => ContentHash.OfFile(ws.PathOf($"artifacts/unlearn/forget-3/{m}.safetensors"))),
            json["models"]!.Select(m => (string)m["outputSha256"]!));
    }

    [Fact]
    public async Task Reports_a_run_cannot_remove_before_replacing_outputs_are_named_on_stderr()
    {
        using var ws = await TrainedChain();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1")).ExitCode);
        // A folder where report.md goes: it cannot be deleted as a file (nor written, which the run then says too).
        ws.Delete("artifacts/unlearn/forget-3/report.md");
        ws.Write("artifacts/unlearn/forget-3/report.md/kept", "x");

        var run = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1", "--force");

        Assert.Contains(run.ErrorLines, l => l.StartsWith("dotnet-unlearn: warning: could not remove the reports of 'forget-3' before replacing outputs they show (", StringComparison.Ordinal)
            && l.Contains("report.md", StringComparison.Ordinal));
        Assert.Contains("FUL3009", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_that_only_adds_missing_outputs_keeps_the_reports_that_say_they_are_missing()
    {
        using var ws = await TrainedChain();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--only", "a")).ExitCode);
        Assert.Contains("no current output yet", ws.ReadText("artifacts/unlearn/forget-3/report.md"), StringComparison.Ordinal);
        var analysis = Lineage.WorkspaceAnalysis.Analyze(ws.Root, TestContext.Current.CancellationToken);
        using var cancel = new CancellationTokenSource();

        // Stopped as b starts: the reports say truly that b has no output yet, so they stay.
        Assert.ThrowsAny<OperationCanceledException>(() => new Running.RunCoordinator(new CancelAfterFirst(cancel, atStart: true))
            .Run(analysis, analysis.Workspace.Removals["forget-3"], new Running.RunRequest { Parallel = 1, Threads = 1 }, cancel.Token));

        Assert.False(ws.Exists("artifacts/unlearn/forget-3/b.safetensors"));
        Assert.Contains("no current output yet", ws.ReadText("artifacts/unlearn/forget-3/report.md"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_for_a_model_new_to_the_request_removes_the_reports_that_do_not_list_it()
    {
        using var ws = await TrainedChain();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1")).ExitCode);
        // c, a new fine-tune of b: the reports of a and b alone say "targets met" for a request that now affects three.
        ws.Write("c/c.lineage.json", ws.ReadText("b/b.lineage.json").Replace("\"id\": \"b\"", "\"id\": \"c\"", StringComparison.Ordinal)
            .Replace("\"id\": \"a\"", "\"id\": \"b\"", StringComparison.Ordinal).Replace("b.safetensors", "c.safetensors", StringComparison.Ordinal));
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        var analysis = Lineage.WorkspaceAnalysis.Analyze(ws.Root, TestContext.Current.CancellationToken);
        Assert.Equal(["a", "b", "c"], analysis.Graph.TopologicalOrder.Where(id => analysis.Workspace.Models.ContainsKey(id)).Order(StringComparer.Ordinal));
        using var cancel = new CancellationTokenSource();

        // Stopped as c starts: a's and b's outputs are current and kept, c has none, and no report says otherwise.
        Assert.ThrowsAny<OperationCanceledException>(() => new Running.RunCoordinator(new CancelAfterFirst(cancel, atStart: true))
            .Run(analysis, analysis.Workspace.Removals["forget-3"], new Running.RunRequest { Parallel = 1, Threads = 1 }, cancel.Token));

        Assert.False(ws.Exists("artifacts/unlearn/forget-3/report.json"));
        Assert.False(ws.Exists("artifacts/unlearn/forget-3/report.md"));
        var again = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1", "--json");
        Assert.Equal(["up-to-date", "up-to-date", "done"], Statuses(again));
        Assert.Equal(["a", "b", "c"], Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("artifacts/unlearn/forget-3/report.json"))["models"]!.Select(m => (string)m["id"]!));
    }

    [Fact]
    public async Task After_an_only_run_an_output_made_for_earlier_inputs_is_out_of_date_in_the_report_not_missing()
    {
        using var ws = await TrainedChain();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1")).ExitCode);
        ws.Write("b/b.lineage.json", ws.ReadText("b/b.lineage.json").Replace("\"seed\": 1", "\"seed\": 2", StringComparison.Ordinal));
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);

        var only = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--only", "a", "--json");

        Assert.Equal(0, only.ExitCode);
        var json = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("artifacts/unlearn/forget-3/report.json"));
        Assert.Equal(["done", "stale"], json["models"]!.Select(m => (string)m["status"]!));
        var markdown = ws.ReadText("artifacts/unlearn/forget-3/report.md");
        Assert.Contains("out of date", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("no current output yet", markdown, StringComparison.Ordinal);
    }

    /// <summary>Cancels the run once its first model computed here has finished (or, <paramref name="atStart"/>, as it
    /// starts); a model found up to date does not count.</summary>
    private sealed class CancelAfterFirst(CancellationTokenSource cancel, bool atStart = false) : Running.IRunProgress
    {
        public List<string> Finished { get; } = [];

        public void Planned(IReadOnlyList<string> modelIds)
        {
        }

        public void Started(string modelId)
        {
            if (atStart)
            {
                cancel.Cancel();
            }
        }

        void Running.IRunProgress.Finished(Engine.Unlearning.ModelOutcome outcome, bool reused)
        {
            Finished.Add(outcome.Id);
            if (!reused)
            {
                cancel.Cancel();
            }
        }

        public void Dispose()
        {
        }
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    public async Task A_failing_model_keeps_the_others_outputs_and_the_next_run_redoes_only_it(string parallel)
    {
        using var ws = await TrainedChain();
        var checkpoint = ws.ReadBytes("b/bin/b.safetensors");
        ws.WriteBytes("b/bin/b.safetensors", checkpoint[..(checkpoint.Length / 2)]);

        var failed = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", parallel, "--threads", "1", "--json");
        var kept = (A: File.Exists(ws.PathOf("artifacts/unlearn/forget-3/a.safetensors")), B: File.Exists(ws.PathOf("artifacts/unlearn/forget-3/b.safetensors")));
        ws.WriteBytes("b/bin/b.safetensors", checkpoint);
        var resumed = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", parallel, "--threads", "1", "--json");

        Assert.Equal(1, failed.ExitCode);
        Assert.Equal(["done", "failed"], Statuses(failed));
        Assert.Matches(@"error FUL4\d{3}:", failed.Error);
        var why = failed.Json["models"]![1]!["error"]!;
        Assert.Matches(@"^FUL4\d{3}$", (string)why["code"]!);
        Assert.Contains("b.safetensors", (string)why["message"]!, StringComparison.Ordinal);
        Assert.EndsWith("b.safetensors", (string)why["file"]!, StringComparison.Ordinal); // also from a worker process
        Assert.Equal(Newtonsoft.Json.Linq.JTokenType.Null, failed.Json["models"]![0]!["error"]!.Type);
        Assert.Contains("1 failed", failed.Error, StringComparison.Ordinal);
        Assert.Equal((true, false), kept);
        Assert.Equal(0, resumed.ExitCode);
        Assert.Equal(["up-to-date", "done"], Statuses(resumed));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    public async Task A_failed_models_record_names_its_file_as_report_json_does_without_the_machines_folders(string parallel)
    {
        using var ws = await TrainedChain();
        var checkpoint = ws.ReadBytes("b/bin/b.safetensors");
        ws.WriteBytes("b/bin/b.safetensors", checkpoint[..(checkpoint.Length / 2)]);

        var failed = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", parallel, "--threads", "1", "--json");

        Assert.Equal(1, failed.ExitCode);
        var recordText = ws.ReadText("artifacts/unlearn/forget-3/.jobs/b.json");
        Assert.DoesNotContain(ws.Root, recordText, StringComparison.Ordinal); // the folder is uploaded as a CI artifact
        var error = Newtonsoft.Json.Linq.JObject.Parse(recordText)["error"]!;
        var reported = (string)Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("artifacts/unlearn/forget-3/report.json"))["models"]![1]!["error"]!;
        Assert.Equal(reported, (string)error["code"]! + ": " + (string)error["message"]!);
        Assert.Equal("b/bin/b.safetensors", (string)error["file"]!);
        Assert.Equal(Newtonsoft.Json.Linq.JTokenType.Null, error["line"]!.Type);
        Assert.Equal(Newtonsoft.Json.Linq.JTokenType.Null, error["column"]!.Type);
        Assert.Equal(failed.Json["models"]![1]!["error"]!["file"]!.ToString(), (string)error["file"]!);

        // A merge reads the record back and still points at the checkpoint.
        var merged = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--merge");
        Assert.Contains("b/bin/b.safetensors: error FUL4", merged.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redo_that_fails_takes_away_the_output_an_earlier_run_made_from_other_inputs()
    {
        using var ws = await TrainedChain();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1")).ExitCode);
        var checkpoint = ws.ReadBytes("b/bin/b.safetensors");
        ws.WriteBytes("b/bin/b.safetensors", checkpoint[..(checkpoint.Length / 2)]);

        var failed = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1", "--json");

        Assert.Equal(1, failed.ExitCode);
        Assert.Equal(["up-to-date", "failed"], Statuses(failed));
        Assert.True(File.Exists(ws.PathOf("artifacts/unlearn/forget-3/a.safetensors")));
        Assert.False(File.Exists(ws.PathOf("artifacts/unlearn/forget-3/b.safetensors"))); // made from the old checkpoint
        var status = (await CliRun.InvokeAsync(ws.Root, "status", "--json")).Json["removals"]![0]!["models"]!;
        Assert.Equal(["done", "missing"], status.Select(m => (string)m["state"]!));

        // A failed --force over a current, intact output keeps it: its inputs are the ones it was made from.
        ws.WriteBytes("b/bin/b.safetensors", checkpoint);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1")).ExitCode);
        var current = ws.ReadBytes("artifacts/unlearn/forget-3/b.safetensors");
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1", "--force")).ExitCode);
        Assert.Equal(current, ws.ReadBytes("artifacts/unlearn/forget-3/b.safetensors"));
    }

    [Fact]
    public async Task Retrain_with_one_damaged_checkpoint_fails_that_model_and_keeps_the_others_with_their_records_and_report()
    {
        using var ws = await TrainedChain();
        var checkpoint = ws.ReadBytes("b/bin/b.safetensors");
        ws.WriteBytes("b/bin/b.safetensors", checkpoint[..(checkpoint.Length / 2)]);

        var failed = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--method", "retrain", "--json");

        Assert.Equal(1, failed.ExitCode);
        Assert.Equal(["done", "failed"], Statuses(failed));
        Assert.Matches(@"^FUL4\d{3}$", (string)failed.Json["models"]![1]!["error"]!["code"]!);
        Assert.True(File.Exists(ws.PathOf("artifacts/unlearn/forget-3/a.safetensors")));
        Assert.True(File.Exists(ws.PathOf("artifacts/unlearn/forget-3/.jobs/a.json")));
        Assert.False(File.Exists(ws.PathOf("artifacts/unlearn/forget-3/b.safetensors")));
        Assert.True(File.Exists(ws.PathOf("artifacts/unlearn/forget-3/report.json")));

        ws.WriteBytes("b/bin/b.safetensors", checkpoint);
        var resumed = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--method", "retrain", "--json");
        Assert.Equal(0, resumed.ExitCode);
        Assert.Equal(["up-to-date", "done"], Statuses(resumed));
    }

    [Fact]
    public async Task Retrain_goes_parents_first_so_each_model_is_retrained_by_its_own_job_with_its_own_time()
    {
        // The parent's id sorts after its child's (z -> b): id order would retrain z as b's ancestor first, and z's own
        // job would then find its output made already: reused, in about no time, by the run that made it (QA).
        using var ws = DigitsChain.Create();
        ws.Write("z/z.lineage.json", ws.ReadText("a/a.lineage.json").Replace("\"id\": \"a\"", "\"id\": \"z\"", StringComparison.Ordinal).Replace("bin/a.", "bin/z.", StringComparison.Ordinal));
        ws.Delete("a/a.lineage.json");
        ws.Write("b/b.lineage.json", ws.ReadText("b/b.lineage.json").Replace("\"id\": \"a\"", "\"id\": \"z\"", StringComparison.Ordinal));
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);

        var run = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--method", "retrain", "--parallel", "1", "--json");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(["z", "b"], run.Json["models"]!.Select(m => (string)m["id"]!));
        Assert.Equal(["done", "done"], Statuses(run));
        var report = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("artifacts/unlearn/forget-3/report.json"));
        Assert.All(report["models"]!, m => Assert.False((bool)m["parameters"]!["reused"]!, $"{m["id"]} reused"));
        // Each model's own training time, not the time to load an output made moments before (a few milliseconds).
        Assert.All(run.Json["models"]!, m => Assert.True((double)m["seconds"]! >= 0.02, $"{m["id"]}: {m["seconds"]} s"));

        // --force makes each model again, not its output of the run before (QA), and gives the same bytes.
        var before = Directory.GetFiles(ws.PathOf("artifacts/unlearn/forget-3"), "*.safetensors").Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();
        var forced = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--method", "retrain", "--parallel", "1", "--force", "--json");
        Assert.True(forced.ExitCode == 0, forced.Error);
        var again = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("artifacts/unlearn/forget-3/report.json"));
        Assert.All(again["models"]!, m => Assert.False((bool)m["parameters"]!["reused"]!, $"{m["id"]} reused under --force"));
        Assert.Equal(before, Directory.GetFiles(ws.PathOf("artifacts/unlearn/forget-3"), "*.safetensors").Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList());
    }

    [Fact]
    public async Task Plan_check_exits_3_until_every_output_is_up_to_date()
    {
        using var ws = await TrainedChain();

        var pending = await CliRun.InvokeAsync(ws.Root, "plan", "forget-3", "--check");
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1")).ExitCode);
        var done = await CliRun.InvokeAsync(ws.Root, "plan", "forget-3", "--check", "--json");
        ws.Write("forget-3.removal.json", ws.ReadText("forget-3.removal.json").Replace("0.05", "0.04", StringComparison.Ordinal));
        var stale = await CliRun.InvokeAsync(ws.Root, "plan", "forget-3", "--check");

        Assert.Equal(3, pending.ExitCode);
        Assert.Contains("missing: a", pending.Error, StringComparison.Ordinal);
        Assert.Equal(0, done.ExitCode);
        Assert.True((bool)done.Json["upToDate"]!);
        Assert.Equal(3, stale.ExitCode);
        Assert.Contains("stale: b", stale.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Merging_before_every_shard_ran_names_what_is_missing_and_fails()
    {
        using var ws = await TrainedChain();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--shard", "1/2", "--parallel", "1", "--out", "sharded")).ExitCode);

        var merged = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--merge", "--out", "sharded");

        Assert.Equal(1, merged.ExitCode);
        Assert.Contains("forget-3.removal.json(1,1): error FUL3022:", merged.Error, StringComparison.Ordinal); // an annotation on the request
        Assert.Contains("'b'", merged.Error, StringComparison.Ordinal);
        // The report lists both affected models and does not read as complete.
        var report = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("sharded/forget-3/report.json"));
        Assert.Equal(["done", "missing"], report["models"]!.Select(m => (string)m["status"]!));
        // Not known, as report.md says, not "missed" (QA: report.json said false where the page said "not known yet").
        Assert.Equal(Newtonsoft.Json.Linq.JTokenType.Null, report["targetsMet"]!.Type);
        var markdown = ws.ReadText("sharded/forget-3/report.md");
        Assert.Contains("1 of 2 models without a current output yet", markdown, StringComparison.Ordinal);
        Assert.Contains("not known yet", markdown, StringComparison.Ordinal); // targets: pending, not "missed"
        Assert.Contains("| Affected | 2 models", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("✅ 1 model", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Merging_again_after_verify_keeps_the_verdict_of_the_same_outputs_and_drops_it_for_new_ones()
    {
        using var ws = await TrainedChain();
        foreach (var shard in new[] { "1/2", "2/2" })
        {
            Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--shard", shard, "--parallel", "1", "--out", "sharded")).ExitCode);
        }

        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--merge", "--out", "sharded")).ExitCode);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "verify", "forget-3", "--out", "sharded")).ExitCode);
        var verified = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("sharded/forget-3/report.json"));
        Assert.NotNull(verified["verification"] as Newtonsoft.Json.Linq.JObject);

        // A CI job that merges again (the same shard results) must not lose what verify found (found in QA: null).
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--merge", "--out", "sharded")).ExitCode);
        var again = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("sharded/forget-3/report.json"));
        Assert.Equal(verified["verification"]!.ToString(), again["verification"]!.ToString());
        Assert.Equal(verified["models"]![0]!["metrics"]!.ToString(), again["models"]![0]!["metrics"]!.ToString());

        // Other outputs (a shard run again with another method) are not what was verified.
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--method", "ssd", "--out", "sharded")).ExitCode);
        var other = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("sharded/forget-3/report.json"));
        Assert.Equal(Newtonsoft.Json.Linq.JTokenType.Null, other["verification"]!.Type);
    }

    [Fact]
    public async Task A_merge_reports_a_model_that_failed_in_its_shard_as_failed_with_the_shards_error()
    {
        using var ws = await TrainedChain();
        var checkpoint = ws.ReadBytes("b/bin/b.safetensors");
        ws.WriteBytes("b/bin/b.safetensors", checkpoint[..(checkpoint.Length / 2)]);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--shard", "1/2", "--parallel", "1", "--out", "sharded")).ExitCode);
        Assert.Equal(1, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--shard", "2/2", "--parallel", "1", "--out", "sharded")).ExitCode);

        var merged = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--merge", "--out", "sharded");

        Assert.Equal(1, merged.ExitCode);
        Assert.Matches(@"b\.safetensors.*error FUL4\d{3}:|error FUL4\d{3}:.*b\.safetensors", merged.Error);
        Assert.DoesNotContain("FUL3022", merged.Error, StringComparison.Ordinal);
        var report = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("sharded/forget-3/report.json"));
        Assert.Equal(["done", "failed"], report["models"]!.Select(m => (string)m["status"]!));
        Assert.StartsWith("FUL4", (string)report["models"]![1]!["error"]!, StringComparison.Ordinal);

        // Fixed and run again, the shard's output replaces the failure.
        ws.WriteBytes("b/bin/b.safetensors", checkpoint);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--shard", "2/2", "--parallel", "1", "--out", "sharded")).ExitCode);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--merge", "--out", "sharded")).ExitCode);
    }

    [Fact]
    public async Task A_merge_takes_the_shards_method_and_refuses_results_that_are_out_of_date_or_whose_file_is_gone()
    {
        using var ws = await TrainedChain();
        foreach (var shard in new[] { "1/2", "2/2" })
        {
            Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--method", "ssd", "--shard", shard, "--parallel", "1", "--out", "sharded")).ExitCode);
        }

        var merged = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--merge", "--out", "sharded");

        Assert.True(merged.ExitCode == 0, merged.Error);
        Assert.Equal("ssd", (string?)Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("sharded/forget-3/report.json"))["method"]);

        // Shard 2 again with the default method: the shards now disagree, the merge takes fiun, and a's ssd result is out of date.
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--shard", "2/2", "--parallel", "1", "--out", "sharded")).ExitCode);
        var mixed = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--merge", "--out", "sharded");

        Assert.Equal(1, mixed.ExitCode);
        Assert.Contains("error FUL3023:", mixed.Error, StringComparison.Ordinal);
        Assert.Contains("'a'", mixed.Error, StringComparison.Ordinal);

        // An output deleted after its shard ran is not merged as done. With a's result out of date too, nothing is left
        // to merge: the merge fails and leaves the last merge's reports as they were.
        var lastMerge = ws.ReadText("sharded/forget-3/report.json");
        File.Delete(ws.PathOf("sharded/forget-3/b.safetensors"));
        var gone = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--merge", "--method", "fiun", "--out", "sharded");

        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("error FUL3022:", gone.Error, StringComparison.Ordinal);
        Assert.Contains("'b'", gone.Error, StringComparison.Ordinal);
        Assert.Contains("nothing to merge; the reports are left as they were", gone.Error, StringComparison.Ordinal);
        Assert.Equal(lastMerge, ws.ReadText("sharded/forget-3/report.json"));
    }

    [Fact]
    public async Task A_shard_beyond_the_affected_models_says_it_holds_none_not_that_outputs_are_up_to_date()
    {
        using var ws = await TrainedChain();

        var run = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--shard", "3/3");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains(run.ErrorLines, l => l.Contains("shard 3/3 holds no model (the removal affects 2", StringComparison.Ordinal));
        Assert.DoesNotContain("every output is up to date", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_shard_is_a_usage_error()
    {
        using var ws = DigitsChain.Create();

        var run = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--shard", "3/2");
        var mergeOneShard = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--shard", "2/3", "--merge");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("FUL3020", run.Error, StringComparison.Ordinal);
        Assert.Equal(2, mergeOneShard.ExitCode);
        Assert.Contains("--merge computes nothing", mergeOneShard.Error, StringComparison.Ordinal);
        var onlyOneShard = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--only", "a", "--shard", "2/2");
        Assert.Equal(2, onlyOneShard.ExitCode);
        Assert.Contains("--only and --shard each choose the models to run", onlyOneShard.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Outputs_of_models_the_request_no_longer_affects_are_named_by_verify_and_removed_by_the_next_run()
    {
        using var ws = await TrainedChain();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1", "--method", "ssd")).ExitCode);
        ws.WriteBytes("artifacts/unlearn/forget-3/mine.safetensors", [1, 2, 3]); // a file no record vouches for: the user's
        // Digit 4 instead: a never learned it, so its digit-3 output is not this request's any more.
        ws.Write("forget-3.removal.json", ws.ReadText("forget-3.removal.json").Replace("[3]", "[4]", StringComparison.Ordinal));

        var verify = await CliRun.InvokeAsync(ws.Root, "verify", "forget-3", "--method", "ssd");
        var run = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1", "--method", "ssd", "--json");

        Assert.Contains("warning FUL5010: The output folder of 'forget-3' still holds the outputs of 'a'", verify.Error, StringComparison.Ordinal);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(["a"], run.Json["removed"]!.Select(r => (string)r!));
        Assert.Contains("removed the outputs of 'a': 'forget-3' no longer affects it", run.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(ws.PathOf("artifacts/unlearn/forget-3/a.safetensors")));
        Assert.False(File.Exists(ws.PathOf("artifacts/unlearn/forget-3/.jobs/a.json")));
        Assert.True(File.Exists(ws.PathOf("artifacts/unlearn/forget-3/b.safetensors")));
        Assert.True(File.Exists(ws.PathOf("artifacts/unlearn/forget-3/mine.safetensors")));
        Assert.Equal(["b"], Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("artifacts/unlearn/forget-3/report.json"))["models"]!.Select(m => (string)m["id"]!));
        var again = await CliRun.InvokeAsync(ws.Root, "verify", "forget-3", "--method", "ssd");
        Assert.DoesNotContain("FUL5010", again.Error, StringComparison.Ordinal);

        // Digit 9, which no model learned: nothing is affected, so the outputs and the reports that describe them go.
        ws.Write("forget-3.removal.json", ws.ReadText("forget-3.removal.json").Replace("[4]", "[9]", StringComparison.Ordinal));
        var status = await CliRun.InvokeAsync(ws.Root, "status", "--json");
        var check = await CliRun.InvokeAsync(ws.Root, "plan", "forget-3", "--check");
        var verifyNone = await CliRun.InvokeAsync(ws.Root, "verify", "forget-3");
        var none = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--json");

        var removal = status.Json["removals"]!.Single(r => (string)r["id"]! == "forget-3");
        // Named, but not pending work: an MSBuild build never has them as outputs, and -question agrees with plan --check.
        Assert.Equal(("done", 0), ((string)removal["state"]!, (int)removal["affected"]!));
        Assert.Equal(["b"], removal["leftovers"]!.Select(l => (string)l!));
        Assert.Equal(0, check.ExitCode);
        Assert.Contains("no longer affected: b (its output is still there; 'run' removes it)", check.Error, StringComparison.Ordinal);
        Assert.Contains("warning FUL5010: The output folder of 'forget-3' still holds the outputs of 'b'", verifyNone.Error, StringComparison.Ordinal);

        Assert.True(none.ExitCode == 0, none.Error);
        Assert.Equal(["b"], none.Json["removed"]!.Select(r => (string)r!));
        Assert.Equal(["mine.safetensors"], Directory.GetFiles(ws.PathOf("artifacts/unlearn/forget-3")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    private static async Task<TempWorkspace> TrainedChain()
    {
        var ws = DigitsChain.Create();
        var train = await CliRun.InvokeAsync(ws.Root, "train");
        Assert.True(train.ExitCode == 0, train.Error);
        return ws;
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition() && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.True(condition(), "timed out waiting");
    }

    private static List<string> Statuses(CliRun run) => [.. run.Json["models"]!.Select(m => (string)m["status"]!)];

    private static Dictionary<string, string> Outputs(TempWorkspace ws, string root) =>
        Models.ToDictionary(m => m, m => ContentHash.OfFile(ws.PathOf($"{root}/forget-3/{m}.safetensors")));
}
