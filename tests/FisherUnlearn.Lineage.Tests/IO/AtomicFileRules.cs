using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Lineage.Tests.IO;

public sealed class AtomicFileRules
{
    [Fact]
    public void A_symbolic_link_stays_a_link_and_the_file_it_leads_to_gets_the_content()
    {
        using var ws = new TempWorkspace();
        ws.Write("shared/lineage.mmd", "old");
        Directory.CreateDirectory(ws.PathOf("docs"));
        File.CreateSymbolicLink(ws.PathOf("docs/lineage.mmd"), "../shared/lineage.mmd");

        AtomicFile.WriteAllText(ws.PathOf("docs/lineage.mmd"), "new");

        Assert.Equal("../shared/lineage.mmd", new FileInfo(ws.PathOf("docs/lineage.mmd")).LinkTarget);
        Assert.Equal("new", ws.ReadText("shared/lineage.mmd"));
        Assert.Equal(["lineage.mmd"], Directory.GetFileSystemEntries(ws.PathOf("docs")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_FIFO_or_a_device_is_written_into_not_replaced_by_a_regular_file()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "no FIFOs or device nodes in the file system");
        using var ws = new TempWorkspace();
        var fifo = ws.MakeFifo("pipe.mmd");
        var read = Task.Run(() => File.ReadAllText(fifo), TestContext.Current.CancellationToken); // as a shell's process substitution reads
        // A link to a device, so that a regression replaces the link in the temporary folder, never the device itself.
        File.CreateSymbolicLink(ws.PathOf("null-link"), "/dev/null");

        AtomicFile.WriteAllText(fifo, "graph TD");
        AtomicFile.WriteAllText(ws.PathOf("null-link"), "discarded");

        Assert.Equal("graph TD", await read.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.Equal("a FIFO (named pipe)", RegularFile.KindOf(fifo));
        Assert.Equal("/dev/null", new FileInfo(ws.PathOf("null-link")).LinkTarget);
        Assert.Equal("a character device", RegularFile.KindOf(ws.PathOf("null-link")));
        Assert.Empty(Directory.GetFiles(ws.Root, ".*tmp-*"));
    }

    [Fact]
    public void A_file_whose_name_is_near_the_limit_is_written_and_its_leftovers_are_still_found_by_name()
    {
        using var ws = new TempWorkspace();
        var name = new string('é', 120) + ".safetensors"; // 252 bytes in UTF-8: the file fits, ".<name>.tmp-<pid>-<guid>" would not

        AtomicFile.WriteAllText(ws.PathOf(name), "content");
        var temporary = AtomicFile.TemporaryPathFor(ws.PathOf(name));
        File.WriteAllText(temporary, "left by a writer that is gone");
        File.SetLastWriteTimeUtc(temporary, DateTime.UtcNow.AddHours(-1));
        var gone = temporary.Replace($".tmp-{Environment.ProcessId}-", ".tmp-999999999-", StringComparison.Ordinal);
        File.Move(temporary, gone);

        Assert.Equal("content", ws.ReadText(name));
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(Path.GetFileName(gone)) <= 255);
        Assert.Equal(1, AtomicFile.DeleteStaleLeftovers(ws.Root, recursive: false, target: name));
        Assert.Equal([name], ws.Files());
    }

    [Fact]
    public void A_write_that_is_refused_names_the_file_asked_for_not_its_temporary()
    {
        using var ws = new TempWorkspace();
        ws.CreateDirectory("report.md"); // a folder where the file goes: the rename is refused

        var error = Assert.ThrowsAny<IOException>(() => AtomicFile.WriteAllText(ws.PathOf("report.md"), "text"));

        Assert.DoesNotContain(".tmp-", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(ws.Root));
    }

    [Fact]
    public void A_file_that_cannot_be_created_there_names_the_file_asked_for_too()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "procfs is Linux's");
        var path = $"/proc/fiun-atomic-{Guid.NewGuid():N}.svg"; // procfs creates no file: ENOENT, a FileNotFoundException

