using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Tests.Support;
using TorchSharp;
using static FisherUnlearn.Engine.Tests.Fisher.FisherTestData;

namespace FisherUnlearn.Engine.Tests.Fisher;

[Collection(EngineInputsTorchCollection.Name)]
public sealed class FisherCalculatorTests
{
    private static readonly FisherOptions Exact = new() { Estimator = FisherEstimator.Exact, ChunkSize = 16 };

    private static FisherDiagonal Compute(TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> model, FisherUnlearn.Engine.Data.DataSplit data, FisherOptions options) =>
        FisherCalculator.Compute(model, data, options, TestContext.Current.CancellationToken);

    [Fact]
    public void Exact_one_pass_matches_the_per_example_loop_on_an_mlp()
    {
        using var model = Mlp(seed: 1);
        var data = Split(40, [10], 3, seed: 2);

        var fisher = Compute(model, data, Exact);

        AssertClose(ExactReference(model, data), fisher);
        Assert.Equal(FisherEstimator.Exact, fisher.Estimator);
        Assert.Equal(40, fisher.SampleCount);
        Assert.Null(fisher.BatchSize);
    }

    [Fact]
    public void Exact_one_pass_matches_the_per_example_loop_on_lenet_conv_and_linear_layers()
    {
        using var model = LeNet(seed: 3);
        var data = Split(24, [1, 12, 12], 3, seed: 4);

        var fisher = Compute(model, data, Exact with { ChunkSize = 10 });

        Assert.Contains("conv1.weight", fisher.Names);
        Assert.Contains("conv2.bias", fisher.Names);
        AssertClose(ExactReference(model, data), fisher);
    }

    [Fact]
    public void Exact_falls_back_to_the_loop_for_custom_parameters_and_shared_layers()
    {
        torch.manual_seed(5);
        using var model = new SharedAndScaledModule();
        var data = Split(20, [10], 3, seed: 6);

        var fisher = Compute(model, data, Exact);

        AssertClose(ExactReference(model, data), fisher);
    }

    [Fact]
    public void Exact_one_pass_works_inside_a_sequential_that_disposes_its_intermediate_results()
    {
        torch.manual_seed(11);
        using var model = new SequentialModule();
        var data = Split(20, [10], 3, seed: 12);

        var fisher = Compute(model, data, Exact);

        Assert.Equal(["body.fc1.bias", "body.fc1.weight", "body.fc2.bias", "body.fc2.weight"], fisher.Names.Order(StringComparer.Ordinal));
        AssertClose(ExactReference(model, data), fisher);
    }

    [Fact]
    public void A_layer_whose_output_never_reaches_the_loss_has_zero_fisher_and_the_others_are_exact()
    {
        torch.manual_seed(9);
        using var model = new SideBranchModule();
        var data = Split(20, [10], 3, seed: 10);

        var fisher = Compute(model, data, Exact);

        AssertClose(ExactReference(model, data), fisher);
        Assert.All(fisher["probe.weight"].Values.Concat(fisher["probe.bias"].Values), v => Assert.Equal(0f, v));
        Assert.Contains(fisher["body.weight"].Values, v => v > 0);
    }

    [Fact]
    public void The_forced_per_example_loop_gives_the_same_exact_fisher()
    {
        using var model = LeNet(seed: 7);
        var data = Split(12, [1, 12, 12], 3, seed: 8);

        var onePass = Compute(model, data, Exact);
        var loop = Compute(model, data, Exact with { ForcePerExampleLoop = true });

        AssertClose(AsArrays(loop), onePass);
    }

    [Fact]
    public void Exact_does_not_depend_on_the_chunk_size()
    {
        using var model = Mlp(seed: 9);
        var data = Split(30, [10], 3, seed: 10);

        var small = Compute(model, data, Exact with { ChunkSize = 7 });
        var large = Compute(model, data, Exact with { ChunkSize = 1000 });

        AssertClose(AsArrays(large), small);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(32)]
    public void Batch_matches_the_reference_formula(int batchSize)
    {
        using var model = LeNet(seed: 11);
        var data = Split(30, [1, 12, 12], 3, seed: 12);

        var fisher = Compute(model, data, new FisherOptions { Estimator = FisherEstimator.Batch, BatchSize = batchSize });

        AssertClose(BatchReference(model, data, batchSize), fisher);
        Assert.Equal(batchSize, fisher.BatchSize);
    }

