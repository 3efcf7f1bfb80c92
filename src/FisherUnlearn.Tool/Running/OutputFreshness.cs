using FisherUnlearn.Engine.Training;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Planning;

namespace FisherUnlearn.Tool.Running;

/// <summary>The state of one affected model's output for a removal.</summary>
internal enum OutputState
{
    /// <summary>No output (or no record of one) yet.</summary>
    Missing,

    /// <summary>An output exists but an input changed since (checkpoint, manifest, data, method, parameters, engine), or
    /// the output file itself was changed after it was written.</summary>
    Stale,

    /// <summary>The output exists, intact, and was made from the current inputs.</summary>
    Done,
}

/// <summary>Decides, per affected model, whether its unlearned output is done, stale or missing, by comparing the
/// current <see cref="JobKey"/> with the key recorded next to the output (<see cref="JobRecord"/>). Used by <c>run</c>
/// to skip finished work, by <c>plan --check</c>, by <c>status</c> and by <c>verify</c>.</summary>
internal static class OutputFreshness
{
    /// <param name="method">The method the outputs should have been made with; null: each record's own (verify measures
    /// whatever was made, and asks only whether it is still current).</param>
    public static IReadOnlyDictionary<string, (OutputState State, string Key, JobRecord? Record)> Check(
        WorkspaceAnalysis analysis, RemovalPlan plan, string? method, string removalDirectory, IEnumerable<string>? models = null, FileHashCache? files = null)
    {
        files ??= FileHashCache.ForWorkspace(analysis.Workspace);
        var result = new SortedDictionary<string, (OutputState, string, JobRecord?)>(StringComparer.Ordinal);
        foreach (var id in models ?? plan.Affected.Select(a => a.Id))
        {
            var record = JobRecord.TryRead(removalDirectory, id, analysis.Workspace.Root);
            var key = (method ?? record?.Outcome.Method) is { } keyMethod ? JobKey.Compute(analysis, plan, id, keyMethod, files) : string.Empty;
            // An output file changed since it was written (its hash differs from the record's) is there but not what was
            // computed: stale, to be redone, not "missing".
            var state = record is null || record.Outcome.OutputPath is not { } output || !File.Exists(output) ? OutputState.Missing
                : record.Key == key && record.OutputIntact(files) ? OutputState.Done
                : OutputState.Stale;
            result[id] = (state, key, record);
        }

        return result;
    }
}
