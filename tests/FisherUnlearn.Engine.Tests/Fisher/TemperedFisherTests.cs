using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Tests.Support;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using TorchSharp;
using static FisherUnlearn.Engine.Tests.Fisher.FisherTestData;

namespace FisherUnlearn.Engine.Tests.Fisher;

[Collection(EngineInputsTorchCollection.Name)]
public sealed class TemperedFisherTests
{
    private static FisherDiagonal Compute(torch.nn.Module<torch.Tensor, torch.Tensor> model, DataSplit data, FisherOptions options) =>
        FisherCalculator.Compute(model, data, options, TestContext.Current.CancellationToken);

    private static FisherOptions Tempered(double temperature) => new() { Estimator = FisherEstimator.Tempered, Temperature = temperature, ChunkSize = 16 };

    [Theory]
    [InlineData("mlp", false)]
    [InlineData("lenet", false)]
    [InlineData("lenet", true)]
    [InlineData("shared", false)]
    public void Tempered_at_temperature_1_equals_exact(string kind, bool loop)
    {
        var (model, data) = ModelAndData(kind, seed: 51);
        using var disposeModel = model;

        var exact = Compute(model, data, new FisherOptions { Estimator = FisherEstimator.Exact, ChunkSize = 16, ForcePerExampleLoop = loop });
        var tempered = Compute(model, data, Tempered(1) with { ForcePerExampleLoop = loop });

        Assert.Equal(FisherEstimator.Tempered, tempered.Estimator);
        Assert.Equal(1.0, tempered.Temperature);
        Assert.Null(tempered.BatchSize);
        Assert.Equal(exact.SampleCount, tempered.SampleCount);
        Assert.Equal(exact.Names, tempered.Names);
        foreach (var name in exact.Names)
        {
            // Dividing the logits by 1 changes no bit of the loss or of its gradient.
            Assert.Equal(exact[name].Values, tempered[name].Values);
        }
    }

    [Theory]
    [InlineData("mlp", 4.0)]
    [InlineData("lenet", 2.5)]
    [InlineData("shared", 8.0)]
    public void Tempered_matches_the_per_example_definition_on_the_tempered_likelihood(string kind, double temperature)
    {
        var (model, data) = ModelAndData(kind, seed: 53);
        using var disposeModel = model;

        var fisher = Compute(model, data, Tempered(temperature));

        AssertClose(TemperedReference(model, data, temperature), fisher);
        Assert.Equal(temperature, fisher.Temperature);
    }

    // A seeded model of the kind (mlp, lenet, or one with shared and scaled parameters) and 3-class data that fits it.
    private static (torch.nn.Module<torch.Tensor, torch.Tensor> Model, DataSplit Data) ModelAndData(string kind, int seed)
    {
        torch.manual_seed(seed);
        torch.nn.Module<torch.Tensor, torch.Tensor> model = kind switch
        {
            "mlp" => Mlp(seed: seed),
            "lenet" => LeNet(seed: seed),
            _ => new SharedAndScaledModule(),
        };
        return (model, kind == "lenet" ? Split(24, [1, 12, 12], 3, seed: seed + 1) : Split(30, [10], 3, seed: seed + 1));
    }

    [Fact]
    public void A_confidently_classified_example_keeps_a_non_vanishing_tempered_importance()
    {
        using var model = Mlp(seed: 55);
        var one = Split(1, [10], 3, seed: 56);
        // Make the model sure of the example's label: its output unit gets a bias 60 logits above the others'.
        using (torch.no_grad())
        {
            var bias = model.named_parameters().Single(p => p.name == "fc3.bias").parameter;
            var values = new float[bias.shape[0]];
            values[one.Labels[0]] = 60f;
            using var wanted = torch.tensor(values);
            bias.copy_(wanted);
        }

        using (torch.no_grad())
        {
            using var features = torch.tensor(one.Features.ToArray(), [1, 10]);
            using var probabilities = torch.nn.functional.softmax(model.call(features), 1);
            Assert.True(probabilities[0, one.Labels[0]].item<float>() > 1 - 1e-6);
        }

        var exact = Compute(model, one, new FisherOptions { Estimator = FisherEstimator.Exact });
        var tempered = Compute(model, one, Tempered(4));

        static double Total(FisherDiagonal f) => f.Parameters.Values.Sum(p => p.Values.Sum(v => (double)v));
        // exact: the cross-entropy's gradient (softmax(z) - onehot) is ~e^-60 per unit, its square below float range.
        Assert.True(Total(exact) < 1e-30, $"exact importance {Total(exact):E3}");
        // tempered: softmax(z / 4) leaves ~e^-15 on the other units, so every layer keeps an importance.
        Assert.True(Total(tempered) > 1e-16, $"tempered importance {Total(tempered):E3}");
        Assert.All(tempered.Parameters, p => Assert.Contains(p.Value.Values, v => v > 0));
        Assert.True(Total(tempered) > 1e10 * Math.Max(Total(exact), 1e-45));
    }

