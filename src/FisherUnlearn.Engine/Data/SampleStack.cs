using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Data;

/// <summary>
/// The samples of several splits as one tensor, for the steps that evaluate or train on them together (calibration slices,
/// the repair's retained samples, its anchor, held-out baselines). A model learns the datasets of its whole lineage, and
/// they may hold the same values in different layouts: a CSV's flat [784] in a parent, an IDX file's [28, 28] in a child
/// (QA: <c>torch.cat</c> failed with "Tensors must have same number of dimensions"). Each part is then viewed in the layout
/// with the most dimensions among them (the first such), which every built-in network takes: an mlp flattens its input, a
/// cnn takes [H, W] and [1, H, W] alike, and a custom module was checked on each dataset's own layout
/// (<see cref="Models.ArchitectureFit"/>), of which this is one.
/// </summary>
internal static class SampleStack
{
    /// <summary>The features of <paramref name="parts"/> (as <see cref="DataSplit.ToTensors"/> gave them, in order) in one
    /// tensor of the common layout. A single part is returned as it is.</summary>
    /// <exception cref="InvalidOperationException">The parts hold different numbers of values per sample, which the job and
    /// the harvest refuse before (<see cref="CheckLineage"/>).</exception>
    public static Tensor Cat(IReadOnlyList<DataSplit> parts, IReadOnlyList<Tensor> features)
    {
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentNullException.ThrowIfNull(features);
        if (parts.Count != features.Count)
        {
            throw new ArgumentException("One features tensor per part.", nameof(features));
        }

        if (features.Count == 1)
        {
            return features[0];
        }

        var (layout, differs) = Layout(parts);
        if (differs is not null)
        {
            throw new InvalidOperationException($"Samples of '{parts[0].DatasetId}' and '{differs.DatasetId}' hold different numbers of values (SampleStack.CheckLineage refuses that first).");
        }

        if (parts.All(p => p.SampleShape.SequenceEqual(layout)))
        {
            return cat([.. features], 0);
        }

        using var scope = NewDisposeScope();
        var viewed = features.Select((x, i) => x.reshape([parts[i].Count, .. layout.Select(d => (long)d)])).ToList();
        return cat(viewed, 0).MoveToOuterDisposeScope();
    }

    /// <summary>FUL4075, at <paramref name="model"/>'s manifest, when the splits its lineage learned (their train splits,
    /// and their test splits, which are measured with them) hold different numbers of values per sample.</summary>
    /// <exception cref="EngineException">FUL4075.</exception>
    public static void CheckLineage(ModelManifest model, IEnumerable<DataSplit> splits)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(splits);
        var parts = splits.ToList();
        if (Layout(parts).Differs is { } other)
        {
            throw EngineException.At(DiagnosticCatalogue.LineageSampleSizesDiffer, model.Location, null, model.Id, parts[0].DatasetId, Shape(parts[0]), other.DatasetId, Shape(other));
        }
    }

    /// <summary>The layout the parts' samples are taken together in: the one with the most dimensions among them (the first
    /// such); and the first part whose number of values per sample differs from the first part's (null: none).</summary>
    internal static (IReadOnlyList<int> Layout, DataSplit? Differs) Layout(IReadOnlyList<DataSplit> parts)
    {
        IReadOnlyList<int> layout = parts.Count == 0 ? [] : parts[0].SampleShape;
        foreach (var part in parts)
        {
            if (part.FeatureSize != parts[0].FeatureSize)
            {
                return (layout, part);
            }

            if (part.SampleShape.Count > layout.Count)
            {
                layout = part.SampleShape;
            }
        }

        return (layout, null);
    }

    private static string Shape(DataSplit part) => $"[{string.Join(", ", part.SampleShape)}] in its {part.SplitName} split";
}
