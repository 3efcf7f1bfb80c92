using System.Runtime.CompilerServices;
using TorchSharp;

namespace FisherUnlearn.Engine.Tests.Support;

/// <summary>
/// Counts the TorchSharp tensors the garbage collector finalized: tensors nobody disposed. Such a tensor is the one kind
/// that can be freed while libtorch still reads it (docs/engine-notes.md, "Tensor temporaries"), so the engine must
/// leave none. TorchSharp counts a finalized tensor as "disposed outside a scope" in the per-thread statistics of the
/// thread that disposed it, which for a finalized tensor is the finalizer thread; a probe object's finalizer reads that
/// thread's count.
/// </summary>
internal static class FinalizedTensors
{
    /// <summary>Finalizes everything already unreachable, then returns how many tensors the finalizer thread has disposed
    /// so far.</summary>
    public static long Count()
    {
        Settle();
        var probe = new StrongBox<long>(-1);
        Plant(probe);
        Settle();
        Assert.True(probe.Value >= 0, "the probe was not finalized");
        return probe.Value;
    }

    /// <summary>How many tensors nobody disposed while <paramref name="action"/> ran (including those its result left
    /// behind once it is unreachable).</summary>
    public static long During(Action action)
    {
        var before = Count();
        action();
        return Count() - before;
    }

    private static void Settle()
    {
        for (var i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Plant(StrongBox<long> into) => _ = new Probe(into);

    private sealed class Probe(StrongBox<long> into)
    {
        ~Probe()
        {
            var statistics = DisposeScopeManager.Statistics.TensorStatistics;
            into.Value = statistics.DisposedOutsideScopeCount + statistics.DisposedInScopeCount;
        }
    }
}
