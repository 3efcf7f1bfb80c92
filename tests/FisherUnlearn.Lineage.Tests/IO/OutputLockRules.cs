using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Lineage.Tests.IO;

public sealed class OutputLockRules
{
    [Fact]
    public void A_second_holder_is_refused_and_told_who_holds_the_lock()
    {
        using var ws = new TempWorkspace();
        var folder = ws.PathOf("out/forget-3");

        using var first = OutputLock.TryAcquire(folder, out var none);
        var second = OutputLock.TryAcquire(folder, out var holder);

        Assert.NotNull(first);
        Assert.Null(none);
        Assert.Null(second);
        Assert.Contains($"pid {Environment.ProcessId}", holder, StringComparison.Ordinal);
    }

    [Fact]
    public void Releasing_the_lock_lets_the_next_run_in_and_leaves_no_lock_file()
    {
        using var ws = new TempWorkspace();
        var folder = ws.PathOf("out");

        OutputLock.TryAcquire(folder, out _)!.Dispose();
        using var again = OutputLock.TryAcquire(folder, out _);

        Assert.NotNull(again);
        again.Dispose();
        Assert.Empty(Directory.GetFiles(folder));
    }
}
