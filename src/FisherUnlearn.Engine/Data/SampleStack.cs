using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Data;

/// <summary>
/// The samples of several splits as one tensor, for the steps that evaluate or train on them together (calibration slices,
/// the repair's retained samples, its anchor, held-out baselines). A model learns the datasets of its whole lineage, and
/// they may hold the same values in different layouts: a CSV's flat [784] in a parent, an IDX file's [28, 28] in a child
/// (QA: <c>torch.cat</c> failed with "Tensors must have same number of dimensions"). Each part is then viewed in their image
/// layout (<see cref="Layout"/>), which every built-in network takes: an mlp flattens its input, a
/// cnn takes [H, W] and [1, H, W] alike, and a custom module was checked on each dataset's own layout
/// (<see cref="Models.ArchitectureFit"/>), of which this is one.
/// </summary>
internal static class SampleStack
{
    /// <summary>The features of <paramref name="parts"/> (as <see cref="DataSplit.ToTensors"/> gave them, in order) in one
    /// tensor of the common layout. A single part is returned as it is.</summary>
    /// <exception cref="InvalidOperationException">The parts do not fit together (<see cref="Layout"/>), which the job and
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

        var (layout, differs, _) = Layout(parts);
        if (differs is not null)
        {
            throw new InvalidOperationException($"Samples of '{parts[0].DatasetId}' and '{differs.DatasetId}' do not fit together (SampleStack.CheckLineage refuses that first).");
        }

        if (parts.All(p => p.SampleShape.SequenceEqual(layout)))
        {
            return cat([.. features], 0);
        }

        using var scope = NewDisposeScope();
        var viewed = features.Select((x, i) => x.reshape([parts[i].Count, .. layout.Select(d => (long)d)])).ToList();
        return cat(viewed, 0).MoveToOuterDisposeScope();
    }

    /// <summary>FUL4075, at <paramref name="model"/>'s manifest, when the splits its lineage learned do not fit together
    /// (<see cref="Layout"/>): its datasets' train splits, which are stacked together, and their test splits, which are
    /// stacked together too. A dataset whose test split does not fit its own train split is not this: the model does not
    /// take one of them, which <see cref="Models.ArchitectureFit"/> says (FUL4068, naming the split).</summary>
    /// <exception cref="EngineException">FUL4075.</exception>
    public static void CheckLineage(ModelManifest model, IEnumerable<DataSplit> splits)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(splits);
        foreach (var group in splits.GroupBy(p => p.SplitName, StringComparer.Ordinal))
        {
            if (Layout([.. group]) is { Differs: { } other, From: { } from })
            {
                throw EngineException.At(DiagnosticCatalogue.LineageSamplesDoNotFit, model.Location, null, model.Id, from.DatasetId, Shape(from), other.DatasetId, Shape(other));
            }
        }
    }

    /// <summary>The layout the parts' samples are taken together in: their image layout, in its form with the most
    /// dimensions (else the first part's); the first part that does not fit with those before it (null: none), and the
    /// part it differs from (the first, or the one that brought the image layout). Parts fit together when they hold
    /// as many values per sample and at most one image layout among them, leading dimensions of 1 aside: flat rows beside
    /// [28, 28] or [1, 28, 28] images. Two image layouts ([28, 28] and [4, 196]) would rearrange one's values into the
    /// other's (QA: which one was kept depended on the order of the data entries).</summary>
    internal static (IReadOnlyList<int> Layout, DataSplit? Differs, DataSplit? From) Layout(IReadOnlyList<DataSplit> parts)
    {
        IReadOnlyList<int> layout = parts.Count == 0 ? [] : parts[0].SampleShape;
        IReadOnlyList<int>? image = null;
        DataSplit? imagePart = null;
        foreach (var part in parts)
        {
            var core = part.SampleShape.SkipWhile((d, i) => d == 1 && i < part.SampleShape.Count - 1).ToList();
            if (part.FeatureSize != parts[0].FeatureSize)
            {
                return (layout, part, parts[0]);
            }

            if (core.Count > 1 && image is not null && !image.SequenceEqual(core))
            {
                return (layout, part, imagePart);
            }

            // The image layout, in its form with the most dimensions ([1, 28, 28] over [28, 28]); flat rows take it.
            if (core.Count > 1 && (image is null || part.SampleShape.Count > layout.Count))
            {
                layout = part.SampleShape;
            }

            if (image is null && core.Count > 1)
            {
                (image, imagePart) = (core, part);
            }
        }

        return (layout, null, null);
    }

    private static string Shape(DataSplit part) => $"[{string.Join(", ", part.SampleShape)}] in its {part.SplitName} split";
}
