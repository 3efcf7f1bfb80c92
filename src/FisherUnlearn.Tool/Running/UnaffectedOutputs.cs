using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Engine.Verification;
using FisherUnlearn.Lineage.Planning;

namespace FisherUnlearn.Tool.Running;

/// <summary>
/// Outputs in a removal's folder of models the request no longer affects: its labels changed, or a model left the
/// lineage or stopped learning what is forgotten. Their job records vouch for them as unlearned for an earlier version of
/// the request, so an upload of the folder would ship them as this one's. <c>run</c> removes them (<see cref="Remove"/>);
/// <c>verify</c> (FUL5010), <c>status</c> and <c>plan --check</c> name them (<see cref="Find"/>) without counting them as
/// work to do. Only files a job record of the folder vouches for are touched: anything else placed there is the user's.
/// </summary>
internal static class UnaffectedOutputs
{
    /// <summary>The ids of the models with a readable job record in <paramref name="removalDirectory"/> that
    /// <paramref name="plan"/> does not affect, in ordinal order.</summary>
    public static IReadOnlyList<string> Find(string removalDirectory, RemovalPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var affected = plan.Affected.Select(a => a.Id).ToHashSet(StringComparer.Ordinal);
        var folder = Path.Combine(removalDirectory, JobRecordFiles.FolderName);
        if (!Directory.Exists(folder))
        {
            return [];
        }

        return [.. Directory.EnumerateFiles(folder, "*.json")
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .Where(id => !affected.Contains(id) && JobRecord.TryRead(removalDirectory, id, workspaceRoot: null) is not null)
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>Deletes each such model's output, its retrained reference and then its record (the record last, so an
    /// interrupted removal is finished by the next run); returns the ids whose files are gone.</summary>
    public static IReadOnlyList<string> Remove(string removalDirectory, RemovalPlan plan)
    {
        var removed = new List<string>();
        foreach (var id in Find(removalDirectory, plan))
        {
            if (TryDelete(UnlearningJob.OutputPathOf(removalDirectory, id))
                && TryDelete(UnlearningJob.OutputPathOf(Verifier.ReferenceDirectory(removalDirectory), id))
                && TryDelete(JobRecordFiles.PathOf(removalDirectory, id)))
            {
                removed.Add(id);
            }
        }

        return removed;
    }

    private static bool TryDelete(string path)
    {
        try
        {
            // File.Delete of a file whose folder is not there throws: a removal never verified has no reference folder.
            if (File.Exists(path))
            {
                File.Delete(path);
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
