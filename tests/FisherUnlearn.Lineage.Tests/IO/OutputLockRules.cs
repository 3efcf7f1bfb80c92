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

    [Fact]
    public void A_whole_folder_writer_and_a_writer_of_a_part_never_hold_the_folder_at_once()
    {
        using var ws = new TempWorkspace();
        var folder = ws.PathOf("out/forget-3");

        using (var part = OutputLock.TryAcquirePart(folder, "model-a", out _))
        {
            Assert.NotNull(part);
            Assert.Null(OutputLock.TryAcquireWhole(folder, out var holder)); // a whole run (or verify) waits for the part
            Assert.Contains($"pid {Environment.ProcessId}", holder, StringComparison.Ordinal);
            using var other = OutputLock.TryAcquirePart(folder, "model-b", out _);
            Assert.NotNull(other); // parts write disjoint models
        }

        using (var whole = OutputLock.TryAcquireWhole(folder, out _))
        {
            Assert.NotNull(whole);
            Assert.Null(OutputLock.TryAcquirePart(folder, "model-a", out _));
            Assert.Null(OutputLock.TryAcquireWhole(folder, out _));
        }

        // A short section (the shared report) is no writer of outputs: it does not keep the whole folder from a run.
        using var report = OutputLock.TryAcquire(folder, out _, "report");
        using var after = OutputLock.TryAcquireWhole(folder, out _);
        Assert.NotNull(after);
    }
}
