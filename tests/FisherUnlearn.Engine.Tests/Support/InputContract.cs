using System.Runtime.ExceptionServices;

namespace FisherUnlearn.Engine.Tests.Support;

/// <summary>
/// The contract every input reader keeps with a damaged file: it either returns a whole result or throws an
/// <see cref="EngineException"/> with a FUL4xxx code whose location is the file (or the manifest that names it),
/// never another exception; it finishes; and what it allocates is bounded by the bytes the file holds, never by sizes
/// its header declares.
/// </summary>
internal static class InputContract
{
    /// <summary>Managed bytes a load may allocate per byte of data the file holds. The widest legitimate growth is
    /// well below it: an IDX pixel becomes a float32 feature (4 bytes) and a label byte a long (8) beside its int
    /// source index (4); CSV text becomes UTF-16 lines and cells (2 + 2 per byte) and lists of floats and longs that
    /// double as they grow; a safetensors header becomes a JSON document of 12 bytes per token and lists of longs.</summary>
    public const long BytesPerDataByte = 64;

    /// <summary>Managed bytes any load may allocate whatever the file: file-stream, gzip and reader buffers, exceptions
    /// and their stack traces, first-use static state (the diagnostic catalogue). The most measured is under 150 KB.</summary>
    public const long FixedBytes = 256 << 10;

    /// <summary>Longer than any load of these small files takes (milliseconds) by three orders of magnitude: a load
    /// that has not finished by then loops.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(10);

    public static long AllocationBound(long dataBytes) => (BytesPerDataByte * dataBytes) + FixedBytes;

    /// <summary>Runs <paramref name="load"/> and checks the contract; <paramref name="whole"/> then checks a result it
    /// returned. Any exception other than a FUL4xxx <see cref="EngineException"/> is rethrown as it was, for CsCheck to
    /// shrink.</summary>
    /// <param name="dataBytes">The bytes of data the files read hold (decompressed, for gzip).</param>
    /// <param name="files">The files a refusal may be located at.</param>
    public static void LoadsWholeOrRefuses<T>(Func<T> load, long dataBytes, IReadOnlyCollection<string> files, Action<T> whole)
    {
        var run = Task.Run(() => Measure(load));
        Assert.True(run.Wait(Hang, TestContext.Current.CancellationToken), $"the load did not finish in {Hang.TotalSeconds} s");
        var (result, error, allocated) = run.Result;
        var bound = AllocationBound(dataBytes);
        Assert.True(allocated <= bound, $"the load allocated {allocated} bytes for {dataBytes} bytes of data (at most {bound}); outcome: {error?.GetType().Name ?? "loaded"}");
        if (error is null)
        {
            whole(result!);
            return;
        }

        if (error is not EngineException refusal || !refusal.Code.StartsWith("FUL4", StringComparison.Ordinal))
        {
            ExceptionDispatchInfo.Throw(error);
            return;
        }

        Assert.Contains(refusal.Diagnostic.Location.File, files);
        Assert.DoesNotContain("frame #", refusal.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception raised from", refusal.Message, StringComparison.Ordinal);
    }

    /// <summary>What <paramref name="load"/> returns or throws, and the managed bytes it allocates on this thread (where
    /// it runs, start to end).</summary>
    public static (T? Result, Exception? Error, long Allocated) Measure<T>(Func<T> load)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            var result = load();
            return (result, null, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        catch (Exception ex)
        {
            return (default, ex, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }
}
