using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>A removal request (<c>*.removal.json</c>): what must be forgotten, and how.</summary>
public sealed record RemovalManifest
{
    public const string DefaultMethod = "fiun";

    /// <summary>The unlearning methods a manifest or <c>--method</c> may name (docs/methods.md).</summary>
    public static IReadOnlyList<string> Methods { get; } = [DefaultMethod, "ssd", "retrain"];

    public required string Id { get; init; }

    public required string ManifestPath { get; init; }

    public string? Reason { get; init; }

    /// <summary>Labels to forget everywhere they were learned.</summary>
    public IReadOnlyList<int> Labels { get; init; } = [];

    /// <summary>Where each of <see cref="Labels"/> is written (its first occurrence), for problems found across files.</summary>
    public IReadOnlyDictionary<int, SourceLocation> LabelLocations { get; init; } = new Dictionary<int, SourceLocation>();

    public IReadOnlyList<SampleSelection> Samples { get; init; } = [];

    /// <summary>The method named in the manifest, or null for the workspace / tool default.</summary>
    public string? Method { get; init; }

    /// <summary>Method settings, as raw JSON literals keyed by name (ordinal order).</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Where <see cref="Method"/> is written (null when absent).</summary>
    public SourceLocation? MethodLocation { get; init; }

    /// <summary>Where each of <see cref="Parameters"/> is written, so a bad value is reported at its line.</summary>
    public IReadOnlyDictionary<string, SourceLocation> ParameterLocations { get; init; } = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);

    public RemovalTargets? Targets { get; init; }

    /// <summary>Where <see cref="Targets"/> is written (null when absent): missed targets are reported there.</summary>
    public SourceLocation? TargetsLocation { get; init; }

    public string? RequestedAt { get; init; }

    public required SourceLocation Location { get; init; }

    /// <summary>The dataset ids of <c>samples</c> entries left out of <see cref="Samples"/> for another mistake (a bad
    /// split, no indices), each at its value: so that an unknown one is reported with the rest, not after they are fixed.</summary>
    public IReadOnlyList<(string Id, SourceLocation Location)> DroppedSampleDatasets { get; init; } = [];
}

/// <summary>Training samples to forget: zero-based indices within one split of one dataset.</summary>
public sealed record SampleSelection(string Dataset, string Split, IReadOnlyList<int> Indices, SourceLocation Location);

/// <summary>What a removal must achieve, checked by <c>verify</c>.</summary>
public sealed record RemovalTargets
{
    /// <summary>The forget accuracy a label request's calibration aims at when neither <see cref="MaxForgetAccuracy"/> nor
    /// the <c>target</c> parameter says (verify checks only a target that is written).</summary>
    public const double DefaultMaxForgetAccuracy = 0.01;

    /// <summary>Highest acceptable accuracy on held-out samples of forgotten labels (fraction 0..1).</summary>
    public double? MaxForgetAccuracy { get; init; }

    /// <summary>Largest acceptable drop of retain accuracy against the retrained reference (fraction 0..1).</summary>
    public double? MaxRetainDrop { get; init; }
}
