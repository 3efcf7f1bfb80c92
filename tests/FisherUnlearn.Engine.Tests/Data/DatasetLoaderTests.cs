using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Tests.Support;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Tests.Data;

public sealed class DatasetLoaderTests : IDisposable
{
    private readonly TestFolder folder = new();

    public void Dispose() => folder.Dispose();

    private DatasetManifest Manifest(string format, DatasetSplit train, int classes = 3, DatasetSplit? test = null) => new()
    {
        Id = "tiny",
        ManifestPath = folder.PathOf("tiny.dataset.json"),
        Format = format,
        Classes = classes,
        Train = train,
        Test = test,
        Location = new SourceLocation(folder.PathOf("tiny.dataset.json")),
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Idx_split_loads_as_floats_0_to_1_and_int64_labels(bool gzip)
    {
        var images = IdxBuilder.Images(3, 2, 2, (s, p) => (byte)(s == 1 ? 255 : p * 10));
        var labels = IdxBuilder.Labels(2, 0, 1);
        var split = new DatasetSplit
        {
            Images = folder.Write("i", gzip ? IdxBuilder.Gzip(images) : images),
            Labels = folder.Write("l", gzip ? IdxBuilder.Gzip(labels) : labels),
        };

        var data = DatasetLoader.Load(Manifest("idx", split), "train");

        Assert.Equal(3, data.Count);
        Assert.Equal([2, 2], data.SampleShape);
        Assert.Equal([0f, 10 / 255f, 20 / 255f, 30 / 255f], data.GetFeatures(0).ToArray());
        Assert.Equal([1f, 1f, 1f, 1f], data.GetFeatures(1).ToArray());
        Assert.Equal([2L, 0L, 1L], data.Labels);
        Assert.Equal([0, 1, 2], data.SourceIndices);
        Assert.Equal("tiny", data.DatasetId);
        Assert.Equal("train", data.SplitName);
    }

    [Fact]
    public void Idx_label_out_of_range_is_FUL4005()
    {
        var split = new DatasetSplit { Images = folder.Write("i", IdxBuilder.Images(2, 2, 2)), Labels = folder.Write("l", IdxBuilder.Labels(0, 3)) };
        var ex = EngineAssert.Fails("FUL4005", () => DatasetLoader.Load(Manifest("idx", split), "train"));
        Assert.Equal(split.Labels, ex.Diagnostic.Location.File);
    }

    [Fact]
    public void Idx_count_mismatch_is_FUL4006()
    {
        var split = new DatasetSplit { Images = folder.Write("i", IdxBuilder.Images(2, 2, 2)), Labels = folder.Write("l", IdxBuilder.Labels(0, 1, 2)) };
        EngineAssert.Fails("FUL4006", () => DatasetLoader.Load(Manifest("idx", split), "train"));
    }

    [Fact]
    public void Missing_images_file_is_FUL4001()
    {
        var split = new DatasetSplit { Images = folder.PathOf("gone"), Labels = folder.Write("l", IdxBuilder.Labels(0)) };
        EngineAssert.Fails("FUL4001", () => DatasetLoader.Load(Manifest("idx", split), "train"));
    }

    [Fact]
    public void Absent_test_split_is_FUL4009()
    {
        var split = new DatasetSplit { Images = folder.Write("i", IdxBuilder.Images(1, 2, 2)), Labels = folder.Write("l", IdxBuilder.Labels(0)) };
        EngineAssert.Fails("FUL4009", () => DatasetLoader.Load(Manifest("idx", split), "test"));
    }

    [Fact]
    public void Csv_split_loads_with_feature_shape_of_one_dimension()
    {
        var split = new DatasetSplit { Path = folder.WriteText("d.csv", "f1,f2,y\n0.5,1,2\n0.25,0,0\n"), LabelColumn = "y" };
        var data = DatasetLoader.Load(Manifest("csv", split), "train");
        Assert.Equal([2], data.SampleShape);
        Assert.Equal([0.25f, 0f], data.GetFeatures(1).ToArray());
        Assert.Equal([2L, 0L], data.Labels);
    }

    [Fact]
    public void Csv_splits_whose_feature_columns_are_swapped_are_refused_at_the_header_from_either_side()
    {
        // A model reads features by position: a test split written with two columns swapped would score a model on
        // other inputs than it learned from, with no error at all.
        var train = new DatasetSplit { Path = folder.WriteText("train.csv", "height,width,y\n0.5,1,2\n"), LabelColumn = "y" };
        var test = new DatasetSplit { Path = folder.WriteText("test.csv", "\ny,width,height\n2,1,0.5\n"), LabelColumn = "y" };
        var manifest = Manifest("csv", train, test: test);

        var fromTest = EngineAssert.Fails("FUL4008", () => DatasetLoader.Load(manifest, "test"));
        var fromTrain = EngineAssert.Fails("FUL4008", () => DatasetLoader.Load(manifest, "train"));

        Assert.Equal((folder.PathOf("test.csv"), 2), (fromTest.Diagnostic.Location.File, fromTest.Diagnostic.Location.Line));
        Assert.Contains("feature column 1 is 'width', the train split's 'height'", fromTest.Message, StringComparison.Ordinal);
        Assert.Contains("same columns in the same order", fromTest.Message, StringComparison.Ordinal);
        Assert.Equal(folder.PathOf("train.csv"), fromTrain.Diagnostic.Location.File);
        Assert.Contains("the test split's 'width'", fromTrain.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_splits_with_the_same_features_load_whatever_the_label_column_s_place_and_a_missing_sibling_does_not_matter()
    {
        var train = new DatasetSplit { Path = folder.WriteText("train.csv", "a,b,y\n0.5,1,2\n"), LabelColumn = "y" };
        var test = new DatasetSplit { Path = folder.WriteText("test.csv", "y,a,b\n1,0.25,0\n"), LabelColumn = "y" };
        var extra = new DatasetSplit { Path = folder.WriteText("extra.csv", "a,b,c,y\n0.5,1,0,2\n"), LabelColumn = "y" };

        Assert.Equal([0.25f, 0f], DatasetLoader.Load(Manifest("csv", train, test: test), "test").Features.ToArray());
        Assert.Equal(1, DatasetLoader.Load(Manifest("csv", train, test: test with { Path = folder.PathOf("deleted.csv") }), "train").Count);
        var ex = EngineAssert.Fails("FUL4008", () => DatasetLoader.Load(Manifest("csv", train, test: extra), "test"));
        Assert.Contains("it has 3 feature columns, the train split 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_label_out_of_range_is_FUL4005()
    {
        var split = new DatasetSplit { Path = folder.WriteText("d.csv", "f1,y\n0.5,-1\n"), LabelColumn = "y" };
        EngineAssert.Fails("FUL4005", () => DatasetLoader.Load(Manifest("csv", split), "train"));
    }

    [Theory]
    [InlineData(SafetensorsDType.U8, SafetensorsDType.U8)]
    [InlineData(SafetensorsDType.F32, SafetensorsDType.I64)]
    [InlineData(SafetensorsDType.F32, SafetensorsDType.I32)]
    public void Safetensors_split_round_trips(SafetensorsDType xType, SafetensorsDType yType)
    {
        var x = xType == SafetensorsDType.U8
            ? new SafetensorsTensor(SafetensorsDType.U8, [2, 1, 2], [0, 255, 51, 102])
            : SafetensorsTensor.FromFloats([2, 1, 2], [0f, 1f, 0.2f, 0.4f]);
        var y = yType switch
        {
            SafetensorsDType.U8 => new SafetensorsTensor(yType, [2], [1, 2]),
            SafetensorsDType.I32 => new SafetensorsTensor(yType, [2], [.. BitConverter.GetBytes(1), .. BitConverter.GetBytes(2)]),
            _ => new SafetensorsTensor(yType, [2], [.. BitConverter.GetBytes(1L), .. BitConverter.GetBytes(2L)]),
        };
        var path = folder.PathOf("d.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, SafetensorsTensor> { ["x"] = x, ["y"] = y });

        var data = DatasetLoader.Load(Manifest("safetensors", new DatasetSplit { Path = path }), "train");

        Assert.Equal([1, 2], data.SampleShape);
        Assert.Equal([0f, 1f, 0.2f, 0.4f], data.Features.ToArray());
        Assert.Equal([1L, 2L], data.Labels);
    }

    [Fact]
    public void Safetensors_split_without_y_is_FUL4008()
    {
        var path = folder.PathOf("d.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, SafetensorsTensor> { ["x"] = SafetensorsTensor.FromFloats([1, 1], [0f]) });
        EngineAssert.Fails("FUL4008", () => DatasetLoader.Load(Manifest("safetensors", new DatasetSplit { Path = path }), "train"));
    }

    [Fact]
    public void Safetensors_split_with_unequal_counts_is_FUL4006()
    {
        var path = folder.PathOf("d.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, SafetensorsTensor>
        {
            ["x"] = SafetensorsTensor.FromFloats([2, 1], [0f, 1f]),
            ["y"] = new SafetensorsTensor(SafetensorsDType.U8, [3], [0, 1, 2]),
        });
        EngineAssert.Fails("FUL4006", () => DatasetLoader.Load(Manifest("safetensors", new DatasetSplit { Path = path }), "train"));
    }

    [Fact]
    public void A_declared_count_that_matches_the_file_loads()
    {
        var split = new DatasetSplit { Images = folder.Write("i", IdxBuilder.Images(2, 2, 2)), Labels = folder.Write("l", IdxBuilder.Labels(0, 1)), Count = 2 };
        Assert.Equal(2, DatasetLoader.Load(Manifest("idx", split), "train").Count);
    }

    [Fact]
    public void An_idx_split_declaring_more_samples_than_its_file_holds_is_FUL4011()
    {
        var countAt = new SourceLocation(folder.PathOf("tiny.dataset.json"), 6, 94);
        var split = new DatasetSplit { Images = folder.Write("i", IdxBuilder.Images(2, 2, 2)), Labels = folder.Write("l", IdxBuilder.Labels(0, 1)), Count = 3, CountLocation = countAt };

        var ex = EngineAssert.Fails("FUL4011", () => DatasetLoader.Load(Manifest("idx", split), "train"));

        Assert.Equal(countAt, ex.Diagnostic.Location); // At the 'count' value, not at the top of the manifest.
        Assert.Contains($"Dataset 'tiny' declares count 3 for its 'train' split, but '{split.Images}' holds 2 samples", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Fix 'count'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_csv_split_declaring_fewer_rows_than_its_file_holds_is_FUL4011()
    {
        var test = new DatasetSplit { Path = folder.WriteText("t.csv", "f1,y\n0.5,1\n0.25,0\n0,2\n"), LabelColumn = "y", Count = 2 };
        var train = new DatasetSplit { Path = folder.WriteText("d.csv", "f1,y\n0.5,1\n"), LabelColumn = "y" };

        var ex = EngineAssert.Fails("FUL4011", () => DatasetLoader.Load(Manifest("csv", train, test: test), "test"));

        Assert.Contains($"declares count 2 for its 'test' split, but '{test.Path}' holds 3 samples", ex.Message, StringComparison.Ordinal);
    }

    private string SafetensorsData(SafetensorsTensor x, SafetensorsTensor y)
    {
        var path = folder.PathOf("d.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, SafetensorsTensor> { ["x"] = x, ["y"] = y });
        return path;
    }

    [Fact]
    public void NaN_features_in_a_safetensors_split_are_a_data_error_not_a_diverged_model()
    {
        var path = SafetensorsData(SafetensorsTensor.FromFloats([2, 2], [0f, 1f, float.NaN, 2f]), new SafetensorsTensor(SafetensorsDType.U8, [2], [0, 1]));

        var ex = EngineAssert.Fails("FUL4008", () => DatasetLoader.Load(Manifest("safetensors", new DatasetSplit { Path = path }), "train"));

        Assert.Contains("'x' holds 1 NaN or infinite value(s), the first in sample 1; features must be finite numbers", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("retrain", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Labels_of_shape_N_by_1_are_refused_for_their_rank()
    {
        var path = SafetensorsData(SafetensorsTensor.FromFloats([2, 1], [0f, 1f]), new SafetensorsTensor(SafetensorsDType.U8, [2, 1], [0, 1]));

        var ex = EngineAssert.Fails("FUL4008", () => DatasetLoader.Load(Manifest("safetensors", new DatasetSplit { Path = path }), "train"));

        Assert.Contains("'y' has shape [2, 1]; labels must be 1-D, one per sample: [N]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_safetensors_split_is_a_truncated_data_file()
    {
        var path = SafetensorsData(SafetensorsTensor.FromFloats([2, 1], [0f, 1f]), new SafetensorsTensor(SafetensorsDType.U8, [2], [0, 1]));
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^4]);

        var ex = EngineAssert.Fails("FUL4003", () => DatasetLoader.Load(Manifest("safetensors", new DatasetSplit { Path = path }), "train"));

        Assert.DoesNotContain("checkpoint", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Regenerate or download the file again", ex.Message, StringComparison.Ordinal);
    }
}
