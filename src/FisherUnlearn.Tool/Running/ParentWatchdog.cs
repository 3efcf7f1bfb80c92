using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FisherUnlearn.Tool.Running;

/// <summary>
/// Stops a worker whose run is gone. A run that ends cleanly (or on Ctrl-C, SIGTERM...) kills its workers itself, but one
/// killed outright (SIGKILL, the OOM killer, a crash) cannot: its workers would be re-parented to PID 1 and go on writing
/// outputs after the run's lock is released, alongside the next run. Every <see cref="Interval"/> this checks that the
/// parent is still there (on Linux and macOS: <c>getppid()</c> is still the parent's id, which changes as soon as the
/// parent dies, whatever becomes of its id; on Windows: the parent's process handle, taken at the start, has not
/// exited). When it is gone: the worker's job is cancelled (it stops at its next check, and leaves no half-written file:
/// every write is a temporary file, then a rename), and if it has not stopped <see cref="Grace"/> later, the process
/// exits anyway. <c>prctl(PR_SET_PDEATHSIG)</c> is no answer: it fires when the forking <em>thread</em> ends, and .NET
/// starts processes from pool threads.
/// </summary>
internal sealed class ParentWatchdog : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    /// <summary>The exit code of a worker that outlived its parent and did not stop by itself within <see cref="Grace"/>:
    /// cancelled, as a worker that stops by itself on the cancellation exits.</summary>
    public const int OrphanedExitCode = Cli.ExitCodes.Cancelled;

    private readonly int parentId;
    private readonly Process? parent;
    private readonly CancellationTokenSource cancellation;
    private readonly Timer timer;
    private readonly CancellationTokenSource disposed = new();
    private int fired;

    private ParentWatchdog(int parentId, CancellationTokenSource cancellation)
    {
        this.parentId = parentId;
        this.cancellation = cancellation;
        if (OperatingSystem.IsWindows())
        {
            try
            {
                parent = Process.GetProcessById(parentId);
            }
            catch (ArgumentException)
            {
                parent = null; // gone already: the first check says so
            }
        }

        timer = new Timer(_ => Check(), null, TimeSpan.Zero, Interval);
    }

    /// <summary>Watches the process <paramref name="parentId"/>, which must be this process's parent, and cancels
    /// <paramref name="cancellation"/> when it is gone.</summary>
    public static ParentWatchdog Start(int parentId, CancellationTokenSource cancellation) => new(parentId, cancellation);

    /// <summary>True while the parent given at the start is alive and still this process's parent.</summary>
    public bool ParentAlive()
    {
        if (!OperatingSystem.IsWindows())
        {
            return GetParentProcessId() == parentId;
        }

        try
        {
            return parent is not null && !parent.HasExited;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Stops watching (the worker has finished): also a pending exit of <see cref="Grace"/>.</summary>
    public void Dispose()
    {
        timer.Dispose();
        disposed.Cancel();
        disposed.Dispose();
        parent?.Dispose();
    }

    private void Check()
    {
        if (ParentAlive() || Interlocked.Exchange(ref fired, 1) != 0)
        {
            return;
        }

        try
        {
            cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            return; // the worker has finished already
        }

        // A job stuck in one native call without a cancellation check: the process ends anyway, unless the worker has
        // finished by then (this watchdog disposed).
        try
        {
            _ = Task.Delay(Grace, disposed.Token).ContinueWith(
                waited => Environment.Exit(OrphanedExitCode), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
        catch (ObjectDisposedException)
        {
            // disposed meanwhile: the worker has finished
        }
    }

    [DllImport("libc", EntryPoint = "getppid")]
    private static extern int GetParentProcessId();
}
