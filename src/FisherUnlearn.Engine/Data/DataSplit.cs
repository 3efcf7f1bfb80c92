using FisherUnlearn.Lineage.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Data;

/// <summary>
/// One split of a dataset in memory: float32 features (byte images scaled to 0..1) and int64 labels.
/// Immutable; the selection helpers return new splits and remember, in <see cref="SourceIndices"/>, each
/// sample's zero-based index in the split as loaded (the index removal requests use).
/// </summary>
public sealed class DataSplit
{
    private readonly float[] features;
    private readonly long[] labels;
    private readonly int[] sourceIndices;
    private readonly int[] sampleShape;
    private readonly Lazy<Dictionary<long, int[]>> labelIndex;

    /// <param name="datasetId">The dataset's id, for messages.</param>
    /// <param name="splitName"><c>train</c> or <c>test</c>.</param>
    /// <param name="features">Row-major features, <c>labels.Length * product(sampleShape)</c> values.</param>
    /// <param name="labels">One label per sample.</param>
    /// <param name="sampleShape">The shape of one sample, such as <c>[28, 28]</c> or <c>[4]</c>.</param>
    /// <param name="classes">The number of classes of the dataset.</param>
    /// <param name="sourceIndices">Each sample's index in the split as loaded; <c>null</c> = 0..N-1.</param>
    public DataSplit(string datasetId, string splitName, float[] features, long[] labels, IReadOnlyList<int> sampleShape, int classes, int[]? sourceIndices = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(sampleShape);
        this.sampleShape = [.. sampleShape];
        if (this.sampleShape.Length == 0 || this.sampleShape.Any(d => d <= 0))
        {
            throw new ArgumentException("Every dimension of a sample must be positive.", nameof(sampleShape));
        }

        FeatureSize = checked(this.sampleShape.Aggregate(1, (a, d) => a * d));
        if (features.LongLength != (long)labels.Length * FeatureSize)
        {
            throw new ArgumentException($"Expected {labels.Length} x {FeatureSize} features, got {features.LongLength}.", nameof(features));
        }

        if (sourceIndices is not null && sourceIndices.Length != labels.Length)
        {
            throw new ArgumentException("One source index per sample is required.", nameof(sourceIndices));
        }

        DatasetId = datasetId;
        SplitName = splitName;
        Classes = classes;
        this.features = features;
        this.labels = labels;
        this.sourceIndices = sourceIndices ?? Enumerable.Range(0, labels.Length).ToArray();
        labelIndex = new Lazy<Dictionary<long, int[]>>(
            () => Enumerable.Range(0, labels.Length).GroupBy(i => labels[i]).ToDictionary(g => g.Key, g => g.ToArray()),
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string DatasetId { get; }

    public string SplitName { get; }

    public int Classes { get; }

    public int Count => labels.Length;

    /// <summary>The shape of one sample, without the batch dimension.</summary>
    public IReadOnlyList<int> SampleShape => sampleShape;

    /// <summary>Values per sample: the product of <see cref="SampleShape"/>.</summary>
    public int FeatureSize { get; }

    public ReadOnlyMemory<float> Features => features;

    public IReadOnlyList<long> Labels => labels;

    /// <summary>For each sample, its zero-based index in the split as loaded.</summary>
    public IReadOnlyList<int> SourceIndices => sourceIndices;

    public ReadOnlySpan<float> GetFeatures(int position) => features.AsSpan(checked(position * FeatureSize), FeatureSize);

    /// <summary>How many samples each label has, indexed by label (0..Classes-1).</summary>
    public int[] CountByLabel()
    {
        var counts = new int[Math.Max(Classes, 0)];
        foreach (var label in labels)
        {
            if (label >= 0 && label < counts.Length)
            {
                counts[label]++;
            }
        }

        return counts;
    }

    /// <summary>The samples whose label is in <paramref name="labelSet"/>.</summary>
    public DataSplit WhereLabelIn(IEnumerable<int> labelSet)
    {
        var wanted = labelSet.Select(l => (long)l).ToHashSet();
        return Take(Positions(i => wanted.Contains(labels[i])));
    }

    /// <summary>The samples whose label is not in <paramref name="labelSet"/>.</summary>
    public DataSplit WhereLabelNotIn(IEnumerable<int> labelSet)
    {
        var unwanted = labelSet.Select(l => (long)l).ToHashSet();
        return Take(Positions(i => !unwanted.Contains(labels[i])));
    }

    /// <summary>The samples at these positions of this split, in the order given (duplicates are kept once).</summary>
    public DataSplit Select(IEnumerable<int> positions)
    {
        var seen = new HashSet<int>();
        var chosen = new List<int>();
        foreach (var position in positions)
        {
            CheckPosition(position);
            if (seen.Add(position))
            {
                chosen.Add(position);
            }
        }

        return Take(chosen);
    }

    /// <summary>This split without the samples at these positions.</summary>
    public DataSplit Exclude(IEnumerable<int> positions)
    {
        var dropped = new HashSet<int>();
        foreach (var position in positions)
        {
            CheckPosition(position);
            dropped.Add(position);
        }

        return Take(Positions(i => !dropped.Contains(i)));
    }

    /// <summary>The samples whose <see cref="SourceIndices"/> entry is in <paramref name="indices"/>, in this split's order.</summary>
    public DataSplit WhereSourceIndexIn(IEnumerable<int> indices)
    {
        var wanted = indices.ToHashSet();
        return Take(Positions(i => wanted.Contains(sourceIndices[i])));
    }

    /// <summary>The samples whose <see cref="SourceIndices"/> entry is not in <paramref name="indices"/>.</summary>
    public DataSplit WhereSourceIndexNotIn(IEnumerable<int> indices)
    {
        var unwanted = indices.ToHashSet();
        return Take(Positions(i => !unwanted.Contains(sourceIndices[i])));
    }

    /// <summary>
    /// <c>WhereLabelIn([label]).RandomSubset(count, seed)</c> (the same samples, in the same order) without copying the
    /// label's samples first: the positions of each label are indexed once per split, and only the chosen samples are
    /// copied. Calibration slices, harvests and metrics draw many such subsets from one split.
    /// </summary>
    public DataSplit RandomSubsetOfLabel(int label, int count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var positions = labelIndex.Value.TryGetValue(label, out var found) ? found : [];
        if (count >= positions.Length)
        {
            return Take(positions);
        }

        return Take(Array.ConvertAll(Choose(positions.Length, count, seed), i => positions[i]));
    }

    /// <summary>A random subset of <paramref name="count"/> samples (all when the split is smaller),
    /// chosen by a seeded shuffle, kept in this split's order. The same seed always gives the same subset.</summary>
    public DataSplit RandomSubset(int count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count >= Count)
        {
            return this;
        }

        return Take(Choose(Count, count, seed));
    }

    /// <summary>0..Count-1 shuffled by a seeded Fisher-Yates; stable across runs and platforms.</summary>
    public int[] Permutation(int seed) => Shuffled(Count, seed);

    /// <summary>0..n-1 in the order <paramref name="seed"/> shuffles them (the order every seeded draw here uses).</summary>
    internal static int[] Shuffled(int n, int seed)
    {
        var order = Enumerable.Range(0, n).ToArray();
        new Random(seed).Shuffle(order);
        return order;
    }

    // The first count of 0..n-1 shuffled by the seed, in ascending order.
    private static int[] Choose(int n, int count, int seed)
    {
        var chosen = Shuffled(n, seed).AsSpan(0, count).ToArray();
        Array.Sort(chosen);
        return chosen;
    }

    /// <summary>The whole split as tensors: features [N, ...SampleShape] float32 and labels [N] int64.
    /// The caller owns them (dispose, or create them inside a dispose scope).</summary>
    public (Tensor Features, Tensor Labels) ToTensors(Device? device = null) =>
        BatchTensors(Enumerable.Range(0, Count).ToArray(), device);

    /// <summary>
    /// Mini-batches as tensors, in order or shuffled by <paramref name="shuffleSeed"/>. Each pair belongs to the
    /// caller: open a <c>torch.NewDisposeScope()</c> per batch, as the loops do.
    /// </summary>
    public IEnumerable<(Tensor Features, Tensor Labels)> Batches(int batchSize, int? shuffleSeed = null, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var order = shuffleSeed is { } seed ? Permutation(seed) : Enumerable.Range(0, Count).ToArray();
        for (var start = 0; start < order.Length; start += batchSize)
        {
            var length = Math.Min(batchSize, order.Length - start);
            yield return BatchTensors(order.AsSpan(start, length).ToArray(), device);
        }
    }

    private (Tensor Features, Tensor Labels) BatchTensors(int[] positions, Device? device)
    {
        var x = new float[checked(positions.Length * FeatureSize)];
        var y = new long[positions.Length];
        for (var i = 0; i < positions.Length; i++)
        {
            GetFeatures(positions[i]).CopyTo(x.AsSpan(i * FeatureSize, FeatureSize));
            y[i] = labels[positions[i]];
        }

        var shape = new long[sampleShape.Length + 1];
        shape[0] = positions.Length;
        for (var d = 0; d < sampleShape.Length; d++)
        {
            shape[d + 1] = sampleShape[d];
        }

        var features = torch.tensor(x, shape, device: device);
        var labelTensor = torch.tensor(y, [positions.Length], device: device);
        return (features, labelTensor);
    }

    private IEnumerable<int> Positions(Func<int, bool> predicate)
    {
        for (var i = 0; i < Count; i++)
        {
            if (predicate(i))
            {
                yield return i;
            }
        }
    }

    private void CheckPosition(int position)
    {
        if (position < 0 || position >= Count)
        {
            throw EngineException.Create(DiagnosticCatalogue.SampleOutOfRange, null, position, SplitName, DatasetId, Count);
        }
    }

    private DataSplit Take(IEnumerable<int> positions)
    {
        var chosen = positions as IReadOnlyList<int> ?? positions.ToArray();
        var x = new float[checked(chosen.Count * FeatureSize)];
        var y = new long[chosen.Count];
        var source = new int[chosen.Count];
        for (var i = 0; i < chosen.Count; i++)
        {
            GetFeatures(chosen[i]).CopyTo(x.AsSpan(i * FeatureSize, FeatureSize));
            y[i] = labels[chosen[i]];
            source[i] = sourceIndices[chosen[i]];
        }

        return new DataSplit(DatasetId, SplitName, x, y, sampleShape, Classes, source);
    }
}
