namespace FisherUnlearn.Engine.Native;

/// <summary>
/// Keeps what a library prints with <see cref="Console.Out"/> off stdout while it runs. TorchSharp prints its whole
/// native-load trace ("This application or script uses TorchSharp but doesn't contain a reference to ...", the paths it
/// probed, the files it copied) with <c>Console.WriteLine</c> when libtorch fails to load: on stdout that breaks
/// <c>--json</c>'s one document and a worker's result lines. <see cref="Run"/> sends it to a buffer instead, and the
/// caller decides where it goes (the FUL3003 diagnostic's detail, stderr).
/// </summary>
/// <remarks>
/// <see cref="Console.Out"/> belongs to the whole process: diversions are serialized by one lock, and the writer in
/// place before is put back however the call ends. Whatever other threads write to <see cref="Console.Out"/> meanwhile
/// lands in the buffer too (not on stdout); the tool's own stdout is the writer it took at start-up, which this does not
/// touch.
/// </remarks>
internal static class StdoutDiversion
{
    private static readonly Lock Gate = new();

    /// <summary>Runs <paramref name="action"/> with <see cref="Console.Out"/> writing to <paramref name="into"/>, then puts
    /// the previous writer back (also when <paramref name="action"/> throws, which then propagates).</summary>
    public static void Run(TextWriter into, Action action)
    {
        ArgumentNullException.ThrowIfNull(into);
        ArgumentNullException.ThrowIfNull(action);
        lock (Gate)
        {
            var previous = Console.Out;
            Console.SetOut(TextWriter.Synchronized(into));
            try
            {
                action();
            }
            finally
            {
                Console.Out.Flush();
                Console.SetOut(previous);
            }
        }
    }
}
