using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Engine.Tests.Training;

public sealed class DataFilterTests
{
    private static DataSplit Toy(string dataset = "toy", string split = "train")
    {
        // 10 samples: sample i has label i % 4 and the single feature i.
        var features = Enumerable.Range(0, 10).Select(i => (float)i).ToArray();
        var labels = Enumerable.Range(0, 10).Select(i => (long)(i % 4)).ToArray();
        return new DataSplit(dataset, split, features, labels, [1], 4);
    }

    private static SampleSelection Samples(string dataset, string split, params int[] indices) => new(dataset, split, indices, SourceLocation.None);

    [Fact]
    public void Removes_exactly_the_forgotten_labels_and_samples()
    {
        var filter = new DataFilter([1], [Samples("toy", "train", 2, 4, 9)]);

        var kept = filter.Apply(Toy());

        // labels: 0 1 2 3 0 1 2 3 0 1 -> drop label 1 (1, 5, 9) and samples 2, 4, 9
        Assert.Equal([0, 3, 6, 7, 8], kept.SourceIndices);
        Assert.Equal([0L, 3, 2, 3, 0], kept.Labels);
        Assert.Equal([0f, 3, 6, 7, 8], kept.Features.ToArray());
    }

    [Fact]
    public void Samples_of_another_dataset_or_split_are_left_alone()
    {
        var filter = new DataFilter([], [Samples("other", "train", 0, 1), Samples("toy", "test", 0, 1)]);

        Assert.Equal(10, filter.Apply(Toy()).Count);
        Assert.Equal(8, filter.Apply(Toy(split: "test")).Count);
    }

    [Fact]
    public void Indices_are_those_of_the_split_as_loaded_even_after_a_label_selection()
    {
        var filter = new DataFilter([], [Samples("toy", "train", 6)]);

        var kept = filter.Apply(Toy().WhereLabelIn([2]));

        Assert.Equal([2], kept.SourceIndices);
    }

    [Fact]
    public void From_a_removal_manifest_and_fingerprints()
    {
        var removal = new WorkspaceBuilder().Dataset("toy", 4).Removal("r", labels: [3, 1], samples: [WorkspaceBuilder.Samples("toy", 5, 2)]).Build().Removals["r"];

        var filter = DataFilter.From(removal);

        Assert.Equal([1, 3], filter.Labels);
        Assert.Equal([2, 5], filter.SamplesOf("toy", "train").Order());
        Assert.False(filter.IsEmpty);
        Assert.True(DataFilter.None.IsEmpty);
        Assert.Equal(string.Empty, DataFilter.None.Fingerprint);
        Assert.Equal(filter.Fingerprint, new DataFilter([3, 1, 1], [Samples("toy", "train", 5), Samples("toy", "train", 2)]).Fingerprint);
        Assert.NotEqual(filter.Fingerprint, new DataFilter([1, 3], [Samples("toy", "train", 5)]).Fingerprint);
    }
}
