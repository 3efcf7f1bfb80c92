using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Planning;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Commands;

/// <summary>
/// Original checkpoints of a removal's affected lineages that stop <c>run</c>: missing (FUL4104) or there but unreadable
/// (FUL4021 and kin). <c>status</c> and <c>plan --check</c> name them with what to do first, since running again fails the
/// same way (QA: after a run failed on a truncated checkpoint, both said only "run").
/// </summary>
internal sealed record CheckpointTrouble(IReadOnlyList<string> Missing, IReadOnlyList<(string Id, string Reason)> Unreadable)
{
    /// <summary>Those of them <c>train</c> cannot make, with why (<see cref="Engine.Training.TrainingPolicy.WhyUntrainable"/>:
    /// no recipe and no merge, or a checkpoint in a format it never writes). Only the user can put them back (QA: status advised 'train', which kept the model and
    /// fixed nothing).</summary>
    public IReadOnlyDictionary<string, string> Untrainable { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Affected models whose checkpoint 'train' would make again (its recipe, data, parents or assembly changed
    /// since, or an ancestor's did: FUL4069). 'run' unlearns them as they are, so outputs made from them are up to date
    /// until the next 'train' (found in QA: status and plan --check said "done" while run warned that 'train' comes first).</summary>
    public IReadOnlyList<string> Untrained { get; init; } = [];

    /// <summary>Unreadable checkpoints that 'train' leaves as they are without --force (<see cref="Engine.Training.TrainingPolicy.Decide"/>:
    /// a header it cannot read, FUL4070, or a file it did not make; QA: status advised 'train' for a Git LFS pointer, which
    /// train then refused). A checkpoint train made and that was damaged since is trained again, and not among them.</summary>
    public IReadOnlyList<string> KeptByTrain { get; init; } = [];

    /// <param name="display">How the reasons name files (the engine names them in full: QA found '/tmp/…/m.pt' in status).</param>
    /// <param name="files">The file hashes of the command, shared across its removals (each checkpoint hashed once).</param>
    public static CheckpointTrouble Find(WorkspaceAnalysis analysis, RemovalPlan plan, Func<string, string> display, Engine.Training.FileHashCache? files = null)
    {
        ArgumentNullException.ThrowIfNull(display);
        var missing = RemovalRunner.MissingCheckpoints(analysis, plan);
        var unreadable = RemovalRunner.UnreadableCheckpoints(analysis, plan).Select(u => (u.Id, Reason: display(u.Reason))).ToList();
        var untrainable = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in missing.Concat(unreadable.Select(u => u.Id)))
        {
            if (Engine.Training.TrainingPolicy.WhyUntrainable(analysis.Workspace.Models[id]) is { } why)
            {
                untrainable[id] = why;
            }
        }

        var troubled = missing.Concat(unreadable.Select(u => u.Id)).ToHashSet(StringComparer.Ordinal);
        var untrained = Engine.Training.TrainingPolicy.WouldRemake(analysis.Workspace, plan.Affected.Select(a => a.Id).Where(analysis.Workspace.Models.ContainsKey),
                files ?? Engine.Training.FileHashCache.ForWorkspace(analysis.Workspace))
            .Where(r => !r.AncestorUnusable && !troubled.Contains(r.Model)).Select(r => r.Model).ToList();
        var hashes = files ?? Engine.Training.FileHashCache.ForWorkspace(analysis.Workspace);
        var keptByTrain = unreadable.Select(u => u.Id).Where(id => !untrainable.ContainsKey(id) && KeptByTrainAsItIs(analysis.Workspace, analysis.Workspace.Models[id], hashes)).ToList();
        return new(missing, unreadable) { Untrainable = untrainable, Untrained = untrained, KeptByTrain = keptByTrain };
    }

    // Whether 'train' leaves the checkpoint as it is without --force, by train's own rule: it keeps it, or refuses to replace
    // it (FUL4070). Any other refusal (a path that is no regular file, FUL1027) is not that, and its reason says so.
    private static bool KeptByTrainAsItIs(Lineage.Workspace workspace, Lineage.Manifests.ModelManifest model, Engine.Training.FileHashCache files)
    {
        try
        {
            return Engine.Training.TrainingPolicy.Decide(workspace, model, force: false, files).Action == Engine.Training.TrainingAction.Keep;
        }
        catch (Engine.EngineException ex)
        {
            return ex.Code == Lineage.Diagnostics.DiagnosticCatalogue.CheckpointNotReplaced.Code;
        }
    }

    /// <summary>What to say of <see cref="Untrained"/> (null when there are none): train first, then <paramref name="run"/>.</summary>
    public string? UntrainedNote(string run) => Untrained.Count == 0 ? null
        : $"'dotnet unlearn train' would make the checkpoint{(Untrained.Count == 1 ? "" : "s")} of {string.Join(", ", Untrained)} again (changed since trained): "
            + $"run it first, then {run}; outputs made from the checkpoints as they are go out of date at the next 'train'.";

    public bool Any => Missing.Count > 0 || Unreadable.Count > 0;

    /// <summary>"checkpoint missing for a; checkpoint of 'b' cannot be read (why): run 'dotnet unlearn train' ..., then
    /// <paramref name="run"/>."</summary>
    public string Advice(string run)
    {
        var parts = new List<string>();
        if (Missing.Count > 0)
        {
            parts.Add($"checkpoint missing for {string.Join(", ", Missing)}");
        }

        parts.AddRange(Unreadable.Select(u => $"checkpoint of '{u.Id}' cannot be read ({u.Reason})"));
        var troubled = Missing.Concat(Unreadable.Select(u => u.Id)).ToList();
        var one = troubled.Count == 1;
        if (troubled.All(Untrainable.ContainsKey))
        {
            // Nothing here can be trained: the files are the user's to put back.
            return $"{string.Join("; ", parts)}: put the file{(one ? "" : "s")} back, or fix 'checkpoint' in {(one ? "the manifest" : "the manifests")} "
                + $"({string.Join("; ", troubled.Select(id => Untrainable[id]))}, so 'dotnet unlearn train' cannot make {(one ? "it" : "them")}), then {run}.";
        }

        var steps = new List<string>();
        var trained = troubled.Where(id => !Untrainable.ContainsKey(id) && !KeptByTrain.Contains(id)).ToList();
        if (trained.Count > 0)
        {
            var several = trained.Count > 1;
            var fix = trained.Any(id => Unreadable.Any(u => u.Id == id)) ? $"(or fix 'checkpoint' in {(several ? "their manifests" : "its manifest")}, or put the file{(several ? "s" : "")} back)"
                : $"(or fix 'checkpoint' in {(several ? "their manifests" : "its manifest")})";
            steps.Add($"run 'dotnet unlearn train' {fix}");
        }

        var others = troubled.Where(Untrainable.ContainsKey).ToList();
        if (others.Count > 0)
        {
            // Beside ones train makes: train stops at these (review), so they are the user's to put back.
            steps.Add($"put back the file{(others.Count > 1 ? "s" : "")} of {string.Join(", ", others.Select(id => $"'{id}'"))} or fix 'checkpoint' ({string.Join("; ", others.Select(id => Untrainable[id]))})");
        }

        if (KeptByTrain.Count > 0)
        {
            // 'train' leaves these as they are (FUL4070): the file is to be fetched or restored, or trained over on purpose.
            var several = KeptByTrain.Count > 1;
            steps.Add($"restore or fetch the file{(several ? "s" : "")} of {string.Join(", ", KeptByTrain.Select(id => $"'{id}'"))}, or train over {(several ? "them" : "it")} with "
                + string.Join(" and ", KeptByTrain.Select(id => $"'dotnet unlearn train --force --model {id}'")));
        }

        return $"{string.Join("; ", parts)}: {string.Join("; ", steps)}, then {run}.";
    }

    /// <summary>The unreadable ones for a <c>--json</c> document: <c>[{ "id", "reason" }]</c>.</summary>
    public JArray UnreadableJson() => new(Unreadable.Select(u => new JObject { ["id"] = u.Id, ["reason"] = u.Reason }));
}
