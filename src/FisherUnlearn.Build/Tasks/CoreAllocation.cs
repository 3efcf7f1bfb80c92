namespace FisherUnlearn.Build.Tasks;

/// <summary>
/// How many tool processes a task runs at once and how many libtorch threads each gets, so that the projects
/// <c>dotnet build -m</c> builds at the same time share the cores instead of each taking all of them (libtorch slows
/// down badly when oversubscribed: docs/engine-notes.md).
/// </summary>
/// <param name="Processes">Tool processes at once.</param>
/// <param name="Threads">libtorch threads per process (<c>--threads</c>).</param>
/// <param name="Granted">Cores obtained from MSBuild's resource manager (to give back), 0 when none were asked for.</param>
public sealed record CoreAllocation(int Processes, int Threads, int Granted)
{
    /// <summary>
    /// The allocation for <paramref name="jobs"/> jobs. An explicit <paramref name="threads"/> (> 0) is taken as given.
    /// Otherwise the cores come from <paramref name="requestCores"/> (MSBuild's <c>IBuildEngine9.RequestCores</c>: it
    /// returns how many of the cores asked for this task may use); without it, one thread per process when MSBuild runs
    /// several nodes (each node may be running a task like this one), else the machine's cores split among the processes.
    /// </summary>
    public static CoreAllocation For(int jobs, int parallelism, int threads, int cores, Func<int, int>? requestCores, bool multipleNodes)
    {
        var processes = Math.Max(1, Math.Min(parallelism, jobs));
        cores = Math.Max(1, cores);
        if (threads > 0)
        {
            return new CoreAllocation(processes, threads, 0);
        }

        if (requestCores is not null)
        {
            var granted = requestCores(cores);
            var usable = Math.Max(1, granted);
            processes = Math.Min(processes, usable);
            return new CoreAllocation(processes, Math.Max(1, usable / processes), Math.Max(0, granted));
        }

        return new CoreAllocation(processes, multipleNodes ? 1 : Math.Max(1, cores / processes), 0);
    }
}
