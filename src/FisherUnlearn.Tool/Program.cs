using FisherUnlearn.Tool.Cli;

namespace FisherUnlearn.Tool;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var cancellation = new CancellationTokenSource();
        // First SIGINT (Ctrl-C), SIGTERM, SIGHUP or SIGQUIT: stop cleanly (workers killed, finished outputs kept, nothing
        // half-written), exit 128 + the signal's number. Second: the default, which ends the process at once.
        using var signals = StopSignals.Register(cancellation);
        return await CliApp.RunAsync(args, CliContext.FromConsole(), cancellation.Token).ConfigureAwait(false);
    }
}
