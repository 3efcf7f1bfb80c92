using FisherUnlearn.Build.Tasks;
using FisherUnlearn.Build.Tests.Support;
using FisherUnlearn.Testing;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace FisherUnlearn.Build.Tests.Tasks;

/// <summary>obj/unlearn.outputs.txt is bookkeeping for dotnet clean: written when the list changes, kept (timestamp and
/// all) when it does not, and under -question neither written nor a reason to fail.</summary>
public sealed class WriteUnlearnOutputsListTests
{
    private static bool Write(string file, bool question, params string[] lines) => new WriteUnlearnOutputsList
    {
        BuildEngine = new RecordingBuildEngine(),
        File = file,
        Lines = [.. lines.Select(l => (ITaskItem)new TaskItem(l))],
        FailIfNotIncremental = question,
    }.Execute();

    [Fact]
    public void The_list_is_written_when_it_changes_kept_when_not_and_left_alone_under_question()
    {
        using var ws = new TempWorkspace();
        var file = ws.PathOf("obj/unlearn.outputs.txt");

        Assert.True(Write(file, question: false, "/o/forget-3/a.safetensors", "/o/forget-3/b.safetensors"));
        Assert.Equal(["/o/forget-3/a.safetensors", "/o/forget-3/b.safetensors"], File.ReadAllLines(file));
        var written = DateTime.UtcNow.AddMinutes(-5);
        File.SetLastWriteTimeUtc(file, written);

        Assert.True(Write(file, question: false, "/o/forget-3/a.safetensors", "/o/forget-3/b.safetensors"));
        Assert.Equal(written, File.GetLastWriteTimeUtc(file)); // unchanged: not rewritten

        // b's output removed since (the request no longer affects b): -question must not fail on the list.
        Assert.True(Write(file, question: true, "/o/forget-3/a.safetensors"));
        Assert.Equal(2, File.ReadAllLines(file).Length);
        Assert.True(Write(file, question: false, "/o/forget-3/a.safetensors"));
        Assert.Equal(["/o/forget-3/a.safetensors"], File.ReadAllLines(file));
    }
}
