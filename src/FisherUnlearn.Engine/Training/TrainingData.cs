using FisherUnlearn.Engine.Data;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Training;

/// <summary>A model's own training data: its <c>data</c> entries (train split, label subsets) concatenated in
/// manifest order, minus what a <see cref="DataFilter"/> leaves out.</summary>
public static class TrainingData
{
    /// <param name="model">The model whose <c>data</c> entries to read.</param>
    /// <param name="loadSplit">Gives a dataset's split by dataset id and split name (cache it: several entries may
    /// name one dataset).</param>
    /// <param name="filter">What to leave out; null = nothing.</param>
    /// <returns>The samples to train on, and how many the entries held before filtering.</returns>
    public static (DataSplit Data, int UnfilteredCount) Assemble(ModelManifest model, Func<string, string, DataSplit> loadSplit, DataFilter? filter = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loadSplit);
        filter ??= DataFilter.None;
        var parts = new List<DataSplit>();
        var unfiltered = 0;
        foreach (var use in model.Data)
        {
            var split = loadSplit(use.Dataset, use.Split);
            var selected = use.Labels is null ? split : split.WhereLabelIn(use.Labels);
            unfiltered += selected.Count;
            parts.Add(filter.Apply(selected));
        }

        if (parts.Count == 0)
        {
            throw EngineException.At(DiagnosticCatalogue.TrainingNoData, model.TrainingLocation ?? model.Location, null, model.Id, "it has no 'data' entries");
        }

        return (Concatenate(model, parts), unfiltered);
    }

    /// <summary>The parts one after the other. Source indices are kept (they are per dataset).</summary>
    internal static DataSplit Concatenate(ModelManifest model, IReadOnlyList<DataSplit> parts)
    {
        if (parts.Count == 1)
        {
            return parts[0];
        }

        var first = parts[0];
        // The same values in another layout (a CSV's flat [784] rows, an IDX file's [28, 28] images) are taken together, in
        // their image layout, as unlearning takes a lineage's datasets; two image layouts do not fit (SampleStack.Layout).
        var (layout, different, from) = SampleStack.Layout(parts);
        if (different is not null && from is not null)
        {
            // At the data entry that brings the other layout, so an editor lands on it.
            var entry = model.Data.FirstOrDefault(u => u.Dataset == different.DatasetId)?.Location ?? model.Location;
            throw EngineException.At(DiagnosticCatalogue.TrainingDataMismatch, entry, null, model.Id,
                $"'{from.DatasetId}' has [{string.Join(", ", from.SampleShape)}], '{different.DatasetId}' has [{string.Join(", ", different.SampleShape)}]");
        }

        var count = parts.Sum(p => p.Count);
        var features = new float[checked(count * first.FeatureSize)];
        var labels = new long[count];
        var sources = new int[count];
        var at = 0;
        foreach (var part in parts)
        {
            part.Features.Span.CopyTo(features.AsSpan(at * first.FeatureSize));
            for (var i = 0; i < part.Count; i++)
            {
                labels[at + i] = part.Labels[i];
                sources[at + i] = part.SourceIndices[i];
            }

            at += part.Count;
        }

        var datasets = parts.Select(p => p.DatasetId).Distinct(StringComparer.Ordinal);
        return new DataSplit(string.Join('+', datasets), first.SplitName, features, labels, layout, parts.Max(p => p.Classes), sources);
    }
}
