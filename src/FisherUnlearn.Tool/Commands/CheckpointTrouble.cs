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
    /// <summary>Those of them whose manifest has no <c>training</c> recipe: <c>train</c> cannot make them, only the user
    /// can put them back (QA: status advised 'train', which kept the model and fixed nothing).</summary>
    public IReadOnlySet<string> WithoutRecipe { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    public static CheckpointTrouble Find(WorkspaceAnalysis analysis, RemovalPlan plan)
    {
        var missing = RemovalRunner.MissingCheckpoints(analysis, plan);
        var unreadable = RemovalRunner.UnreadableCheckpoints(analysis, plan);
        var withoutRecipe = missing.Concat(unreadable.Select(u => u.Id)).Where(id => analysis.Workspace.Models[id].Training is null).ToHashSet(StringComparer.Ordinal);
        return new(missing, unreadable) { WithoutRecipe = withoutRecipe };
    }

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
        if (troubled.All(WithoutRecipe.Contains))
        {
            // Nothing here can be trained: the files are the user's to put back.
            var names = string.Join(", ", troubled.Select(id => $"'{id}'"));
            return $"{string.Join("; ", parts)}: put the file{(troubled.Count == 1 ? "" : "s")} back, or fix 'checkpoint' in the manifest ({names} "
                + $"{(troubled.Count == 1 ? "has" : "have")} no training recipe, so 'dotnet unlearn train' cannot make {(troubled.Count == 1 ? "it" : "them")}), then {run}.";
        }

        var fix = Unreadable.Count > 0 ? "(or fix 'checkpoint' in its manifest, or put the file back)" : "(or fix 'checkpoint' in its manifest)";
        return $"{string.Join("; ", parts)}: run 'dotnet unlearn train' {fix}, then {run}.";
    }

    /// <summary>The unreadable ones for a <c>--json</c> document: <c>[{ "id", "reason" }]</c>.</summary>
    public JArray UnreadableJson() => new(Unreadable.Select(u => new JObject { ["id"] = u.Id, ["reason"] = u.Reason }));
}
