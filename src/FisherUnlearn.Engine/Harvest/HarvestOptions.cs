using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Lineage.Graph;

namespace FisherUnlearn.Engine.Harvest;

/// <summary>Settings of a harvest (<see cref="Harvester.Harvest"/>). Every setting that changes the numbers is part of
/// the cache key.</summary>
public sealed record HarvestOptions
{
    public const int DefaultMaxSamplesPerLabel = 200;

    /// <summary>The estimator; <c>exact</c> by default (per-label diagonals then add up exactly).</summary>
    public FisherEstimator Estimator { get; init; } = FisherEstimator.Exact;

    /// <summary>At most this many train samples per label (a seeded random subset when there are more).</summary>
    public int MaxSamplesPerLabel { get; init; } = DefaultMaxSamplesPerLabel;

    /// <summary>Mini-batch size of <c>batch</c> and <c>labelfree</c> (ignored, and not in the key, for <c>exact</c> and <c>tempered</c>).</summary>
    public int BatchSize { get; init; } = FisherOptions.DefaultBatchSize;

    /// <summary>Temperature of <c>tempered</c> (ignored, and not in the key, for the other estimators).</summary>
    public double Temperature { get; init; } = FisherOptions.DefaultTemperature;

    /// <summary>Seed of the per-label subset when a label has more than <see cref="MaxSamplesPerLabel"/> samples.</summary>
    public int SampleSeed { get; init; }

    /// <summary>Compute even when the cache holds a harvest for these inputs.</summary>
    public bool Force { get; init; }

    /// <summary>Read every diagonal of a cached harvest and check it against its checksum; one that fails (a file whose
    /// data a crash lost) is computed again. Off, diagonals are read (and checked) only when a method needs them.</summary>
    public bool Verify { get; init; }

    /// <summary>The workspace's lineage graph, when the caller has it (built otherwise).</summary>
    public LineageGraph? Graph { get; init; }

    /// <summary>Loaded datasets and file hashes to share between the harvests of one run (a fresh one otherwise).</summary>
    public HarvestInputs? Inputs { get; init; }
}
