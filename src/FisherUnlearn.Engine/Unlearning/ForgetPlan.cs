using System.Globalization;

namespace FisherUnlearn.Engine.Unlearning;

/// <summary>The calibrated setting for forgetting one set of labels of one model, found ahead of any request.</summary>
/// <param name="Labels">The labels, ascending (in every dataset the model knows them in, as a removal's <c>labels</c> mean them).</param>
/// <param name="Result">The calibration, exactly as a request for these labels would find it.</param>
/// <param name="ForgetSamples">Forget samples of the calibration slice.</param>
/// <param name="RetainSamples">Retained samples of the calibration slice.</param>
public sealed record ForgetPlan(IReadOnlyList<int> Labels, CalibrationResult Result, int ForgetSamples, int RetainSamples)
{
    /// <summary>The key of a label set: its distinct labels ascending, joined by commas ("0,1").</summary>
    public static string KeyOf(IEnumerable<int> labels) =>
        string.Join(',', labels.Distinct().Order().Select(l => l.ToString(CultureInfo.InvariantCulture)));
}

/// <summary>The forget plans of a model under one key, as <see cref="ForgetPlans.Compute(FisherUnlearn.Lineage.WorkspaceAnalysis, string, UnlearnSettings, JobResources, double?, System.Threading.CancellationToken)"/> left them.</summary>
/// <param name="Plans">Every plan in the file.</param>
/// <param name="Path">The plan file.</param>
/// <param name="Cached">Whether every plan was already stored (nothing calibrated).</param>
public sealed record ForgetPlanFile(ForgetPlanTable Plans, string Path, bool Cached)
{
    /// <summary>Plans calibrated by this call (0 when cached).</summary>
    public int Calibrated { get; init; }

    /// <summary>Wall time of those calibrations (0 when cached).</summary>
    public double Seconds { get; init; }
}

/// <summary>A model's forget plans under one key, by the label set each forgets.</summary>
public sealed class ForgetPlanTable
{
    private readonly SortedDictionary<string, ForgetPlan> plans = new(StringComparer.Ordinal);

    public ForgetPlanTable(IEnumerable<ForgetPlan> plans)
    {
        ArgumentNullException.ThrowIfNull(plans);
        foreach (var plan in plans)
        {
            this.plans[ForgetPlan.KeyOf(plan.Labels)] = plan;
        }
    }

    /// <summary>Every plan: the shorter label sets first, each size in ascending order of labels.</summary>
    public IReadOnlyList<ForgetPlan> All => [.. plans.Values.OrderBy(p => p.Labels.Count).ThenBy(p => p.Labels, LabelsComparer.Instance)];

    public int Count => plans.Count;

    /// <summary>Plans that forget one label.</summary>
    public int SingleLabels => plans.Values.Count(p => p.Labels.Count == 1);

    /// <summary>Plans that forget two labels or more.</summary>
    public int LabelSets => Count - SingleLabels;

    /// <summary>The plan that forgets exactly these labels (in any order), or null.</summary>
    public ForgetPlan? Find(IEnumerable<int> labels) => plans.GetValueOrDefault(ForgetPlan.KeyOf(labels));

    public bool Contains(IEnumerable<int> labels) => Find(labels) is not null;

    private sealed class LabelsComparer : IComparer<IReadOnlyList<int>>
    {
        public static LabelsComparer Instance { get; } = new();

        public int Compare(IReadOnlyList<int>? x, IReadOnlyList<int>? y)
        {
            ArgumentNullException.ThrowIfNull(x);
            ArgumentNullException.ThrowIfNull(y);
            for (var i = 0; i < Math.Min(x.Count, y.Count); i++)
            {
                if (x[i] != y[i])
                {
                    return x[i].CompareTo(y[i]);
                }
            }

            return x.Count.CompareTo(y.Count);
        }
    }
}
