namespace FisherUnlearn.Tool.Cli;

/// <summary>The exit codes of <c>dotnet unlearn</c> (design.md section 4). Scripts rely on them: never change one.</summary>
internal static class ExitCodes
{
    /// <summary>Done, or nothing to do.</summary>
    public const int Ok = 0;

    /// <summary>A run failed or verification missed its targets (finished outputs are kept).</summary>
    public const int Failed = 1;

    /// <summary>Usage, manifest or configuration error.</summary>
    public const int InvalidInput = 2;

    /// <summary><c>--check</c> found work to do (outputs missing or stale).</summary>
    public const int WorkPending = 3;

    /// <summary>Cancelled: by Ctrl-C (SIGINT, 128 + 2), or otherwise than by a signal. A command stopped by another
    /// signal exits with that signal's code (<see cref="ForSignal"/>).</summary>
    public const int Cancelled = 130;

    /// <summary>Stopped by SIGTERM (128 + 15), as <c>timeout</c>, <c>docker stop</c>, Kubernetes and CI cancellation send.</summary>
    public const int Terminated = 143;

    /// <summary>The exit code of a command stopped cleanly by <paramref name="signal"/>: 128 + its number, the shells'
    /// convention (SIGHUP 129, SIGINT 130, SIGQUIT 131, SIGTERM 143; the numbers are the same on Linux and macOS).</summary>
    public static int ForSignal(System.Runtime.InteropServices.PosixSignal signal) => signal switch
    {
        System.Runtime.InteropServices.PosixSignal.SIGHUP => 128 + 1,
        System.Runtime.InteropServices.PosixSignal.SIGINT => Cancelled,
        System.Runtime.InteropServices.PosixSignal.SIGQUIT => 128 + 3,
        System.Runtime.InteropServices.PosixSignal.SIGTERM => Terminated,
        _ when (int)signal > 0 => 128 + (int)signal, // a raw signal number
        _ => Cancelled,
    };
}
