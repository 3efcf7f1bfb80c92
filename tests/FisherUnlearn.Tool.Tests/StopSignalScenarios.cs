using System.Runtime.InteropServices;
using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

/// <summary>SIGTERM (timeout, docker stop, Kubernetes, CI cancellation), SIGHUP and SIGQUIT stop a run as Ctrl-C does:
/// FUL3008, exit 128 + the signal's number (in --json's failure document too), every worker process gone before the run ends, no temporary file, and the
/// next run finishes the job. (Ctrl-C itself: RunOrchestrationScenarios.)</summary>
[Collection(RunCommandCollection.Name)]
public sealed class StopSignalScenarios
{
    [Theory]
    [InlineData("TERM", 143)]
    [InlineData("HUP", 129)]
    [InlineData("QUIT", 131)]
    public async Task A_parallel_run_stopped_by_a_signal_kills_its_workers_says_FUL3008_and_exits_128_plus_the_signal(string signal, int exitCode)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // POSIX signals, and workers found through /proc
        }

        using var ws = await TrainedChain();
        using var run = ToolProcess.Start(ws.Root, "run", "forget-3", "--parallel", "2", "--threads", "1", "--no-progress", "--json");
        Assert.True(await WorkerProcesses.WithinAsync(TimeSpan.FromSeconds(60), () => WorkerProcesses.Of(ws.Root).Count == 2), "the workers did not start");

        run.Signal(signal);
        var exit = await run.ExitCodeAsync();
        var left = WorkerProcesses.Of(ws.Root);
        left.ToList().ForEach(w => WorkerProcesses.KillIfAlive(w.Id));

        Assert.True(exit == exitCode, $"exit {exit}: {run.Error}");
        Assert.Contains("error FUL3008: Cancelled.", run.Error, StringComparison.Ordinal);
        var document = Newtonsoft.Json.Linq.JObject.Parse(run.Output); // --json: the failure document says the same code
        Assert.Equal(exitCode, (int)document["exitCode"]!);
        Assert.Equal("FUL3008", (string?)document["diagnostics"]![0]!["code"]);
        Assert.Empty(left); // the run waited for its killed workers: none writes after its lock is released
        Assert.Empty(Directory.GetFiles(ws.Root, "*tmp*", SearchOption.AllDirectories));
        var resumed = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1");
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "plan", "forget-3", "--check")).ExitCode);
    }

    // timeout and systemd signal the whole process group, and 'dotnet unlearn' (dotnet tool run) forwards what it got to the
    // tool too: the same SIGTERM twice at once. It stops the run as one does, not at once with nothing said (QA).
    [Fact]
    public async Task A_SIGTERM_delivered_twice_at_once_stops_the_run_as_one_does()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var ws = await TrainedChain();
        using var run = ToolProcess.Start(ws.Root, "run", "forget-3", "--parallel", "2", "--threads", "1", "--no-progress", "--json");
        Assert.True(await WorkerProcesses.WithinAsync(TimeSpan.FromSeconds(60), () => WorkerProcesses.Of(ws.Root).Count == 2), "the workers did not start");

        run.Signal("TERM");
        run.Signal("TERM");
        var exit = await run.ExitCodeAsync();
        var left = WorkerProcesses.Of(ws.Root);
        left.ToList().ForEach(w => WorkerProcesses.KillIfAlive(w.Id));

        Assert.True(exit == 143, $"exit {exit}: {run.Error}");
        Assert.Contains("error FUL3008: Cancelled.", run.Error, StringComparison.Ordinal);
        Assert.Equal(143, (int)Newtonsoft.Json.Linq.JObject.Parse(run.Output)["exitCode"]!);
        Assert.Empty(left);
        Assert.Empty(Directory.GetFiles(ws.Root, ".unlearn.lock*", SearchOption.AllDirectories)); // released
    }

    [Theory]
    [InlineData(PosixSignal.SIGTERM, PosixSignal.SIGTERM, 0.1, true)]
    [InlineData(PosixSignal.SIGTERM, PosixSignal.SIGTERM, 3.0, false)] // asked again: now
    [InlineData(PosixSignal.SIGINT, PosixSignal.SIGINT, 0.1, false)] // Ctrl-C twice: a person insisting
    [InlineData(PosixSignal.SIGTERM, PosixSignal.SIGINT, 0.1, false)]
    public void Only_a_SIGTERM_soon_after_a_first_is_taken_as_the_same_request(PosixSignal first, PosixSignal second, double seconds, bool repeat) =>
        Assert.Equal(repeat, Cli.StopSignals.IsRepeat(first, second, TimeSpan.FromSeconds(seconds)));

    private static async Task<TempWorkspace> TrainedChain()
    {
        var ws = DigitsChain.Create();
        var train = await CliRun.InvokeAsync(ws.Root, "train");
        Assert.True(train.ExitCode == 0, train.Error);
        return ws;
    }
}
