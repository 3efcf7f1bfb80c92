using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Lineage.Tests.IO;

public sealed class PhysicalPathRules
{
    [Fact]
    public void A_path_through_a_linked_folder_leads_to_the_folder_linked_to_even_where_its_end_does_not_exist_yet()
    {
        using var ws = new TempWorkspace();
        var models = ws.PathOf("models/a/bin");
        Directory.CreateDirectory(models);
        File.WriteAllText(Path.Combine(models, "a.safetensors"), "weights");
        Directory.CreateDirectory(ws.PathOf("out"));
        File.CreateSymbolicLink(ws.PathOf("out/relative"), "../models/a/bin");
        File.CreateSymbolicLink(ws.PathOf("out/absolute"), models);

        Assert.True(PhysicalPath.Same(ws.PathOf("out/relative/a.safetensors"), ws.PathOf("models/a/bin/a.safetensors")));
        Assert.True(PhysicalPath.Same(ws.PathOf("out/absolute/a.safetensors"), ws.PathOf("models/a/bin/a.safetensors")));
        Assert.Equal(PhysicalPath.Of(Path.Combine(models, "new/x.safetensors")), PhysicalPath.Of(ws.PathOf("out/relative/new/x.safetensors")));
        Assert.False(PhysicalPath.Same(ws.PathOf("out/other/a.safetensors"), ws.PathOf("models/a/bin/a.safetensors")));
    }

    [Fact]
    public void The_resolver_that_remembers_folders_gives_what_of_gives_for_links_to_folders_and_files_and_paths_not_there_yet()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "symbolic links need privileges on Windows");
        using var ws = new TempWorkspace();
        ws.Write("models/a/bin/a.safetensors", "weights");
        ws.Link("out/linked", "../models/a/bin");
        ws.Link("out/file.safetensors", "../models/a/bin/a.safetensors");
        var resolver = new PhysicalPath.Resolver();
        string[] paths =
        [
            "out/linked/a.safetensors", "out/file.safetensors", "out/linked/new/x.safetensors", "models/a/bin/a.safetensors",
            "models/a/bin/../bin/a.safetensors", "not/there/yet.safetensors", "out/linked/a.safetensors",
        ];

        foreach (var path in paths)
        {
            Assert.Equal(PhysicalPath.Of(ws.PathOf(path)), resolver.Of(ws.PathOf(path)));
        }

        Assert.Equal(resolver.Of(ws.PathOf("models/a/bin/a.safetensors")), resolver.Of(ws.PathOf("out/file.safetensors")));
    }

    [Fact]
    public void A_chain_of_links_is_followed_and_a_loop_ends_as_the_path_was_written()
    {
        using var ws = new TempWorkspace();
        Directory.CreateDirectory(ws.PathOf("real"));
        File.CreateSymbolicLink(ws.PathOf("one"), "real");
        File.CreateSymbolicLink(ws.PathOf("two"), ws.PathOf("one"));
        File.CreateSymbolicLink(ws.PathOf("loop-a"), "loop-b");
        File.CreateSymbolicLink(ws.PathOf("loop-b"), "loop-a");

        Assert.Equal(PhysicalPath.Of(ws.PathOf("real/f")), PhysicalPath.Of(ws.PathOf("two/f")));
        Assert.EndsWith(Path.Combine("loop-a", "f"), PhysicalPath.Of(ws.PathOf("loop-a/f")), StringComparison.Ordinal);
    }
}
