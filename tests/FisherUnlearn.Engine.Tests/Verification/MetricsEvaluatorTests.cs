using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Tests.Unlearning;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Engine.Verification;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Tests.Verification;

/// <summary>A model's metrics are what a direct evaluation of each sample set gives; the test set (every known label),
/// assembled from the retain and forget sets' outputs, is the one a pass of its own would see.</summary>
[Collection(UnlearningCollection.Name)]
public sealed class MetricsEvaluatorTests
{
    [Theory]
    [InlineData("labels")]
    [InlineData("samples")]
    public void Each_metric_is_the_direct_evaluation_of_its_sample_set(string kind)
    {
        using var ws = new UnlearningWorkspace();
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-3"];
        if (kind == "samples")
        {
            removal = removal with { Labels = [], Samples = [new SampleSelection("mnist", "train", [.. Enumerable.Range(0, 400)], removal.Location)] };
        }

        var cache = new SplitCache();
        foreach (var id in new[] { "a", "b", "c" })
        {
            var manifest = analysis.Workspace.Models[id];
            var scope = RemovalScope.For(analysis.Workspace, analysis.Graph, removal, id);
            using var module = ModelFactory.Create(manifest.Architecture, manifest.ManifestDirectory);
            CheckpointStore.LoadInto(module, manifest.CheckpointPath, manifest.Architecture.ToString());
            var options = new MetricsOptions();

            var metrics = new MetricsEvaluator(scope, cache, options).Measure(module);

            var known = RemovalData.Test(scope, cache, k => k.Known, options.MaxTestPerLabel, options.Seed);
            var retained = RemovalData.Test(scope, cache, scope.RetainLabels, options.MaxTestPerLabel, options.Seed);
            var forget = RemovalData.Test(scope, cache, k => scope.ForgetLabelsOf(k.Dataset.Id), options.MaxTestPerLabel, options.Seed)
                .Concat(scope.Knowledge.Select(k => RemovalData.ForgottenSamples(scope, k, cache.Get(k.Dataset, "train")))).ToList();
            Assert.Equal(ModelEvaluator.Accuracy(module, known), metrics.TestAccuracy);
            Assert.Equal(known.Sum(p => p.Count), metrics.TestSamples);
            Assert.Equal(ModelEvaluator.Accuracy(module, retained), metrics.RetainAccuracy);
            Assert.Equal(ModelEvaluator.Accuracy(module, forget), metrics.ForgetAccuracy);
            Assert.Equal(forget.Sum(p => p.Count), metrics.ForgetSamples);
            Assert.True(metrics.ForgetSamples > 0, $"{id}: empty forget set");
            Assert.NotNull(metrics.Mia);
            Assert.InRange(metrics.MiaAttackAccuracy!.Value, 0, 1);

            // The attack (SSD's) learns members = retained TRAIN samples against non-members = retained TEST samples and
            // rates the forgotten TRAIN data: the forgotten labels' train samples, or the forgotten samples; never the
            // forgotten labels' held-out samples, which no model trained on.
            var members = RemovalData.RetainTrain(scope, cache, options.MaxMembersPerLabel, options.Seed + 1000);
            var forgetTrain = RemovalData.ForgetTrain(scope, cache, options.MaxMembersPerLabel, options.Seed + 2000);
            Assert.All(forgetTrain, p => Assert.Equal("train", p.SplitName));
            var attack = MembershipInference.Attack(ModelEvaluator.Evaluate(module, members), ModelEvaluator.Evaluate(module, retained),
                ModelEvaluator.Evaluate(module, forgetTrain), options.Seed);
            Assert.Equal(attack!.Rate, metrics.Mia);
            Assert.Equal(attack.Accuracy, metrics.MiaAttackAccuracy);
        }
    }

    [Fact]
    public void The_held_out_score_of_the_forgotten_samples_labels_comes_with_its_standard_error()
    {
        static SampleOutputs Outputs(long[] labels, long[] predictions) => new(labels, predictions, new float[labels.Length], new float[labels.Length]);
        // Two forgotten 3s and one 7; held out: 3 of four 3s right, 1 of two 7s.
        var forgotten = Outputs([3, 3, 7], [3, 3, 7]);
        var heldOut = Outputs([3, 3, 3, 3, 7, 7, 1], [3, 3, 3, 1, 7, 1, 1]);

        var (accuracy, error) = MetricsEvaluator.HeldOutAccuracyOfLabels(forgotten, heldOut)!.Value;

        Assert.Equal(((2 * 0.75) + 0.5) / 3, accuracy, 12);
        // Weighted as the accuracy, each label smoothed: 3s (3 + 1) / (4 + 2), 7s (1 + 1) / (2 + 2).
        var expected = Math.Sqrt((4 * (4.0 / 6) * (2.0 / 6) / 4) + (1 * 0.5 * 0.5 / 2)) / 3;
        Assert.Equal(expected, error, 12);
        // More held-out samples at the same accuracy, a smaller error.
        var larger = Outputs([.. Enumerable.Repeat(3L, 40), .. Enumerable.Repeat(7L, 20)], [.. Enumerable.Repeat(3L, 30), .. Enumerable.Repeat(1L, 10), .. Enumerable.Repeat(7L, 10), .. Enumerable.Repeat(1L, 10)]);
        Assert.True(MetricsEvaluator.HeldOutAccuracyOfLabels(forgotten, larger)!.Value.Error < error / 2);
        Assert.Null(MetricsEvaluator.HeldOutAccuracyOfLabels(forgotten, Outputs([1], [1])));
    }
}
