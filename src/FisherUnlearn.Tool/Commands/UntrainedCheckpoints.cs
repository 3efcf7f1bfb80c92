using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Tool.Commands;

/// <summary>
/// Checkpoints that <c>train</c> would make again (their recipe, data, parents or module assembly changed since, or an
/// ancestor's did): <c>run</c> unlearns them as they are, <c>harvest</c> computes their Fisher and forget plans as they
/// are, and <c>verify</c> measures outputs made from them, but each says so, since the next <c>train</c> leaves what they
/// made out of date.
/// </summary>
internal static class UntrainedCheckpoints
{
    /// <summary>FUL4069 for each of <paramref name="considered"/> whose checkpoint train would make again, FUL4071 for one
    /// below a checkpoint that cannot be read or is missing (<see cref="TrainingPolicy.WouldRemake"/>).</summary>
    public static IEnumerable<Diagnostic> Warnings(WorkspaceAnalysis analysis, IEnumerable<string> considered) =>
        TrainingPolicy.WouldRemake(analysis.Workspace, considered, FileHashCache.ForWorkspace(analysis.Workspace))
            .Select(r => r.AncestorUnusable
                ? Diagnostic.Create(DiagnosticCatalogue.CheckpointBelowUnreadable, At(analysis, r.Model), r.Model, r.Ancestor,
                    CheckpointPresence.IsPresent(analysis.Workspace.Models[r.Ancestor!].CheckpointPath) ? "cannot be read" : "is missing")
                : Diagnostic.Create(DiagnosticCatalogue.CheckpointNotTrained, At(analysis, r.Model), r.Model,
                    r.Ancestor is null
                        ? "was made from other inputs than its manifest now names (its recipe, data, parents or module assembly changed since)"
                        : $"descends from '{r.Ancestor}', whose own checkpoint is out of date"));

    private static SourceLocation At(WorkspaceAnalysis analysis, string model) =>
        analysis.Workspace.Models[model].CheckpointLocation ?? analysis.Workspace.Models[model].Location;
}
