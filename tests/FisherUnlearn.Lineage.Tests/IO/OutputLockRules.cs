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

    // Found in QA: on a read-only mount the lock file's IOException was taken for another holder, and verify said another
    // process was writing (FUL3007). It needs a read-only mount, which only a privileged Linux user can make.
    [Fact]
    public void A_read_only_file_system_is_an_error_not_another_holder()
    {
        using var ws = new TempWorkspace();
        var folder = ws.CreateDirectory("out");
        if (!OperatingSystem.IsLinux() || !Mount("-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", folder))
        {
            Assert.Skip("making a read-only mount needs a privileged Linux user");
        }

        try
        {
            var error = Assert.Throws<IOException>(() => OutputLock.TryAcquire(folder, out _));
            Assert.Contains("Read-only file system", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Assert.True(Mount(folder), $"umount {folder}");
        }
    }

    // Runs mount (or, with one argument, umount); false when it cannot.
    private static bool Mount(params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo(arguments.Length == 1 ? "umount" : "mount") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = System.Diagnostics.Process.Start(start)!;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
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
