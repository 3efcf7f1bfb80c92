using System.Globalization;
using System.Text;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Training;

/// <summary>
/// What a retrain must leave out of a model's own data: every sample of the forgotten labels, and the forgotten
/// samples (by zero-based index within their dataset's split, as <see cref="DataSplit.SourceIndices"/> records).
/// Build it from a removal request with <see cref="From(RemovalManifest)"/>. Immutable.
/// </summary>
public sealed class DataFilter
{
    private readonly Dictionary<(string Dataset, string Split), HashSet<int>> samples;

    public DataFilter(IEnumerable<int> labels, IEnumerable<SampleSelection> samples)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(samples);
        Labels = new SortedSet<int>(labels);
        this.samples = [];
        foreach (var selection in samples)
        {
            var key = (selection.Dataset, selection.Split);
            if (!this.samples.TryGetValue(key, out var set))
            {
                this.samples[key] = set = [];
            }

            set.UnionWith(selection.Indices);
        }
    }

    /// <summary>The filter that removes nothing.</summary>
    public static DataFilter None { get; } = new([], []);

    /// <summary>Forgotten labels (ascending).</summary>
    public IReadOnlySet<int> Labels { get; }

    /// <summary>True when the filter removes nothing.</summary>
    public bool IsEmpty => Labels.Count == 0 && samples.Values.All(s => s.Count == 0);

    /// <summary>
    /// A stable text that identifies what the filter removes (labels, then samples per dataset and split, sorted),
    /// for content hashes of retrained outputs. Empty for <see cref="None"/>.
    /// </summary>
    public string Fingerprint
    {
        get
        {
            if (IsEmpty)
            {
                return string.Empty;
            }

            var text = new StringBuilder("labels=").AppendJoin(',', Labels.Select(l => l.ToString(CultureInfo.InvariantCulture)));
            foreach (var ((dataset, split), indices) in samples.OrderBy(s => s.Key.Dataset, StringComparer.Ordinal).ThenBy(s => s.Key.Split, StringComparer.Ordinal))
            {
                text.Append(";samples=").Append(dataset).Append('/').Append(split).Append(':')
                    .AppendJoin(',', indices.Order().Select(i => i.ToString(CultureInfo.InvariantCulture)));
            }

            return ContentHash.OfText(text.ToString());
        }
    }

    public static DataFilter From(RemovalManifest removal)
    {
        ArgumentNullException.ThrowIfNull(removal);
        return new DataFilter(removal.Labels, removal.Samples);
    }

    /// <summary>The forgotten sample indices of one dataset split (empty when none).</summary>
    public IReadOnlySet<int> SamplesOf(string dataset, string split) =>
        samples.TryGetValue((dataset, split), out var set) ? set : new HashSet<int>();

    /// <summary>The split without the forgotten labels and without the forgotten samples of its dataset and split.</summary>
    public DataSplit Apply(DataSplit split)
    {
        ArgumentNullException.ThrowIfNull(split);
        var result = split;
        if (Labels.Count > 0 && split.Labels.Any(l => Labels.Contains((int)l)))
        {
            result = result.WhereLabelNotIn(Labels);
        }

        var forgotten = SamplesOf(split.DatasetId, split.SplitName);
        if (forgotten.Count > 0)
        {
            result = result.WhereSourceIndexNotIn(forgotten);
        }

        return result;
    }
}
