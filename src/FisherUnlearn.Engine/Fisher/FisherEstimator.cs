namespace FisherUnlearn.Engine.Fisher;

/// <summary>
/// How a diagonal Fisher importance is estimated. The name (<see cref="FisherEstimators.Name"/>) is recorded in every
/// <see cref="FisherDiagonal"/>, its file metadata and the harvest cache key: compare (and dampen with) diagonals of
/// one estimator only.
/// </summary>
public enum FisherEstimator
{
    /// <summary>
    /// <c>exact</c>: the empirical per-example diagonal Fisher, <c>(1/N) * sum_n (d/dtheta CE(x_n, y_n))^2</c>, with the
    /// true labels. Independent of any batch size. Linear and Conv2d layers are computed in one backward pass per chunk
    /// (outer-product / im2col trick); other parameters by a per-example loop.
    /// </summary>
    Exact,

    /// <summary>
    /// <c>batch</c>: the reference code's estimator (SSD <c>calc_importance</c>, copied into FIUn): per mini-batch the
    /// squared gradient of the batch-mean cross-entropy, averaged over the batches. Depends on the batch size.
    /// </summary>
    Batch,

    /// <summary>
    /// <c>labelfree</c>: LFSSD's label-free importance: per mini-batch the absolute gradient of the batch mean of the
    /// squared L2 norm of the model output, averaged over the batches. Needs no labels; depends on the batch size.
    /// </summary>
    LabelFree,

    /// <summary>
    /// <c>tempered</c>: the empirical per-example diagonal Fisher of the tempered likelihood,
    /// <c>(1/N) * sum_n (d/dtheta CE(softmax(z_n / T), y_n))^2</c>, with the true labels and a temperature T
    /// (<see cref="FisherOptions.Temperature"/>; recorded, like a batch size). T = 1 is <c>exact</c>. For T &gt; 1 the
    /// gradient of a confidently classified sample does not vanish (the tempered probability of its label stays below
    /// 1), while the importance stays label-aware. SSD compares ratios of diagonals of one temperature, so the overall
    /// 1/T^2 scale cancels. Computed as <c>exact</c> is (one backward pass per chunk for Linear and Conv2d layers).
    /// </summary>
    Tempered,
}

/// <summary>Names of <see cref="FisherEstimator"/> values as the CLI, metadata and reports spell them.</summary>
public static class FisherEstimators
{
    public const string ExactName = "exact";
    public const string BatchName = "batch";
    public const string LabelFreeName = "labelfree";
    public const string TemperedName = "tempered";

    /// <summary>Every name, in declaration order.</summary>
    public static IReadOnlyList<string> Names { get; } = [ExactName, BatchName, LabelFreeName, TemperedName];

    public static string Name(this FisherEstimator estimator) => estimator switch
    {
        FisherEstimator.Exact => ExactName,
        FisherEstimator.Batch => BatchName,
        FisherEstimator.LabelFree => LabelFreeName,
        FisherEstimator.Tempered => TemperedName,
        _ => throw new ArgumentOutOfRangeException(nameof(estimator)),
    };

    /// <summary>Whether the estimator's result depends on the mini-batch size (which is then recorded).</summary>
    public static bool UsesBatchSize(this FisherEstimator estimator) => estimator is FisherEstimator.Batch or FisherEstimator.LabelFree;

    /// <summary>Whether the estimator's result depends on a temperature (which is then recorded).</summary>
    public static bool UsesTemperature(this FisherEstimator estimator) => estimator == FisherEstimator.Tempered;

    /// <summary>Whether the estimator is per-example (independent of any batch size, additive over samples).</summary>
    public static bool IsPerExample(this FisherEstimator estimator) => estimator is FisherEstimator.Exact or FisherEstimator.Tempered;

    public static bool TryParse(string? name, out FisherEstimator estimator)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case ExactName:
                estimator = FisherEstimator.Exact;
                return true;
            case BatchName:
                estimator = FisherEstimator.Batch;
                return true;
            case LabelFreeName or "label-free":
                estimator = FisherEstimator.LabelFree;
                return true;
            case TemperedName:
                estimator = FisherEstimator.Tempered;
                return true;
            default:
                estimator = default;
                return false;
        }
    }

    public static FisherEstimator Parse(string name) =>
        TryParse(name, out var estimator)
            ? estimator
            : throw new FormatException($"'{name}' is not a Fisher estimator; use {string.Join(", ", Names)}.");
}
