using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Discovery;
using FisherUnlearn.Lineage.Graph;

namespace FisherUnlearn.Lineage;

/// <summary>A workspace read from disk, its lineage graph, and every problem found in its manifests, per file
/// and across files. The starting point of every command and build task.</summary>
public sealed record WorkspaceAnalysis(Workspace Workspace, LineageGraph Graph, IReadOnlyList<Diagnostic> Diagnostics)
{
    public bool HasErrors => Diagnostics.Any(d => d.IsError);

    public static WorkspaceAnalysis Analyze(string root, CancellationToken cancellationToken = default)
    {
        var workspace = WorkspaceLoader.Load(root, cancellationToken);
        var graph = LineageGraph.Build(workspace);
        var diagnostics = new DiagnosticBag();
        diagnostics.AddRange(workspace.Diagnostics);
        diagnostics.AddRange(GraphValidator.Validate(workspace, graph));
        return new WorkspaceAnalysis(workspace, graph, diagnostics.ToSortedList());
    }
}