        var error = Assert.ThrowsAny<IOException>(() => AtomicFile.WriteAllText(path, "<svg/>"));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(".tmp-", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_leftovers_of_a_killed_writer_are_deleted_at_any_depth_and_nothing_else()
    {
        using var ws = new TempWorkspace();
        ws.Write("out/forget-3/.a.safetensors.tmp-4242-0123abcd", "half");
        ws.Write("out/forget-3/.jobs/.a.json.tmp-4242-89ef", "half");
        ws.Write("out/harvest/a/.k.safetensors.tmp-4242-77", "half");
        ws.Write("out/forget-3/.b.safetensors.tmp-4243-0123abcd", "another writer's");
        ws.Write("out/forget-3/a.safetensors", "done");

        AtomicFile.DeleteLeftoversOf(4242, ws.PathOf("out"));

        Assert.Equal(["out/forget-3/.b.safetensors.tmp-4243-0123abcd", "out/forget-3/a.safetensors"],
            Directory.GetFiles(ws.PathOf("out"), "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(ws.Root, f).Replace('\\', '/')).Order(StringComparer.Ordinal));
        AtomicFile.DeleteLeftoversOf(4242, ws.PathOf("nowhere")); // a folder that is not there: nothing to do
    }

    [Fact]
    public void Leftovers_of_writers_that_are_gone_are_deleted_once_a_minute_old_and_nothing_else()
    {
        using var ws = new TempWorkspace();
        using var gone = System.Diagnostics.Process.Start("true")!;
        gone.WaitForExit();
        var dead = gone.Id;
        var old = DateTime.UtcNow.AddMinutes(-5);
        string Plant(string name, bool aged = true)
        {
            ws.Write(name, "half");
            if (aged)
            {
                File.SetLastWriteTimeUtc(ws.PathOf(name), old);
            }

            return name;
        }

        Plant($"out/forget-3/.a.safetensors.tmp-{dead}-0123");
        Plant($"out/forget-3/.jobs/.a.json.tmp-{dead}-89ef");
        var fresh = Plant($"out/forget-3/.b.safetensors.tmp-{dead}-77", aged: false); // written to just now
        var mine = Plant($"out/forget-3/.c.safetensors.tmp-{Environment.ProcessId}-01");
        var running = Plant("out/forget-3/.d.safetensors.tmp-1-01"); // process 1 runs
        var notOurs = Plant($"out/.notes.txt.tmp-{dead}-01");
        var store = Plant($"out/..file-hashes.json.tmp-{dead}-01");
        var done = Plant("out/forget-3/a.safetensors");

        var inRemoval = AtomicFile.DeleteStaleLeftovers(ws.PathOf("out/forget-3"), recursive: true);
        var atRoot = AtomicFile.DeleteStaleLeftovers(ws.PathOf("out"), recursive: false, target: ".file-hashes.json");

        Assert.Equal(2, inRemoval);
        Assert.Equal(1, atRoot);
        Assert.Equal(new[] { fresh, mine, running, notOurs, done }.Order(StringComparer.Ordinal),
            Directory.GetFiles(ws.PathOf("out"), "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(ws.Root, f).Replace('\\', '/')).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(store, Directory.GetFiles(ws.PathOf("out")).Select(f => Path.GetRelativePath(ws.Root, f)));
        Assert.Equal(0, AtomicFile.DeleteStaleLeftovers(ws.PathOf("nowhere"), recursive: true));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_new_content_replaces_the_old_whole_and_no_temporary_file_is_left(bool durable)
    {
        using var ws = new TempWorkspace();
        var path = ws.PathOf("out/model.bin");
        AtomicFile.WriteAllText(path, "old");

        AtomicFile.Write(path, stream => stream.Write("new content"u8), durable);

        Assert.Equal("new content", File.ReadAllText(path));
        Assert.Equal(["model.bin"], Directory.GetFiles(ws.PathOf("out")).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_write_that_fails_midway_leaves_the_old_file_and_no_temporary_file(bool durable)
    {
        using var ws = new TempWorkspace();
        var path = ws.PathOf("out/model.bin");
        AtomicFile.WriteAllText(path, "old");

        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("half"u8);
            throw new IOException("disk full");
        }, durable));

        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["model.bin"], Directory.GetFiles(ws.PathOf("out")).Select(Path.GetFileName));
    }
}
