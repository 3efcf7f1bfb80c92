using FisherUnlearn.Tool.Cli;

namespace FisherUnlearn.Tool;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // First Ctrl-C: stop cleanly (finished outputs are kept, nothing half-written). Second: the default, kill.
            if (!cancellation.IsCancellationRequested)
            {
                e.Cancel = true;
                cancellation.Cancel();
            }
        };

        return await CliApp.RunAsync(args, CliContext.FromConsole(), cancellation.Token).ConfigureAwait(false);
    }
}
