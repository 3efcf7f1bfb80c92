using System.Globalization;

namespace FisherUnlearn.Lineage.Planning;

/// <summary>
/// Deterministic shares of a plan for fan-out over CI jobs (GitHub Actions matrix, Kubernetes Indexed Jobs, Slurm
/// arrays): shard <c>i</c> of <c>n</c> gets the affected models at positions <c>i-1, i-1+n, i-1+2n, ...</c> of the
/// plan's ordinal id order. Every model lands in exactly one shard, and the same plan always splits the same way,
/// whichever machine computes it.
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    public static Shard All { get; } = new(1, 1);

    public bool IsAll => Count == 1;

    /// <summary>Parses <c>i/n</c> with 1 &lt;= i &lt;= n.</summary>
    public static bool TryParse(string? text, out Shard shard)
    {
        shard = All;
        var parts = text?.Split('/') ?? [];
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            && count >= 1 && index >= 1 && index <= count)
        {
            shard = new Shard(index, count);
            return true;
        }

        return false;
    }

    /// <summary>The models of this shard, in ordinal order.</summary>
    public IReadOnlyList<string> Select(RemovalPlan plan)
    {
        var (index, count) = (Index, Count);
        return [.. plan.Affected.Select(a => a.Id).Order(StringComparer.Ordinal).Where((_, position) => position % count == index - 1)];
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");

    /// <summary>The shards to fan a plan out over: one per affected model, at most <paramref name="maxJobs"/>.</summary>
    public static IReadOnlyList<Shard> For(RemovalPlan plan, int maxJobs)
    {
        var count = Math.Clamp(plan.Affected.Count, 1, Math.Max(1, maxJobs));
        return [.. Enumerable.Range(1, count).Select(i => new Shard(i, count))];
    }
}
