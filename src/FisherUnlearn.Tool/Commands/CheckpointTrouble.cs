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
    public static CheckpointTrouble Find(WorkspaceAnalysis analysis, RemovalPlan plan) =>
        new(RemovalRunner.MissingCheckpoints(analysis, plan), RemovalRunner.UnreadableCheckpoints(analysis, plan));

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
        var fix = Unreadable.Count > 0 ? "(or fix 'checkpoint' in its manifest, or put the file back)" : "(or fix 'checkpoint' in its manifest)";
        return $"{string.Join("; ", parts)}: run 'dotnet unlearn train' {fix}, then {run}.";
    }

    /// <summary>The unreadable ones for a <c>--json</c> document: <c>[{ "id", "reason" }]</c>.</summary>
    public JArray UnreadableJson() => new(Unreadable.Select(u => new JObject { ["id"] = u.Id, ["reason"] = u.Reason }));
}
