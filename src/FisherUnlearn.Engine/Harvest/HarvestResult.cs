using FisherUnlearn.Engine.Fisher;

namespace FisherUnlearn.Engine.Harvest;

/// <summary>
/// The Fisher diagonal of a model on the train samples of one label of one dataset. A cached harvest reads a label's
/// diagonal from its file only when <see cref="Fisher"/> is first asked for, so a request that forgets one label reads
/// one label's values, not the whole harvest.
/// </summary>
public sealed class HarvestedLabel
{
    private readonly Lazy<FisherDiagonal> fisher;

    /// <param name="dataset">The dataset's id.</param>
    /// <param name="label">The label.</param>
    /// <param name="samples">How many train samples of the label it summarises (capped by the harvest options).</param>
    /// <param name="own">The model's own <c>data</c> holds this label of this dataset.</param>
    /// <param name="known">The model's knowledge holds it: its own data or an ancestor's.</param>
    /// <param name="fisher">The diagonal.</param>
    public HarvestedLabel(string dataset, int label, int samples, bool own, bool known, FisherDiagonal fisher)
        : this(dataset, label, samples, own, known, new Lazy<FisherDiagonal>(fisher ?? throw new ArgumentNullException(nameof(fisher))))
    {
    }

    /// <summary>A label whose diagonal <paramref name="load"/> reads on first use (once, thread-safe).</summary>
    public HarvestedLabel(string dataset, int label, int samples, bool own, bool known, Func<FisherDiagonal> load)
        : this(dataset, label, samples, own, known, new Lazy<FisherDiagonal>(load ?? throw new ArgumentNullException(nameof(load)), LazyThreadSafetyMode.ExecutionAndPublication))
    {
    }

    private HarvestedLabel(string dataset, int label, int samples, bool own, bool known, Lazy<FisherDiagonal> fisher)
    {
        Dataset = dataset ?? throw new ArgumentNullException(nameof(dataset));
        Label = label;
        Samples = samples;
        Own = own;
        Known = known;
        this.fisher = fisher;
    }

    public string Dataset { get; }

    public int Label { get; }

    public int Samples { get; }

    public bool Own { get; }

    public bool Known { get; }

    /// <summary>The diagonal (read from the harvest file on first use when the harvest was cached).</summary>
    public FisherDiagonal Fisher => fisher.Value;

    /// <summary>Whether the diagonal is in memory (false until a cached label's <see cref="Fisher"/> is first read).</summary>
    public bool IsLoaded => fisher.IsValueCreated;
}

/// <summary>
/// A model's harvest: per-label Fisher diagonals on the train split of every label of every dataset the model or an
/// ancestor trains on, so that the full-data Fisher and any label's forget Fisher come without a pass over data
/// (<see cref="Combine"/>: for the per-example estimators, <c>exact</c> and <c>tempered</c>, per-label diagonals add up exactly, weighted by sample count).
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

    /// <summary>The temperature of a <c>tempered</c> harvest; null for the other estimators.</summary>
    public double? Temperature { get; init; }

    /// <summary>By dataset id (ordinal), then label.</summary>
    public required IReadOnlyList<HarvestedLabel> Labels { get; init; }

    /// <summary>The Fisher of everything the model knows (<see cref="FisherDiagonal.Mean"/> of the known labels), stored
    /// in the harvest so the full-data importance costs one read instead of a pass over every label; null when the model
    /// knows no label. Read on first use when cached.</summary>
    public Lazy<FisherDiagonal>? KnownFisher { get; init; }

    /// <summary>For a harvest read from its file: whether every diagonal's bytes still match the checksums its header
    /// records (reads the whole file, none of it converted). Null for a harvest computed in this process.</summary>
    internal Func<bool>? IsIntact { get; init; }

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

    /// <summary>The Fisher of everything the model knows (its own and its ancestors' labels), restricted to the
    /// parameters <paramref name="include"/> accepts: the stored diagonal when there is one.</summary>
    public FisherDiagonal Knowledge(Func<string, bool>? include = null)
    {
        if (KnownFisher is { } stored)
        {
            return include is null ? stored.Value : stored.Value.Where(include);
        }

        var known = Labels.Where(l => l.Known).Select(l => l.Fisher).ToList();
        return known.Count == 0
            ? throw new InvalidOperationException($"Model '{ModelId}' knows no harvested label.")
            : FisherDiagonal.Mean(known, include);
    }

    /// <summary>The Fisher of these labels' samples (of <paramref name="dataset"/>, or of every dataset), such as a
    /// forget set of whole labels.</summary>
    public FisherDiagonal ForLabels(IEnumerable<int> labels, string? dataset = null)
    {
        var set = labels.ToHashSet();
        return Combine(l => set.Contains(l.Label) && (dataset is null || string.Equals(l.Dataset, dataset, StringComparison.Ordinal)));
    }
}
