namespace FisherUnlearn.Engine.Unlearning;

/// <summary>
/// Which label sets get a forget plan ahead of any request (docs/methods.md, "Forget plans"). Every label a model knows
/// always gets one; sets of 2 up to <see cref="MaxLabels"/> labels are added a whole size at a time, while the model's
/// total number of plans stays within <see cref="MaxPlans"/>. The defaults cover every pair of a model that knows up to
/// 13 labels (10 labels: 10 single plans and 45 pairs) and stay at single labels above that, where pairs grow
/// quadratically (100 labels: 4,950 pairs).
/// </summary>
public sealed record ForgetPlanCoverage
{
    public const int DefaultMaxLabels = 2;
    public const int DefaultMaxPlans = 100;

    /// <summary>Single labels only: the plans of earlier versions.</summary>
    public static ForgetPlanCoverage SingleLabels { get; } = new() { MaxLabels = 1 };

    /// <summary>The largest label set planned (1 = single labels only).</summary>
    public int MaxLabels { get; init; } = DefaultMaxLabels;

    /// <summary>The most plans per model and settings; single-label plans are made even beyond it.</summary>
    public int MaxPlans { get; init; } = DefaultMaxPlans;

    /// <summary>The label sets to plan for a model that knows <paramref name="known"/>, each in ascending order, singles
    /// first, then each larger size in lexicographic order.</summary>
    public IReadOnlyList<int[]> SetsOf(IEnumerable<int> known)
    {
        ArgumentNullException.ThrowIfNull(known);
        var labels = known.Distinct().Order().ToArray();
        var sets = new List<int[]>(labels.Select(l => new[] { l }));
        for (var size = 2; size <= Math.Min(MaxLabels, labels.Length); size++)
        {
            var count = Combinations(labels.Length, size);
            if (sets.Count + count > MaxPlans)
            {
                break;
            }

            AddCombinations(labels, size, sets);
        }

        return sets;
    }

    // n choose k, saturating (only compared against MaxPlans).
    private static long Combinations(int n, int k)
    {
        long result = 1;
        for (var i = 1; i <= k; i++)
        {
            result = result * (n - k + i) / i;
            if (result > int.MaxValue)
            {
                return int.MaxValue;
            }
        }

        return result;
    }

    private static void AddCombinations(int[] labels, int size, List<int[]> sets)
    {
        var indices = Enumerable.Range(0, size).ToArray();
        while (true)
        {
            sets.Add([.. indices.Select(i => labels[i])]);
            var position = size - 1;
            while (position >= 0 && indices[position] == labels.Length - size + position)
            {
                position--;
            }

            if (position < 0)
            {
                return;
            }

            indices[position]++;
            for (var next = position + 1; next < size; next++)
            {
                indices[next] = indices[next - 1] + 1;
            }
        }
    }
}
