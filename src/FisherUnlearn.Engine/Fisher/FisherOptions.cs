namespace FisherUnlearn.Engine.Fisher;

/// <summary>Settings of one Fisher computation (<see cref="FisherCalculator.Compute"/>).</summary>
public sealed record FisherOptions
{
    /// <summary>The default mini-batch size of <c>batch</c> and <c>labelfree</c>.</summary>
    public const int DefaultBatchSize = 32;

    /// <summary>The default number of samples per backward pass of <c>exact</c> (does not change the result).</summary>
    public const int DefaultChunkSize = 256;

    /// <summary>The default temperature of <c>tempered</c>.</summary>
    public const double DefaultTemperature = 4;

    public FisherEstimator Estimator { get; init; } = FisherEstimator.Exact;

    /// <summary>Temperature T of <c>tempered</c>, finite and &gt; 0: the logits are divided by T before the
    /// cross-entropy (part of its result; recorded). Ignored by the other estimators.</summary>
    public double Temperature { get; init; } = DefaultTemperature;

    /// <summary>Mini-batch size of <c>batch</c> and <c>labelfree</c> (part of their result; recorded).</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>Samples per backward pass of <c>exact</c> and <c>tempered</c>: bounds memory, never changes the result beyond rounding.</summary>
    public int ChunkSize { get; init; } = DefaultChunkSize;

    /// <summary>Only these parameters (PyTorch names), or all when null. The others get no entry, and backward
    /// stops early where none below needs a gradient.</summary>
    public IReadOnlyCollection<string>? Parameters { get; init; }

    /// <summary>For <c>exact</c> and <c>tempered</c>: compute every parameter by the per-example loop (one backward per sample) instead of
    /// the one-pass trick. The slow reference, for checks and benchmarks.</summary>
    public bool ForcePerExampleLoop { get; init; }
}
