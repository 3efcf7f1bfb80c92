using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Running;

namespace FisherUnlearn.Tool.Tests.Workers;

/// <summary>Workers that cannot start or die at once fail their models with FUL3021; the run never crashes.</summary>
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
