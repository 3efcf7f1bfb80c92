using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

public sealed class GraphCommandScenarios
{
    [Fact]
    public async Task Mermaid_draws_every_model_and_edge_and_marks_a_removals_roots()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "graph", "--workspace", "samples/digits", "--removal", "forget-3");

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("flowchart TD\n", run.Out, StringComparison.Ordinal);
        foreach (var id in new[] { "digits-base", "digits-plus-5", "digits-plus-6", "digits-head-7", "clinic-north", "digits-federated", "digits-student" })
        {
            Assert.Contains($"[\"{id}<br/>", run.Out, StringComparison.Ordinal);
        }

        Assert.Contains("-->|aggregate|", run.Out, StringComparison.Ordinal);
        Assert.Contains("-->|distill|", run.Out, StringComparison.Ordinal);
        Assert.Matches(@"class m\d+ root\n", run.Out);
        Assert.Matches(@"class (m\d+,){4}m\d+ affected\n", run.Out);
        Assert.Matches(@"class m\d+ unaffected", run.Out);
    }

    [Fact]
    public async Task Dot_output_is_a_digraph_with_labelled_edges()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "graph", "--workspace", "samples/digits", "--format", "dot");

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("digraph lineage {", run.Out, StringComparison.Ordinal);
        Assert.Contains("\"digits-base\" -> \"digits-plus-5\" [label=\"finetune\"];", run.Out, StringComparison.Ordinal);
        Assert.EndsWith("}\n", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_format_is_a_usage_error()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "graph", "--workspace", "samples/digits", "--format", "svg");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("FUL3005", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Output_to_a_file_writes_the_whole_picture()
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, "graph", "--output", "out/lineage.mmd");

        Assert.Equal(0, run.ExitCode);
        var text = await File.ReadAllTextAsync(Path.Combine(ws.Root, "out", "lineage.mmd"), TestContext.Current.CancellationToken);
        Assert.Contains("-->|finetune|", text, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(ws.Root, "out"), ".*tmp*"));
    }
}
