using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Tests.Data;

public sealed class DataSplitTests
{
    // Sample i has label i % 3 and features [i, i + 0.5].
    private static DataSplit Tiny(int count = 10) => new(
        "tiny", "train",
        [.. Enumerable.Range(0, count).SelectMany(i => new[] { (float)i, i + 0.5f })],
        [.. Enumerable.Range(0, count).Select(i => (long)(i % 3))],
        [2], 3);

    [Fact]
    public void Label_selection_keeps_source_indices()
    {
        var forget = Tiny().WhereLabelIn([1]);
        var retain = Tiny().WhereLabelNotIn([1]);
        Assert.Equal([1, 4, 7], forget.SourceIndices);
        Assert.Equal([1L, 1L, 1L], forget.Labels);
        Assert.Equal([4f, 4.5f], forget.GetFeatures(1).ToArray());
        Assert.Equal(7, retain.Count);
        Assert.DoesNotContain(1L, retain.Labels);
    }

    [Fact]
    public void Select_and_exclude_by_position_compose_with_source_indices()
    {
        var split = Tiny().WhereLabelNotIn([0]);          // sources 1,2,4,5,7,8
        var chosen = split.Select([3, 0]);                // sources 5, 1
        var rest = split.Exclude([0, 1]);                 // sources 4,5,7,8
        Assert.Equal([5, 1], chosen.SourceIndices);
        Assert.Equal([4, 5, 7, 8], rest.SourceIndices);
        Assert.Equal([2, 8], Tiny().WhereSourceIndexIn([8, 2]).SourceIndices);
        Assert.Equal(8, Tiny().WhereSourceIndexNotIn([8, 2]).Count);
    }

    [Fact]
    public void Position_out_of_range_is_FUL2013()
    {
        EngineAssert.Fails("FUL2013", () => Tiny().Select([10]));
        EngineAssert.Fails("FUL2013", () => Tiny().Exclude([-1]));
    }

    [Fact]
    public void A_random_subset_of_one_label_draws_the_same_samples_as_filtering_then_subsetting()
    {
        var split = Tiny(200).Exclude([4, 5, 6, 50]); // Source indices no longer equal positions.
        foreach (var label in new[] { 0, 1, 2, 7 })
        {
            foreach (var count in new[] { 0, 1, 5, 66, 67, 500 })
            {
                foreach (var seed in new[] { 0, 3, -9 })
                {
                    var slow = split.WhereLabelIn([label]).RandomSubset(count, seed);
                    var fast = split.RandomSubsetOfLabel(label, count, seed);
                    Assert.Equal(slow.SourceIndices, fast.SourceIndices);
                    Assert.Equal(slow.Labels, fast.Labels);
                    Assert.Equal(slow.Count, fast.Count);
                    for (var i = 0; i < fast.Count; i++)
                    {
                        Assert.Equal(slow.GetFeatures(i).ToArray(), fast.GetFeatures(i).ToArray());
                    }
                }
            }
        }
    }

    [Fact]
    public void Random_subset_is_seeded_and_ordered()
    {
        var a = Tiny(100).RandomSubset(10, seed: 7);
        var b = Tiny(100).RandomSubset(10, seed: 7);
        var c = Tiny(100).RandomSubset(10, seed: 8);
        Assert.Equal(a.SourceIndices, b.SourceIndices);
        Assert.NotEqual(a.SourceIndices, c.SourceIndices);
        Assert.Equal(a.SourceIndices.Order(), a.SourceIndices);
        Assert.Equal(10, a.SourceIndices.Distinct().Count());
        var small = Tiny(5);
        Assert.Same(small, small.RandomSubset(5, seed: 1));
    }

    [Fact]
    public void Constructor_refuses_inconsistent_sizes()
    {
        Assert.Throws<ArgumentException>(() => new DataSplit("d", "train", new float[3], new long[2], [2], 2));
    }
}

[Collection(EngineInputsTorchCollection.Name)]
public sealed class DataSplitTensorTests
{
    [Fact]
    public void Batches_cover_every_sample_once_with_shapes_and_dtypes()
    {
        var split = new DataSplit("tiny", "train", [.. Enumerable.Range(0, 7 * 4).Select(i => (float)i)], [0, 1, 2, 0, 1, 2, 0], [2, 2], 3);
        using var scope = torch.NewDisposeScope();
        var seen = new List<long>();
        var sizes = new List<long>();
        foreach (var (x, y) in split.Batches(3, shuffleSeed: 1))
        {
            Assert.Equal(ScalarType.Float32, x.dtype);
            Assert.Equal(ScalarType.Int64, y.dtype);
            Assert.Equal([y.shape[0], 2L, 2L], x.shape);
            sizes.Add(y.shape[0]);

            // The first feature of sample i is 4i: recover which samples the batch holds.
            seen.AddRange(x.select(1, 0).select(1, 0).data<float>().ToArray().Select(v => (long)v / 4));
        }

        Assert.Equal([3L, 3L, 1L], sizes);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => (long)i), seen.Order());

        var (all, labels) = split.ToTensors();
        Assert.Equal([7L, 2L, 2L], all.shape);
        Assert.Equal([0L, 1L, 2L, 0L, 1L, 2L, 0L], labels.data<long>().ToArray());
    }
}
