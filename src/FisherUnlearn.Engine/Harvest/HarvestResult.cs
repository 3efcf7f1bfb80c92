using FisherUnlearn.Engine.Fisher;

namespace FisherUnlearn.Engine.Harvest;

/// <summary>
/// The Fisher diagonal of a model on the train samples of one label of one dataset.
/// </summary>
/// <param name="Dataset">The dataset's id.</param>
/// <param name="Label">The label.</param>
/// <param name="Samples">How many train samples of the label it summarises (capped by the harvest options).</param>
/// <param name="Own">The model's own <c>data</c> holds this label of this dataset.</param>
/// <param name="Known">The model's knowledge holds it: its own data or an ancestor's.</param>
/// <param name="Fisher">The diagonal.</param>
public sealed record HarvestedLabel(string Dataset, int Label, int Samples, bool Own, bool Known, FisherDiagonal Fisher);

/// <summary>
/// A model's harvest: per-label Fisher diagonals on the train split of every label of every dataset the model or an
/// ancestor trains on, so that the full-data Fisher and any label's forget Fisher come without a pass over data
/// (<see cref="Combine"/>: for the <c>exact</c> estimator, per-label diagonals add up exactly, weighted by sample count).
/// </summary>
public sealed record HarvestResult
{
    public required string ModelId { get; init; }

    /// <summary>The content hash of every input (checkpoint, datasets, settings, engine version); the cache key.
    /// Empty when the model has no data.</summary>
    public required string Key { get; init; }

    /// <summary>The cached harvest file, or null when the model has no data.</summary>
    public string? FilePath { get; init; }

    /// <summary>True when the harvest came from the cache and nothing was computed.</summary>
    public required bool Cached { get; init; }

    /// <summary>Wall time of this call (lookup, or load and compute and write).</summary>
    public required double Seconds { get; init; }

    public required FisherEstimator Estimator { get; init; }

    /// <summary>By dataset id (ordinal), then label.</summary>
    public required IReadOnlyList<HarvestedLabel> Labels { get; init; }

    public long SampleCount => Labels.Sum(l => (long)l.Samples);

    public HarvestedLabel? Find(string dataset, int label) =>
        Labels.FirstOrDefault(l => l.Label == label && string.Equals(l.Dataset, dataset, StringComparison.Ordinal));

    /// <summary>The Fisher of the union of the chosen labels' samples (sample-weighted mean of their diagonals).</summary>
    /// <exception cref="InvalidOperationException">No label is chosen.</exception>
    public FisherDiagonal Combine(Func<HarvestedLabel, bool> choose)
    {
        ArgumentNullException.ThrowIfNull(choose);
        var chosen = Labels.Where(choose).Select(l => l.Fisher).ToList();
        return chosen.Count == 0
            ? throw new InvalidOperationException($"No harvested label of model '{ModelId}' matches.")
            : FisherDiagonal.Combine(chosen);
    }

    /// <summary>The full-data Fisher of the model's own training data (the labels of its own <c>data</c>).</summary>
    public FisherDiagonal OwnData() => Combine(l => l.Own);

    /// <summary>The Fisher of everything the model knows (its own and its ancestors' labels).</summary>
    public FisherDiagonal Knowledge() => Combine(l => l.Known);

    /// <summary>The Fisher of these labels' samples (of <paramref name="dataset"/>, or of every dataset), such as a
    /// forget set of whole labels.</summary>
    public FisherDiagonal ForLabels(IEnumerable<int> labels, string? dataset = null)
    {
        var set = labels.ToHashSet();
        return Combine(l => set.Contains(l.Label) && (dataset is null || string.Equals(l.Dataset, dataset, StringComparison.Ordinal)));
    }
}
