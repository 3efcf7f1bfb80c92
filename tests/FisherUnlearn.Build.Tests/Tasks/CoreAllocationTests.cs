using FisherUnlearn.Build.Tasks;

namespace FisherUnlearn.Build.Tests.Tasks;

/// <summary>How UnlearnRun shares the cores among its tool processes, and with the other projects of a -m build.</summary>
public sealed class CoreAllocationTests
{
    [Fact]
    public void Explicit_threads_are_kept_and_no_cores_are_requested()
    {
        var asked = 0;

        var allocation = CoreAllocation.For(jobs: 5, parallelism: 2, threads: 3, cores: 8, requestCores: n => asked = n, multipleNodes: true);

        Assert.Equal(new CoreAllocation(2, 3, 0), allocation);
        Assert.Equal(0, asked);
    }

    [Theory]
    [InlineData(8, 2, 8, 2, 4)] // Everything granted: two processes of four threads.
    [InlineData(8, 2, 3, 2, 1)] // Other projects hold most cores: what is granted, shared.
    [InlineData(8, 4, 1, 1, 1)] // One core left: one process, one thread.
    [InlineData(8, 1, 0, 1, 1)] // Nothing granted beyond the task's own core: still one process, one thread.
    public void Granted_cores_bound_processes_times_threads(int cores, int parallelism, int granted, int processes, int threads)
    {
        var asked = 0;

        var allocation = CoreAllocation.For(jobs: 10, parallelism, threads: 0, cores, requestCores: n => { asked = n; return granted; }, multipleNodes: true);

        Assert.Equal(cores, asked);
        Assert.Equal((processes, threads, granted), (allocation.Processes, allocation.Threads, allocation.Granted));
        Assert.True(allocation.Processes * allocation.Threads <= Math.Max(1, granted), "never more threads than granted cores");
    }

    [Theory]
    [InlineData(false, 8, 2, 4)] // One node: the machine's cores split among the processes.
    [InlineData(true, 8, 2, 1)] // Several nodes and no resource manager: one thread per process.
    public void Without_a_resource_manager_several_nodes_get_one_thread_per_process(bool multipleNodes, int cores, int parallelism, int threads)
    {
        var allocation = CoreAllocation.For(jobs: 10, parallelism, threads: 0, cores, requestCores: null, multipleNodes);

        Assert.Equal(new CoreAllocation(parallelism, threads, 0), allocation);
    }

    [Fact]
    public void Never_more_processes_than_jobs()
    {
        Assert.Equal(1, CoreAllocation.For(jobs: 1, parallelism: 4, threads: 0, cores: 8, requestCores: n => n, multipleNodes: false).Processes);
        Assert.Equal(8, CoreAllocation.For(jobs: 1, parallelism: 4, threads: 0, cores: 8, requestCores: n => n, multipleNodes: false).Threads);
    }
}
