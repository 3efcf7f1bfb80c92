using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Harvest;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Tests.Fisher;
using FisherUnlearn.Engine.Tests.Support;
using FisherUnlearn.Lineage;

namespace FisherUnlearn.Engine.Tests.Harvest;

[Collection(EngineInputsTorchCollection.Name)]
public sealed class HarvesterTests
{
    private static HarvestResult Harvest(Workspace workspace, string model, HarvestOptions? options = null) =>
        Harvester.Harvest(workspace.Models[model], workspace, options, TestContext.Current.CancellationToken);

    [Fact]
    public void A_harvest_covers_every_label_of_the_datasets_of_the_model_and_its_ancestors()
    {
        using var ws = new HarvestWorkspace();
        var workspace = ws.Load();

        var result = Harvest(workspace, "b");

        Assert.False(result.Cached);
        Assert.Equal([0, 1, 2, 3], result.Labels.Select(l => l.Label));
        Assert.All(result.Labels, l => Assert.Equal("toy", l.Dataset));
        Assert.All(result.Labels, l => Assert.Equal(15, l.Samples));
        Assert.Equal([2], result.Labels.Where(l => l.Own).Select(l => l.Label));
        Assert.Equal([0, 1, 2], result.Labels.Where(l => l.Known).Select(l => l.Label));
        Assert.All(result.Labels, l => Assert.Equal((0L, null), l.Fisher.CountInvalid()));
        Assert.All(result.Labels, l => Assert.Equal(FisherEstimator.Exact, l.Fisher.Estimator));
        Assert.Equal(HarvestCache.PathOf(workspace.OutputDirectory, "b", result.Key), result.FilePath);
        Assert.Equal(Path.Combine(ws.Root, "artifacts", "unlearn", "harvest", "b", result.Key + ".safetensors"), result.FilePath);
        var entry = Assert.Single(HarvestCache.ReadIndex(workspace.OutputDirectory, "b"));
        Assert.Equal(result.Key, entry.Key);
        Assert.Equal(4, entry.Labels);
        Assert.Equal(60, entry.Samples);
    }

    [Fact]
    public void A_second_harvest_with_unchanged_inputs_computes_nothing_and_keeps_the_bytes()
    {
        using var ws = new HarvestWorkspace();
        var workspace = ws.Load();
        var first = Harvest(workspace, "a");
        var bytes = File.ReadAllBytes(first.FilePath!);
        var written = File.GetLastWriteTimeUtc(first.FilePath!);

        var second = Harvest(ws.Load(), "a");

        Assert.True(second.Cached);
        Assert.Equal(first.Key, second.Key);
        Assert.Equal(bytes, File.ReadAllBytes(second.FilePath!));
        Assert.Equal(written, File.GetLastWriteTimeUtc(second.FilePath!));
        Assert.True(HarvestCache.Contains(workspace.OutputDirectory, "a", first.Key));
        foreach (var label in first.Labels)
        {
            var again = second.Find(label.Dataset, label.Label)!;
            Assert.Equal(label.Samples, again.Samples);
            Assert.Equal(label.Own, again.Own);
            Assert.All(label.Fisher.Parameters, p => Assert.Equal(p.Value.Values, again.Fisher[p.Key].Values));
        }
    }

