using System.Collections.Concurrent;

namespace FisherUnlearn.Engine.Tests;

/// <summary>Independent jobs on threads: each runs once, on one thread; cancellation and failures surface as they would
/// one after the other.</summary>
public sealed class ParallelJobsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Every_job_runs_once_on_a_single_thread(int parallelism)
    {
        var runs = new ConcurrentDictionary<int, (int Start, int End)>();

        ParallelJobs.For(20, parallelism, i =>
        {
            var start = Environment.CurrentManagedThreadId;
            Thread.Sleep(1);
            Assert.True(runs.TryAdd(i, (start, Environment.CurrentManagedThreadId)), $"job {i} ran twice");
        }, TestContext.Current.CancellationToken);

        Assert.Equal(Enumerable.Range(0, 20), runs.Keys.Order());
        Assert.All(runs.Values, r => Assert.Equal(r.Start, r.End));
        if (parallelism == 1)
        {
            Assert.Single(runs.Values.Select(r => r.Start).Distinct());
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Cancellation_is_an_OperationCanceledException_and_one_failure_is_itself(int parallelism)
    {
        using var cancel = new CancellationTokenSource();

        Assert.ThrowsAny<OperationCanceledException>(() => ParallelJobs.For(8, parallelism, i =>
        {
            cancel.Cancel();
            cancel.Token.ThrowIfCancellationRequested();
        }, cancel.Token));
        var failure = Assert.Throws<InvalidDataException>(() => ParallelJobs.For(8, parallelism, i =>
        {
            if (i == 5)
            {
                throw new InvalidDataException("job 5");
            }
        }, TestContext.Current.CancellationToken));
        Assert.Equal("job 5", failure.Message);
    }

    /// <summary>Several jobs failing at once (every model of a verify whose data do not fit) come back as the failure of
    /// the lowest-numbered job, as itself, as in order: an AggregateException reached the user as an internal error.</summary>
    [Fact]
    public void Several_failures_surface_as_the_lowest_numbered_jobs_exception()
    {
        using var bothStarted = new Barrier(2);
        var failure = Assert.Throws<InvalidDataException>(() => ParallelJobs.For(2, 2, i =>
        {
            bothStarted.SignalAndWait(TimeSpan.FromSeconds(10)); // both run before either fails
            throw new InvalidDataException($"job {i}");
        }, TestContext.Current.CancellationToken));

        Assert.Equal("job 0", failure.Message);
    }
}