    [Fact]
    public void Labelfree_matches_its_reference()
    {
        using var model = Mlp(seed: 13);
        var data = Split(30, [10], 3, seed: 14);

        var fisher = Compute(model, data, new FisherOptions { Estimator = FisherEstimator.LabelFree, BatchSize = 8 });

        AssertClose(LabelFreeReference(model, data, 8), fisher);
        Assert.Equal(FisherEstimator.LabelFree, fisher.Estimator);
    }

    [Theory]
    [InlineData(FisherEstimator.Exact, "mlp")]
    [InlineData(FisherEstimator.Exact, "lenet")]
    [InlineData(FisherEstimator.Exact, "shared")]
    [InlineData(FisherEstimator.Batch, "mlp")]
    [InlineData(FisherEstimator.LabelFree, "lenet")]
    [InlineData(FisherEstimator.Tempered, "lenet")]
    [InlineData(FisherEstimator.Tempered, "shared")]
    public void Several_parts_at_once_give_the_bits_of_one_computation_per_part(FisherEstimator estimator, string kind)
    {
        torch.manual_seed(21);
        using TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> model = kind switch
        {
            "mlp" => Mlp(seed: 21),
            "lenet" => LeNet(seed: 21),
            _ => new SharedAndScaledModule(),
        };
        var data = kind == "lenet" ? Split(30, [1, 12, 12], 3, seed: 22) : Split(30, [10], 3, seed: 22);
        // An empty part among them, as a label a dataset does not hold.
        IReadOnlyList<FisherUnlearn.Engine.Data.DataSplit> parts = [data.WhereLabelIn([0]), data.WhereLabelIn([5]), data.WhereLabelIn([1, 2])];
        var options = new FisherOptions { Estimator = estimator, ChunkSize = 8, BatchSize = 4 };

        var together = FisherCalculator.ComputeEach(model, parts, options, TestContext.Current.CancellationToken);

        Assert.Equal(parts.Count, together.Count);
        foreach (var (part, fisher) in parts.Zip(together))
        {
            var alone = Compute(model, part, options);
            Assert.Equal(alone.SampleCount, fisher.SampleCount);
            Assert.Equal(alone.Names, fisher.Names);
            foreach (var name in alone.Names)
            {
                Assert.Equal(alone[name].Values, fisher[name].Values);
            }
        }
    }

    [Fact]
    public void Per_label_exact_fishers_weighted_by_counts_sum_to_the_fisher_of_the_union()
    {
        using var model = LeNet(seed: 15);
        var data = Split(36, [1, 12, 12], 3, seed: 16);

        var union = Compute(model, data, Exact);
        var perLabel = Enumerable.Range(0, 3).Select(l => Compute(model, data.WhereLabelIn([l]), Exact)).ToList();
        var combined = FisherDiagonal.Combine(perLabel);

        Assert.Equal(36, combined.SampleCount);
        AssertClose(AsArrays(union), combined);
    }

    [Theory]
    [InlineData(FisherEstimator.Exact)]
    [InlineData(FisherEstimator.Batch)]
    [InlineData(FisherEstimator.LabelFree)]
    [InlineData(FisherEstimator.Tempered)]
    public void Values_are_finite_and_non_negative_and_the_model_is_left_as_it_was(FisherEstimator estimator)
    {
        using var model = LeNet(seed: 17);
        model.train();
        var data = Split(20, [1, 12, 12], 3, seed: 18);
        var before = model.state_dict().ToDictionary(p => p.Key, p => p.Value.data<float>().ToArray());

        var fisher = Compute(model, data, new FisherOptions { Estimator = estimator, BatchSize = 8 });

        Assert.Equal((0L, null), fisher.CountInvalid());
        Assert.Contains(fisher.Parameters.Values, p => p.Values.Any(v => v > 0));
        Assert.True(model.training);
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
        Assert.All(model.state_dict(), p => Assert.Equal(before[p.Key], p.Value.data<float>().ToArray()));
    }

