using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>Part of a dataset that a model trained on itself: a split, and a label subset (null = every label).</summary>
public sealed record DataUse(string Dataset, IReadOnlyList<int>? Labels, SourceLocation Location)
{
    /// <summary>The split trained on; always <c>train</c> in schema version 1.</summary>
    public string Split { get; init; } = "train";

    public bool Covers(int label) => Labels is null || Labels.Contains(label);

    /// <summary>Where the dataset id is written (null when not read from a file): an unknown one is reported there.</summary>
    public SourceLocation? DatasetLocation { get; init; }

    /// <summary>Where each label is written, so that one outside the dataset's classes is reported at itself.</summary>
    public IReadOnlyDictionary<int, SourceLocation> LabelLocations { get; init; } = new Dictionary<int, SourceLocation>();
}
