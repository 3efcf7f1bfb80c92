using System.Runtime.InteropServices;

namespace FisherUnlearn.Tool.Cli;

/// <summary>
/// The signals that ask a process to stop, all handled as Ctrl-C always was: SIGINT (Ctrl-C), SIGTERM (what
/// <c>timeout</c>, <c>docker stop</c>, Kubernetes and CI cancellation send first), SIGHUP (the terminal went away) and
/// SIGQUIT (Ctrl-\). The first cancels the command: worker processes are killed, nothing is left half-written, finished
/// outputs are kept, FUL3008 is printed and the exit code is 128 + the signal's number (130, 143, 129, 131:
/// <see cref="ExitCodes.ForSignal"/>). A second signal gets the default handling, which ends the process at once (workers
/// then stop by themselves when they see their parent gone: <see cref="Running.ParentWatchdog"/>), except a SIGTERM within
/// <see cref="RepeatWindow"/> of a first SIGTERM: that is the same request delivered twice, not an insistence. <c>timeout</c>
/// and systemd signal the whole process group, and <c>dotnet unlearn</c>'s host (<c>dotnet tool run</c>) forwards the
/// signal it got to the tool as well (QA: exit 143 with no FUL3008, no <c>--json</c> document and the lock left behind,
/// 3 runs of 3).
/// </summary>
/// <remarks>Signals are process-wide, and so is what was received: nested invocations (<c>demo</c> runs its steps through
/// <see cref="CliApp.RunAsync"/>) exit with the code of the signal that stopped them.</remarks>
internal static class StopSignals
{
    private static readonly PosixSignal[] Handled = [PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT];

    private static int received;

    private static long receivedAt;

    /// <summary>How long after a first SIGTERM another is taken as the same request (see the summary).</summary>
    internal static readonly TimeSpan RepeatWindow = TimeSpan.FromSeconds(2);

    /// <summary>The first stop signal this process received, or null.</summary>
    public static PosixSignal? Received => Volatile.Read(ref received) is var signal && signal != 0 ? (PosixSignal)signal : null;

    /// <summary>The exit code of a command that was cancelled: that of <see cref="Received"/>, else
    /// <see cref="ExitCodes.Cancelled"/> (cancelled otherwise, as by a test or a host).</summary>
    public static int CancelledExitCode => Received is { } signal ? ExitCodes.ForSignal(signal) : ExitCodes.Cancelled;

    /// <summary>Cancels <paramref name="cancellation"/> on the first stop signal, until disposed.</summary>
    public static IDisposable Register(CancellationTokenSource cancellation)
    {
        var registrations = new List<PosixSignalRegistration>();
        foreach (var signal in Handled)
        {
            try
            {
                registrations.Add(PosixSignalRegistration.Create(signal, context => OnSignal(context, cancellation)));
            }
            catch (PlatformNotSupportedException)
            {
                // A platform without this signal: the others still stop the command cleanly.
            }
        }

        return new Registrations(registrations);
    }

    private static void OnSignal(PosixSignalContext context, CancellationTokenSource cancellation)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (Interlocked.CompareExchange(ref received, (int)context.Signal, 0) is var first && first != 0)
        {
            // No time yet: the first is being handled at this very moment.
            var at = Volatile.Read(ref receivedAt);
            if (IsRepeat((PosixSignal)first, context.Signal, at == 0 ? TimeSpan.Zero : System.Diagnostics.Stopwatch.GetElapsedTime(at, now)))
            {
                context.Cancel = true; // the first's delivery again: the command is already stopping
            }

            return; // a second signal: the default handling, which ends the process now
        }

        Volatile.Write(ref receivedAt, now);

        context.Cancel = true;
        try
        {
            cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the command has already returned
        }
    }

    /// <summary>Whether <paramref name="signal"/>, <paramref name="after"/> the first stop signal <paramref name="first"/>, is
    /// that request delivered again rather than a second one.</summary>
    internal static bool IsRepeat(PosixSignal first, PosixSignal signal, TimeSpan after) =>
        first == PosixSignal.SIGTERM && signal == PosixSignal.SIGTERM && after < RepeatWindow;

    private sealed class Registrations(List<PosixSignalRegistration> registrations) : IDisposable
    {
        public void Dispose() => registrations.ForEach(r => r.Dispose());
    }
}
