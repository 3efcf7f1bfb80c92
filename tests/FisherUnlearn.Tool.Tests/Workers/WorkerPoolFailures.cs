using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Running;

namespace FisherUnlearn.Tool.Tests.Workers;

/// <summary>Workers that cannot start or die at once fail their models with FUL3021, or with the worker's own error when it
/// wrote one before its first model (libtorch does not load); the run never crashes.</summary>
public sealed class WorkerPoolFailures
{
    [Theory]
    [InlineData("/nonexistent/dotnet", "could not start a worker process")] // no host at all
    [InlineData("/bin/false", "exited with code 1")]                        // a host that exits at once (broken pipe)
    public void Every_model_of_a_worker_that_cannot_run_fails_with_FUL3021(string host, string reason)
    {
        using var ws = new TempWorkspace();
        var launch = new WorkerLaunch(ws.Root, "forget-3", "fiun", null, ws.PathOf("out/forget-3"), new Dictionary<string, Lineage.Manifests.ArchitectureSpec>())
        {
            Host = host,
        };
        AffectedModel[] jobs = [new("a", ModelRole.Root, ["a"], ["a"], "test"), new("b", ModelRole.Descendant, ["a"], ["a", "b"], "test"), new("c", ModelRole.Descendant, ["a"], ["a", "c"], "test")];
        using var progress = new CountingProgress();

        var outcomes = new WorkerPool(launch, parallel: 2, threads: 1).Run(jobs, progress, TestContext.Current.CancellationToken);

        Assert.Equal(["a", "b", "c"], outcomes.Select(o => o.Id));
        Assert.All(outcomes, o => Assert.Equal("FUL3021", o.Error?.Code));
        Assert.All(outcomes, o => Assert.Contains(reason, o.Error!.Message, StringComparison.Ordinal));
        Assert.Equal(3, progress.Finished);
    }

    [Fact]
    public void A_worker_that_stops_on_its_own_error_before_any_model_fails_every_model_with_that_error_and_no_worker_is_restarted()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // the stand-in worker is a shell script
        }

        using var ws = new TempWorkspace();
        var starts = ws.PathOf("starts.txt");
        var host = ws.Write("worker.sh", $$"""
            #!/bin/sh
            echo started >> '{{starts}}'
            echo "loading..." >&2
            echo "/opt/tool/libLibTorchSharp.so: error FUL3003: TorchSharp's native library failed to load: libtorch_cpu.so: cannot open shared object file." >&2
            exit 2
            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        File.SetUnixFileMode(host, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var launch = new WorkerLaunch(ws.Root, "forget-3", "fiun", null, ws.PathOf("out/forget-3"), new Dictionary<string, Lineage.Manifests.ArchitectureSpec>())
        {
            Host = host,
        };
        AffectedModel[] jobs = [new("a", ModelRole.Root, ["a"], ["a"], "test"), new("b", ModelRole.Descendant, ["a"], ["a", "b"], "test"), new("c", ModelRole.Descendant, ["a"], ["a", "c"], "test"), new("d", ModelRole.Descendant, ["a"], ["a", "d"], "test")];
        using var progress = new CountingProgress();

        var outcomes = new WorkerPool(launch, parallel: 2, threads: 1).Run(jobs, progress, TestContext.Current.CancellationToken);

        Assert.Equal(["a", "b", "c", "d"], outcomes.Select(o => o.Id));
        Assert.All(outcomes, o => Assert.Equal("FUL3003", o.Error?.Code));
        Assert.All(outcomes, o => Assert.Equal("TorchSharp's native library failed to load: libtorch_cpu.so: cannot open shared object file.", o.Error!.Message));
        Assert.All(outcomes, o => Assert.Equal("/opt/tool/libLibTorchSharp.so", o.Error!.Location.File));
        Assert.Equal(4, progress.Finished);
        Assert.InRange(File.ReadAllLines(starts).Length, 1, 2); // at most the two started at once; none for the models left
    }

    private sealed class CountingProgress : IRunProgress
    {
        public int Finished { get; private set; }

        public void Planned(IReadOnlyList<string> modelIds)
        {
        }

        public void Started(string modelId)
        {
        }

        void IRunProgress.Finished(ModelOutcome outcome, bool reused)
        {
            lock (this)
            {
                Finished++;
            }
        }

        public void Dispose()
        {
        }
    }
}