    [Fact]
    public void Selected_parameters_only_are_computed_and_equal_the_full_computation()
    {
        using var model = Mlp(seed: 19);
        var data = Split(25, [10], 3, seed: 20);

        var full = Compute(model, data, Exact);
        var head = Compute(model, data, Exact with { Parameters = ["fc3.weight", "fc3.bias"] });

        Assert.Equal(["fc3.bias", "fc3.weight"], head.Names);
        AssertClose(AsArrays(full.Where(n => n.StartsWith("fc3.", StringComparison.Ordinal))), head);
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
    }

    [Fact]
    public void An_unknown_parameter_name_is_refused()
    {
        using var model = Mlp(seed: 21);
        var data = Split(5, [10], 3, seed: 22);

        var ex = Assert.Throws<ArgumentException>(() => Compute(model, data, Exact with { Parameters = ["fc9.weight"] }));
        Assert.Contains("fc9.weight", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_samples_give_zeros()
    {
        using var model = Mlp(seed: 23);
        var data = Split(10, [10], 3, seed: 24).WhereLabelIn([7]);

        var fisher = Compute(model, data, Exact);

        Assert.Equal(0, fisher.SampleCount);
        Assert.All(fisher.Parameters.Values, p => Assert.All(p.Values, v => Assert.Equal(0f, v)));
    }
}

[Collection(EngineInputsTorchCollection.Name)]
public sealed class ExactFisherCoverageTests
{
    [Fact]
    public void Every_mlp_and_lenet_parameter_takes_the_one_pass_path()
    {
        using var mlp = Mlp(seed: 31);
        using var lenet = LeNet(seed: 32);

        Assert.Equal(mlp.named_parameters().Select(p => p.name).Order(StringComparer.Ordinal),
            ExactFisher.OnePassParameters(mlp, Split(4, [10], 3, seed: 33)));
        Assert.Equal(lenet.named_parameters().Select(p => p.name).Order(StringComparer.Ordinal),
            ExactFisher.OnePassParameters(lenet, Split(4, [1, 12, 12], 3, seed: 34)));
    }

    [Fact]
    public void A_layer_called_twice_and_a_raw_parameter_go_to_the_loop()
    {
        torch.manual_seed(35);
        using var model = new SharedAndScaledModule();

        var onePass = ExactFisher.OnePassParameters(model, Split(4, [10], 3, seed: 36));

        Assert.Equal(["head.bias", "head.weight", "input.bias", "input.weight"], onePass);
    }
}

[Collection(EngineInputsTorchCollection.Name)]
public sealed class FisherMemoryTests
{
    [Theory]
    [InlineData(FisherEstimator.Exact, false)]
    [InlineData(FisherEstimator.Exact, true)]
    [InlineData(FisherEstimator.Batch, false)]
    [InlineData(FisherEstimator.LabelFree, false)]
    [InlineData(FisherEstimator.Tempered, false)]
    [InlineData(FisherEstimator.Tempered, true)]
    public void A_computation_leaves_no_live_tensors_behind(FisherEstimator estimator, bool loop)
    {
        using var model = LeNet(seed: 41);
        var data = Split(20, [1, 12, 12], 3, seed: 42);
        var options = new FisherOptions { Estimator = estimator, BatchSize = 8, ChunkSize = 8, ForcePerExampleLoop = loop };
        FisherCalculator.Compute(model, data, options, TestContext.Current.CancellationToken);

        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        FisherCalculator.Compute(model, data, options, TestContext.Current.CancellationToken);
        var after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        Assert.Equal(before, after);
        using var probe = torch.zeros(3);
        Assert.Equal(after + 1, DisposeScopeManager.Statistics.ThreadTotalLiveCount); // the counter does see tensors
    }
}