    [Fact]
    public void The_temperature_is_recorded_in_the_file_and_keeps_diagonals_of_other_temperatures_apart()
    {
        using var model = Mlp(seed: 57);
        var data = Split(12, [10], 3, seed: 58);
        var four = Compute(model, data, Tempered(4));
        var eight = Compute(model, data, Tempered(8));
        var path = Path.Combine(Path.GetTempPath(), $"tempered-{Guid.NewGuid():N}.safetensors");
        try
        {
            four.Save(path);
            var loaded = FisherDiagonal.Load(path, out var metadata);

            Assert.Equal("tempered", metadata[FisherDiagonal.EstimatorKey]);
            Assert.Equal("4", metadata[FisherDiagonal.TemperatureKey]);
            Assert.Equal(FisherEstimator.Tempered, loaded.Estimator);
            Assert.Equal(4.0, loaded.Temperature);
        }
        finally
        {
            File.Delete(path);
        }

        Assert.Throws<ArgumentException>(() => FisherDiagonal.Combine([four, eight]));
        Assert.Throws<ArgumentException>(() => FisherDiagonal.Mean([four, eight]));
        Assert.Equal(4.0, FisherDiagonal.Combine([four, four]).Temperature);
        Assert.Null(Compute(model, data, new FisherOptions { Estimator = FisherEstimator.Exact }).Temperature);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_temperature_that_is_not_finite_and_positive_is_refused(double temperature)
    {
        using var model = Mlp(seed: 59);
        var data = Split(4, [10], 3, seed: 60);

        Assert.Throws<ArgumentOutOfRangeException>(() => Compute(model, data, Tempered(temperature)));
    }

    [Fact]
    public void The_estimator_name_parses_and_only_tempered_uses_a_temperature()
    {
        Assert.Equal(FisherEstimator.Tempered, FisherEstimators.Parse("tempered"));
        Assert.Equal("tempered", FisherEstimator.Tempered.Name());
        Assert.Contains("tempered", FisherEstimators.Names);
        Assert.True(FisherEstimator.Tempered.UsesTemperature());
        Assert.False(FisherEstimator.Tempered.UsesBatchSize());
        Assert.All(new[] { FisherEstimator.Exact, FisherEstimator.Batch, FisherEstimator.LabelFree }, e => Assert.False(e.UsesTemperature()));
    }

    [Fact]
    public void The_settings_read_the_temperature_and_describe_it_for_tempered_only()
    {
        static UnlearnSettings Read(params (string Key, string Raw)[] parameters) => ParameterSettings.Read(parameters);

        var tempered = Read(("estimator", "\"tempered\""), ("temperature", "2.5"));
        var byDefault = Read(("estimator", "\"tempered\""));
        var exact = Read(("temperature", "2.5"));

        Assert.Equal((FisherEstimator.Tempered, 2.5), (tempered.ToFisherOptions().Estimator, tempered.ToFisherOptions().Temperature));
        Assert.Equal(2.5, (double)tempered.Describe()["temperature"]!);
        Assert.Equal(FisherOptions.DefaultTemperature, (double)byDefault.Describe()["temperature"]!);
        // The description keys forget plans and is recorded in report.json: tempered diagonals of two temperatures never
        // share a plan, and exact ones do not depend on an unused temperature.
        Assert.NotEqual(tempered.Describe().ToJsonString(), byDefault.Describe().ToJsonString());
        Assert.False(exact.Describe().ContainsKey("temperature"));
        Assert.Equal(UnlearnSettings.ForWorkspace(null, "unlearn.json").Describe().ToJsonString(), exact.Describe().ToJsonString());
        Assert.Throws<EngineException>(() => Read(("estimator", "\"tempered\""), ("temperature", "0")));
        Assert.Throws<EngineException>(() => Read(("temperature", "\"warm\"")));
    }
}
