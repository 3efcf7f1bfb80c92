using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Lineage.Tests.IO;

/// <summary>A FIFO blocks whoever opens it for reading until a writer comes, and /dev/zero never ends: files of either
/// kind are refused (FUL1027) before they are opened, so nothing hangs. Every call runs under a time limit, so a
/// regression fails the test instead of hanging the run.</summary>
public sealed class RegularFileRules
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    private static T Within<T>(Func<T> action) =>
        Task.Run(action, TestContext.Current.CancellationToken).WaitAsync(Limit, TestContext.Current.CancellationToken).GetAwaiter().GetResult();

    [Fact]
    public void A_fifo_and_a_link_to_dev_zero_are_named_for_what_they_are_and_regular_files_links_to_them_folders_and_missing_paths_pass()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "no FIFOs or /dev/zero on Windows");
        using var ws = new TempWorkspace();
        var fifo = ws.MakeFifo("data/pipe.csv");
        var zero = ws.Link("bin/zero.safetensors", "/dev/zero");
        var regular = ws.Write("bin/real.safetensors", "weights");
        var linked = ws.Link("bin/linked.safetensors", regular);

        Assert.Equal("a FIFO (named pipe)", RegularFile.KindOf(fifo));
        Assert.Equal("a character device", RegularFile.KindOf(zero));
        Assert.Null(RegularFile.KindOf(regular));
        Assert.Null(RegularFile.KindOf(linked));
        Assert.Null(RegularFile.KindOf(ws.PathOf("bin")));
        Assert.Null(RegularFile.KindOf(ws.PathOf("missing.json")));
        Assert.Null(RegularFile.KindOf(ws.Link("bin/dangling.safetensors", ws.PathOf("nowhere"))));
    }

    [Fact]
    public void A_link_that_leads_nowhere_is_gone_as_a_missing_file_is_but_a_folder_in_a_file_s_place_is_not()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "symbolic links need privileges on Windows");
        using var ws = new TempWorkspace();
        var regular = ws.Write("data/train.csv", "x,label");

        Assert.True(RegularFile.Gone(ws.PathOf("data/deleted.csv")));
        Assert.True(RegularFile.Gone(ws.Link("data/unfetched.csv", "nowhere.csv")));
        Assert.True(RegularFile.Gone(ws.Link("data/loop.csv", "loop.csv")));
        Assert.False(RegularFile.Gone(regular));
        Assert.False(RegularFile.Gone(ws.Link("data/linked.csv", regular)));
        Assert.False(RegularFile.Gone(ws.CreateDirectory("data/folder.csv")));
        Assert.Equal("is a folder, not a file", RegularFile.Absence(ws.PathOf("data/folder.csv")));
    }

    [Fact]
    public void Hashing_a_fifo_or_a_link_to_dev_zero_fails_at_once_with_FUL1027_instead_of_waiting_forever()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "no FIFOs or /dev/zero on Windows");
        using var ws = new TempWorkspace();
        foreach (var path in new[] { ws.MakeFifo("data/train.csv"), ws.Link("a/bin/a.safetensors", "/dev/zero") })
        {
            var thrown = Within(() => Record.Exception(() => ContentHash.OfFile(path)));

            var refused = Assert.IsType<NotARegularFileException>(thrown);
            Assert.Equal("FUL1027", refused.Diagnostic.Code);
            Assert.Equal(path, refused.Diagnostic.Location.File);
            Assert.Contains(path, refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(ContentHash.OfText("weights"), ContentHash.OfFile(ws.Write("bin/real.safetensors", "weights")));
    }

    [Fact]
    public void A_manifest_that_is_a_fifo_is_reported_at_its_path_with_the_workspace_s_other_problems()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "no FIFOs on Windows");
        using var ws = new TempWorkspace();
        ToyChain.Write(ws);
        var fifo = ws.MakeFifo("c/c.lineage.json");
        ws.Link("d/d.dataset.json", "/dev/zero");

        var analysis = Within(() => WorkspaceAnalysis.Analyze(ws.Root, TestContext.Current.CancellationToken));

        var refused = analysis.Diagnostics.Where(d => d.Code == "FUL1027").ToList();
        Assert.Equal(2, refused.Count);
        Assert.Contains(refused, d => d.Location.File == fifo && d.Message.Contains("a FIFO (named pipe)", StringComparison.Ordinal));
        Assert.Contains(refused, d => d.Location.File == ws.PathOf("d/d.dataset.json") && d.Message.Contains("a character device", StringComparison.Ordinal));
        Assert.Equal(["a", "b"], analysis.Workspace.Models.Keys.Order(StringComparer.Ordinal));
    }
}
