using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Lineage.Tests.IO;

public sealed class AtomicFileRules
{
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
