using System.Diagnostics;
using System.Globalization;
using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Running;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests.Workers;

/// <summary>A worker stops by itself when the run that started it is gone, even killed outright (SIGKILL), so no worker
/// goes on writing outputs after the run's lock is released.</summary>
[Collection(RunCommandCollection.Name)]
public sealed class OrphanedWorkerScenarios
{
    [Fact]
    public async Task A_worker_whose_parent_is_killed_stops_within_seconds_even_though_its_stdin_stays_open()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the parent is a shell script; workers are found through /proc
        }

        using var ws = SampleWorkspaces.Chain();
        var pidFile = ws.PathOf("worker.pid");
        var errorFile = ws.PathOf("worker.err");
        // The parent: a shell that starts the worker on its own stdin (through fd 3: a background command's stdin is
        // otherwise /dev/null), a pipe this test holds open, so that only the watchdog can tell the worker its parent is gone.
        var script = ws.Write("parent.sh", """
            exec 3<&0
            "$1" "$2" worker forget-1 --models-from-stdin --workspace "$3" --parent-pid $$ <&3 2>"$5" &
            echo $! > "$4"
            wait
            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in new[] { script, DotnetHost(), Path.Combine(AppContext.BaseDirectory, "dotnet-unlearn.dll"), ws.Root, pidFile, errorFile })
        {
            info.ArgumentList.Add(argument);
        }

        using var parent = Process.Start(info)!;
        int worker = 0;
        try
        {
            Assert.True(await WorkerProcesses.WithinAsync(TimeSpan.FromSeconds(30), () => File.Exists(pidFile) && File.ReadAllText(pidFile).EndsWith('\n')), "the worker did not start");
            worker = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
            // Alive and waiting for its first model (past the workspace load: the watchdog runs from its start anyway).
            Assert.True(WorkerProcesses.IsAlive(worker));

            parent.Kill(); // SIGKILL, the shell alone: it cannot pass anything on
            await parent.WaitForExitAsync(TestContext.Current.CancellationToken);

            Assert.True(await WorkerProcesses.WithinAsync(TimeSpan.FromSeconds(10), () => !WorkerProcesses.IsAlive(worker)), "the worker outlived its parent");
            Assert.Contains("error FUL3008: Cancelled.", File.ReadAllText(errorFile), StringComparison.Ordinal); // stopped as cancelled, not on an error of its own
            Assert.Empty(Directory.GetFiles(ws.Root, "*tmp*", SearchOption.AllDirectories));
        }
        finally
        {
            if (worker != 0)
            {
                WorkerProcesses.KillIfAlive(worker);
            }
        }
    }

    [Fact]
    public async Task A_run_killed_outright_leaves_no_worker_behind_and_the_next_run_finishes_the_job()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var ws = DigitsChain.Create();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        using var run = ToolProcess.Start(ws.Root, "run", "forget-3", "--parallel", "2", "--threads", "1", "--no-progress");
        Assert.True(await WorkerProcesses.WithinAsync(TimeSpan.FromSeconds(60), () => WorkerProcesses.Of(ws.Root).Count == 2), "the workers did not start");
        var workers = WorkerProcesses.Of(ws.Root);
        try
        {
            // Each worker is told whose death stops it: the run's.
            Assert.All(workers, w => Assert.Equal(run.Id.ToString(CultureInfo.InvariantCulture), w.Arguments.SkipWhile(a => a != "--parent-pid").Skip(1).FirstOrDefault()));

            run.Signal("KILL");
            await run.ExitCodeAsync();

            Assert.True(await WorkerProcesses.WithinAsync(TimeSpan.FromSeconds(10), () => workers.All(w => !WorkerProcesses.IsAlive(w.Id))), "a worker outlived the run");
            Assert.Empty(Directory.GetFiles(ws.Root, "*tmp*", SearchOption.AllDirectories));
            var resumed = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--parallel", "1");
            Assert.True(resumed.ExitCode == 0, resumed.Error);
            Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "plan", "forget-3", "--check")).ExitCode);
        }
        finally
        {
            workers.ToList().ForEach(w => WorkerProcesses.KillIfAlive(w.Id));
        }
    }

    [Fact]
    public async Task The_watchdog_leaves_a_worker_whose_parent_lives_alone_and_cancels_one_whose_parent_is_not_there()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the parent's id read from /proc
        }

        var stat = File.ReadAllText("/proc/self/stat");
        var parentId = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        using var living = new CancellationTokenSource();
        using var gone = new CancellationTokenSource();

        using (ParentWatchdog.Start(parentId, living))
        using (ParentWatchdog.Start(Environment.ProcessId, gone)) // this process is not its own parent: as if the parent died
        {
            Assert.True(await WorkerProcesses.WithinAsync(TimeSpan.FromSeconds(5), () => gone.IsCancellationRequested), "not cancelled");
            await Task.Delay(ParentWatchdog.Interval * 3, TestContext.Current.CancellationToken); // three more checks of the living parent
        }

        Assert.False(living.IsCancellationRequested);
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