    [Fact]
    public void A_cached_harvest_reads_only_the_labels_asked_for_and_stores_the_knowledge_diagonal()
    {
        using var ws = new HarvestWorkspace();
        var first = Harvest(ws.Load(), "b");
        var second = Harvest(ws.Load(), "b");

        Assert.True(second.Cached);
        Assert.All(second.Labels, l => Assert.False(l.IsLoaded));
        var one = second.Find(first.Labels[1].Dataset, first.Labels[1].Label)!;
        Assert.All(first.Labels[1].Fisher.Parameters, p => Assert.Equal(p.Value.Values, one.Fisher[p.Key].Values));
        Assert.Single(second.Labels, l => l.IsLoaded);

        // The stored knowledge diagonal is the sample-weighted mean of the known labels' diagonals.
        var expected = FisherDiagonal.Mean(first.Labels.Where(l => l.Known).Select(l => l.Fisher));
        var stored = second.Knowledge();
        Assert.Equal(expected.SampleCount, stored.SampleCount);
        Assert.All(expected.Parameters, p => Assert.Equal(p.Value.Values, stored[p.Key].Values));
        Assert.Single(second.Labels, l => l.IsLoaded);
        Assert.Equal(["fc2.bias", "fc2.weight"], second.Knowledge(n => n.StartsWith("fc2", StringComparison.Ordinal)).Names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Forcing_recomputes_the_same_bytes()
    {
        using var ws = new HarvestWorkspace();
        var workspace = ws.Load();
        var first = Harvest(workspace, "a");
        var bytes = File.ReadAllBytes(first.FilePath!);

        var forced = Harvest(workspace, "a", new HarvestOptions { Force = true });

        Assert.False(forced.Cached);
        Assert.Equal(first.Key, forced.Key);
        Assert.Equal(bytes, File.ReadAllBytes(forced.FilePath!));
    }

    [Fact]
    public void Harvesting_leaves_the_checkpoint_byte_identical()
    {
        using var ws = new HarvestWorkspace();
        var before = File.ReadAllBytes(ws.CheckpointOf("b"));
        var written = File.GetLastWriteTimeUtc(ws.CheckpointOf("b"));

        Harvest(ws.Load(), "b");

        Assert.Equal(before, File.ReadAllBytes(ws.CheckpointOf("b")));
        Assert.Equal(written, File.GetLastWriteTimeUtc(ws.CheckpointOf("b")));
    }

    [Fact]
    public void A_changed_checkpoint_invalidates_the_harvest_and_replaces_the_old_file()
    {
        using var ws = new HarvestWorkspace();
        var first = Harvest(ws.Load(), "a");

        ws.WriteCheckpoint("a", seed: 99);
        var second = Harvest(ws.Load(), "a");

        Assert.False(second.Cached);
        Assert.NotEqual(first.Key, second.Key);
        Assert.False(File.Exists(first.FilePath));
        Assert.Equal(second.Key, Assert.Single(HarvestCache.ReadIndex(ws.Load().OutputDirectory, "a")).Key);
    }

    [Fact]
    public void Other_settings_get_their_own_cache_entry()
    {
        using var ws = new HarvestWorkspace();
        var exact = Harvest(ws.Load(), "a");

        var batch = Harvest(ws.Load(), "a", new HarvestOptions { Estimator = FisherEstimator.Batch, BatchSize = 4 });
        var capped = Harvest(ws.Load(), "a", new HarvestOptions { MaxSamplesPerLabel = 5 });

        Assert.NotEqual(exact.Key, batch.Key);
        Assert.NotEqual(exact.Key, capped.Key);
        Assert.Equal(4, batch.Labels[0].Fisher.BatchSize);
        Assert.All(capped.Labels, l => Assert.Equal(5, l.Samples));
        Assert.True(File.Exists(exact.FilePath));
        Assert.Equal(3, HarvestCache.ReadIndex(ws.Load().OutputDirectory, "a").Count);
    }

    [Fact]
    public void Tempered_harvests_of_other_temperatures_get_their_own_cache_entry_and_record_it()
    {
        using var ws = new HarvestWorkspace();
        var two = Harvest(ws.Load(), "a", new HarvestOptions { Estimator = FisherEstimator.Tempered, Temperature = 2 });
        var four = Harvest(ws.Load(), "a", new HarvestOptions { Estimator = FisherEstimator.Tempered, Temperature = 4 });
        var exact = Harvest(ws.Load(), "a");

        var cached = Harvest(ws.Load(), "a", new HarvestOptions { Estimator = FisherEstimator.Tempered, Temperature = 2 });

        Assert.Equal(3, new[] { two.Key, four.Key, exact.Key }.Distinct().Count());
        Assert.True(cached.Cached);
        Assert.Equal(two.Key, cached.Key);
        Assert.Equal(2.0, cached.Temperature);
        Assert.All(cached.Labels, l => Assert.Equal(2.0, l.Fisher.Temperature));
        Assert.Equal(4.0, four.Labels[0].Fisher.Temperature);
        Assert.Null(exact.Temperature);
        Assert.Equal([2.0, 4.0, null], HarvestCache.ReadIndex(ws.Load().OutputDirectory, "a").Select(e => e.Temperature).OrderBy(t => t ?? double.MaxValue));
    }

    [Fact]
    public void Combined_label_fishers_equal_the_fisher_of_the_models_own_data()
    {
        using var ws = new HarvestWorkspace();
        var workspace = ws.Load();
        var result = Harvest(workspace, "a");

        var own = result.OwnData();

        var manifest = workspace.Models["a"];
        using var module = ModelFactory.Create(manifest.Architecture, manifest.ManifestDirectory);
        CheckpointStore.LoadInto(module, manifest.CheckpointPath, manifest.Architecture.ToString());
        var train = DatasetLoader.Load(workspace.Datasets["toy"], "train").WhereLabelIn([0, 1]);
        var direct = FisherCalculator.Compute(module, train, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(30, own.SampleCount);
        FisherTestData.AssertClose(FisherTestData.AsArrays(direct), own);
        FisherTestData.AssertClose(FisherTestData.AsArrays(result.Find("toy", 1)!.Fisher), result.ForLabels([1]));
    }

    [Fact]
    public void A_damaged_cache_file_is_a_miss_and_is_rewritten()
    {
        using var ws = new HarvestWorkspace();
        var first = Harvest(ws.Load(), "a");
        var bytes = File.ReadAllBytes(first.FilePath!);
        File.WriteAllBytes(first.FilePath!, bytes[..100]);

        Assert.Null(HarvestCache.TryLoad(ws.Load().OutputDirectory, "a", first.Key));
        var second = Harvest(ws.Load(), "a");

        Assert.False(second.Cached);
        Assert.Equal(bytes, File.ReadAllBytes(second.FilePath!));
        EngineAssert.Fails("FUL4081", () => HarvestCache.Load(ws.Files.Write("other.safetensors", "not a harvest")));
    }

    [Fact]
    public void Harvests_of_one_run_share_each_labels_sample_draw()
    {
        using var ws = new HarvestWorkspace();
        var dataset = ws.Load().Datasets["toy"];
        var inputs = new HarvestInputs();

        var first = inputs.TrainSamples(dataset, 1, 5, 0);

        Assert.Same(first, inputs.TrainSamples(dataset, 1, 5, 0));
        Assert.Equal(inputs.Train(dataset).RandomSubsetOfLabel(1, 5, 0).SourceIndices, first.SourceIndices);
        Assert.NotSame(first, inputs.TrainSamples(dataset, 1, 5, 1));
    }

    [Fact]
    public void A_harvest_file_emptied_by_a_crash_is_a_miss_and_is_rewritten()
    {
        // Harvest files are renamed into place without a flush to disk (a cache); after a power loss a file can be
        // left empty, which must read as a miss, never as importances.
        using var ws = new HarvestWorkspace();
        var first = Harvest(ws.Load(), "a");
        var bytes = File.ReadAllBytes(first.FilePath!);
        File.WriteAllBytes(first.FilePath!, []);

        var second = Harvest(ws.Load(), "a");

        Assert.False(second.Cached);
        Assert.Equal(bytes, File.ReadAllBytes(second.FilePath!));
    }

    [Fact]
    public void A_harvest_file_whose_data_a_crash_zeroed_fails_its_checksum_and_a_verifying_harvest_rewrites_it()
    {
        // The header can survive while the data blocks read as zeros (renamed before the data reached the disk). Zeros
        // are valid importances, so only the checksums written with the values can tell.
        using var ws = new HarvestWorkspace();
        var first = Harvest(ws.Load(), "b");
        var bytes = File.ReadAllBytes(first.FilePath!);
        var headerLength = 8 + (int)BitConverter.ToUInt64(bytes, 0);
        var torn = bytes.ToArray();
        Array.Clear(torn, headerLength, torn.Length - headerLength);
        File.WriteAllBytes(first.FilePath!, torn);

        var unverified = Harvest(ws.Load(), "b");
        Assert.True(unverified.Cached); // the header alone looks fine
        var ex = EngineAssert.Fails("FUL4081", () => _ = unverified.Labels[0].Fisher);
        Assert.Contains("checksum", ex.Message, StringComparison.Ordinal);
        EngineAssert.Fails("FUL4081", () => _ = unverified.KnownFisher!.Value);
        Assert.False(unverified.IsIntact!());

        var verified = Harvest(ws.Load(), "b", new HarvestOptions { Verify = true });

        Assert.False(verified.Cached);
        Assert.Equal(bytes, File.ReadAllBytes(verified.FilePath!));
        var intact = Harvest(ws.Load(), "b", new HarvestOptions { Verify = true });
        Assert.True(intact.Cached);
        Assert.True(intact.IsIntact!());
        Assert.Null(verified.IsIntact); // computed here, nothing to check
        Assert.All(first.Labels.Zip(intact.Labels), p => Assert.Equal(p.First.Fisher.Checksum(), p.Second.Fisher.Checksum()));
    }

    [Theory]
    [InlineData("nan")]
    [InlineData("negative")]
    [InlineData("f16")]
    public void A_harvest_diagonal_with_invalid_values_or_another_dtype_is_FUL4081_when_read(string damage)
    {
        using var ws = new HarvestWorkspace();
        var first = Harvest(ws.Load(), "a");
        var document = SafetensorsFile.Read(first.FilePath!, checkFinite: false);
        var prefix = HarvestCache.TensorPrefix(first.Labels[0].Dataset, first.Labels[0].Label);
        var tensors = document.Tensors.ToDictionary(t => t.Key, t =>
        {
            if (!t.Key.StartsWith(prefix, StringComparison.Ordinal))
            {
                return t.Value;
            }

            var values = t.Value.ToFloats();
            if (damage == "f16")
            {
                return new SafetensorsTensor(SafetensorsDType.F16, t.Value.Shape, [.. values.SelectMany(v => BitConverter.GetBytes((Half)v))]);
            }

            values[0] = damage == "nan" ? float.NaN : -1f;
            return new SafetensorsTensor(SafetensorsDType.F32, t.Value.Shape, [.. values.SelectMany(BitConverter.GetBytes)]);
        }, StringComparer.Ordinal);
        SafetensorsFile.Write(first.FilePath!, tensors, document.Metadata);

        var cached = Harvest(ws.Load(), "a");

        Assert.True(cached.Cached);
        var ex = EngineAssert.Fails("FUL4081", () => _ = cached.Labels[0].Fisher);
        Assert.Contains(damage == "f16" ? "is F16, not F32" : "negative or not finite", ex.Message, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(ex.Message, "not a usable Fisher")); // reported once, not wrapped twice
        Assert.Equal((0L, null), cached.Labels[1].Fisher.CountInvalid()); // the other labels still read
    }

    [Fact]
    public void A_missing_checkpoint_is_FUL4020_at_the_lineage_manifest()
    {
        using var ws = new HarvestWorkspace(withCheckpoints: false);
        var workspace = ws.Load();

        var ex = EngineAssert.Fails("FUL4020", () => Harvest(workspace, "a"));

        Assert.Equal(workspace.Models["a"].ManifestPath, ex.Diagnostic.Location.File);
        Assert.Contains("dotnet unlearn train", ex.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(workspace.OutputDirectory, "harvest")));
    }

    [Fact]
    public void A_checkpoint_path_that_is_a_folder_is_FUL4020_saying_so()
    {
        using var ws = new HarvestWorkspace(withCheckpoints: false);
        var workspace = ws.Load();
        Directory.CreateDirectory(workspace.Models["a"].CheckpointPath);

        var ex = EngineAssert.Fails("FUL4020", () => Harvest(workspace, "a"));

        Assert.Contains("is a folder, not a checkpoint file: move the folder away before training", ex.Message, StringComparison.Ordinal); // train refuses it (FUL4029)
        Assert.Contains("'a/bin/a.safetensors'", ex.Diagnostic.Message.Replace('\\', '/'), StringComparison.Ordinal); // shown relative to the workspace
    }
}

[Collection(EngineInputsTorchCollection.Name)]
public sealed class FisherDiagonalTests
{
    private static FisherDiagonal Make(float[] w, float[] b, long samples, FisherEstimator estimator = FisherEstimator.Exact) =>
        new([KeyValuePair.Create("fc.weight", new FisherParameter([2, 2], w)), KeyValuePair.Create("fc.bias", new FisherParameter([2], b))], estimator, samples, 8);

    [Fact]
    public void The_checksum_changes_with_any_value_name_or_shape_and_not_with_the_order_parameters_were_given_in()
    {
        var checksum = Make([1, 2, 3, 4], [1, 1], 1).Checksum();
        var reordered = new FisherDiagonal([KeyValuePair.Create("fc.bias", new FisherParameter([2], [1f, 1f])), KeyValuePair.Create("fc.weight", new FisherParameter([2, 2], [1f, 2f, 3f, 4f]))], FisherEstimator.Exact, 1);
        var renamed = new FisherDiagonal([KeyValuePair.Create("fc.weight", new FisherParameter([2, 2], [1f, 2f, 3f, 4f])), KeyValuePair.Create("fc.bias2", new FisherParameter([2], [1f, 1f]))], FisherEstimator.Exact, 1);
        var reshaped = new FisherDiagonal([KeyValuePair.Create("fc.weight", new FisherParameter([4], [1f, 2f, 3f, 4f])), KeyValuePair.Create("fc.bias", new FisherParameter([2], [1f, 1f]))], FisherEstimator.Exact, 1);

        Assert.Matches("^[0-9a-f]{16}$", checksum);
        Assert.Equal(checksum, reordered.Checksum());
        Assert.Equal(checksum, Make([1, 2, 3, 4], [1, 1], 7).Checksum()); // the values, not the metadata
        Assert.NotEqual(checksum, Make([1, 2, 3, 4.0000005f], [1, 1], 1).Checksum());
        Assert.NotEqual(checksum, Make([0, 0, 0, 0], [0, 0], 1).Checksum());
        Assert.NotEqual(checksum, renamed.Checksum());
        Assert.NotEqual(checksum, reshaped.Checksum());
    }

    [Fact]
    public void Combine_is_the_sample_weighted_mean()
    {
        var combined = FisherDiagonal.Combine([Make([1, 2, 3, 4], [1, 1], 1), Make([5, 6, 7, 8], [3, 3], 3)]);

        Assert.Equal(4, combined.SampleCount);
        Assert.Equal([4f, 5f, 6f, 7f], combined["fc.weight"].Values);
        Assert.Equal([2.5f, 2.5f], combined["fc.bias"].Values);
    }

    [Fact]
    public void Max_scale_and_weighted_sum_work_element_wise()
    {
        var a = Make([1, 9, 3, 0], [1, 5], 2);
        var b = Make([4, 2, 3, 1], [2, 2], 3);

        Assert.Equal([4f, 9f, 3f, 1f], FisherDiagonal.Max([a, b])["fc.weight"].Values);
        Assert.Equal([0.5f, 2.5f], a.Scale(0.5)["fc.bias"].Values);
        Assert.Equal([9f, 13f, 9f, 2f], FisherDiagonal.WeightedSum([(a, 1), (b, 2)])["fc.weight"].Values);
        Assert.Null(a.BatchSize);
    }

    [Fact]
    public void Different_estimators_or_shapes_cannot_be_combined()
    {
        var exact = Make([1, 2, 3, 4], [1, 1], 1);
        var batch = Make([1, 2, 3, 4], [1, 1], 1, FisherEstimator.Batch);
        var other = new FisherDiagonal([KeyValuePair.Create("fc.weight", new FisherParameter([4], [1f, 2, 3, 4]))], FisherEstimator.Exact, 1);

        Assert.Throws<ArgumentException>(() => FisherDiagonal.Combine([exact, batch]));
        Assert.Throws<ArgumentException>(() => FisherDiagonal.Max([exact, other]));
    }

    [Fact]
    public void Save_and_load_round_trip_with_metadata_and_stable_bytes()
    {
        using var folder = new TestFolder();
        var fisher = Make([1, 2, 3, 4], [0.5f, 0.25f], 7, FisherEstimator.Batch);

        fisher.Save(folder.PathOf("f.safetensors"), new Dictionary<string, string> { ["model"] = "a" });
        fisher.Save(folder.PathOf("g.safetensors"), new Dictionary<string, string> { ["model"] = "a" });
        var loaded = FisherDiagonal.Load(folder.PathOf("f.safetensors"), out var metadata);

        Assert.Equal(File.ReadAllBytes(folder.PathOf("f.safetensors")), File.ReadAllBytes(folder.PathOf("g.safetensors")));
        Assert.Equal(FisherEstimator.Batch, loaded.Estimator);
        Assert.Equal(7, loaded.SampleCount);
        Assert.Equal(8, loaded.BatchSize);
        Assert.Equal("a", metadata["model"]);
        Assert.Equal("batch", metadata[FisherDiagonal.EstimatorKey]);
        Assert.Equal([1f, 2f, 3f, 4f], loaded["fc.weight"].Values);
        Assert.Equal([2L, 2L], loaded["fc.weight"].Shape);
        using var tensor = loaded.ToTensor("fc.bias");
        Assert.Equal([0.5f, 0.25f], tensor.data<float>().ToArray());
    }

    [Fact]
    public void A_file_without_fisher_metadata_is_FUL4081()
    {
        using var folder = new TestFolder();
        var path = folder.PathOf("w.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, SafetensorsTensor> { ["x"] = SafetensorsTensor.FromFloats([1], [1f]) });

        EngineAssert.Fails("FUL4081", () => FisherDiagonal.Load(path));
    }
}
