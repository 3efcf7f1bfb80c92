using FisherUnlearn.Lineage.Rendering;

namespace FisherUnlearn.Lineage.Tests.Rendering;

/// <summary>Mermaid draws at most 500 edges, and a diagram cannot raise that for itself: GitHub then shows an error box
/// instead of the lineage. Datasets go first (each model's data edge doubles the count), then the hosts say so.</summary>
public sealed class MermaidEdgeLimitRules
{
    // A chain of n models, each trained on the one dataset: n - 1 relations and n data edges.
    private static LineageDiagram Chain(int models) => new(
        [new DiagramNode("digits", DiagramNodeKind.Dataset, "idx, 10 classes")],
        [.. Enumerable.Range(0, models).Select(i => new DiagramNode($"m{i:000}", DiagramNodeKind.Model, "mlp"))],
        [
            .. Enumerable.Range(1, models - 1).Select(i => new DiagramEdge($"m{i - 1:000}", $"m{i:000}", "finetune")),
            .. Enumerable.Range(0, models).Select(i => new DiagramEdge("digits", $"m{i:000}", "0-9", DiagramNodeKind.Dataset)),
        ]);

    private static int Edges(string mermaid) => mermaid.Split('\n').Count(l => l.Contains("-->", StringComparison.Ordinal) || l.Contains("-.->", StringComparison.Ordinal));

    [Theory]
    [InlineData(250, MermaidFit.Whole, 499)]
    [InlineData(251, MermaidFit.WithoutDatasets, 250)]
    [InlineData(501, MermaidFit.WithoutDatasets, 500)]
    [InlineData(502, MermaidFit.TooLarge, 501)]
    public void Datasets_are_left_out_when_the_whole_graph_would_pass_the_limit(int models, MermaidFit fit, int edges)
    {
        var diagram = Chain(models);

        var mermaid = GraphRenderer.Mermaid(diagram);

        Assert.Equal(fit, GraphRenderer.FitOf(diagram));
        Assert.Equal(edges, Edges(mermaid));
        Assert.Equal(fit == MermaidFit.Whole, mermaid.Contains("(\"digits<br/>", StringComparison.Ordinal));
        Assert.Equal(fit != MermaidFit.Whole, mermaid.Contains("%% ", StringComparison.Ordinal));
        Assert.Equal(models, mermaid.Split('\n').Count(l => l.Contains("<small>mlp</small>", StringComparison.Ordinal)));
    }
}
