using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Lineage.Rendering;

/// <summary>What a node of a <see cref="LineageDiagram"/> stands for.</summary>
public enum DiagramNodeKind
{
    Model,
    Dataset,
}

/// <summary>One box of the picture: a model (<see cref="Detail"/> = its architecture) or a dataset (format and classes).
/// <see cref="Class"/> is <c>root</c>, <c>affected</c>, <c>unaffected</c> or null (no highlighting), see <see cref="GraphHighlight.ClassOf"/>.</summary>
public sealed record DiagramNode(string Id, DiagramNodeKind Kind, string Detail, string? Class = null);

/// <summary>An arrow: parent model to child (<see cref="Label"/> = the relation) or dataset to model (the labels used).</summary>
public sealed record DiagramEdge(string From, string To, string Label, DiagramNodeKind FromKind = DiagramNodeKind.Model);

/// <summary>
/// The lineage as plain data (no manifests): what <see cref="GraphRenderer"/> and <see cref="SvgGraphRenderer"/> draw.
/// A report keeps one, so it can be drawn again from <c>report.json</c> alone. Nodes and edges are in the workspace's
/// order (ordinal ids; per model its data, then its parents), so the output is deterministic.
/// </summary>
public sealed record LineageDiagram(IReadOnlyList<DiagramNode> Datasets, IReadOnlyList<DiagramNode> Models, IReadOnlyList<DiagramEdge> Edges)
{
    public static LineageDiagram Empty { get; } = new([], [], []);

    public bool IsHighlighted => Models.Any(m => m.Class is not null);

    public static LineageDiagram From(Workspace workspace, GraphHighlight? highlight = null)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        highlight ??= GraphHighlight.None;
        var datasets = workspace.Datasets.Values
            .Select(d => new DiagramNode(d.Id, DiagramNodeKind.Dataset, $"{d.Format}, {d.Classes} classes"))
            .ToList();
        var models = workspace.Models.Values
            .Select(m => new DiagramNode(m.Id, DiagramNodeKind.Model, m.Architecture.ToString(), highlight.ClassOf(m.Id)))
            .ToList();
        var edges = new List<DiagramEdge>();
        foreach (var model in workspace.Models.Values)
        {
            foreach (var use in model.Data.Where(u => workspace.Datasets.ContainsKey(u.Dataset)))
            {
                edges.Add(new DiagramEdge(use.Dataset, model.Id, LabelsText(use), DiagramNodeKind.Dataset));
            }

            foreach (var parent in model.Parents.Where(p => workspace.Models.ContainsKey(p.Id)))
            {
                edges.Add(new DiagramEdge(parent.Id, model.Id, parent.Relation.ToName()));
            }
        }

        return new LineageDiagram(datasets, models, edges);
    }

    /// <summary>The same picture without datasets and their edges.</summary>
    public LineageDiagram WithoutDatasets() => this with { Datasets = [], Edges = [.. Edges.Where(e => e.FromKind == DiagramNodeKind.Model)] };

    internal static string LabelsText(DataUse use) =>
        use.Labels is null ? "all labels"
        : use.Labels.Count == 1 ? $"label {use.Labels[0]}"
        : $"labels {GraphRenderer.Ranges(use.Labels)}";
}
