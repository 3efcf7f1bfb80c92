using System.Runtime.CompilerServices;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Tests.Support;
using FisherUnlearn.Engine.Tests.Unlearning;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Engine.Verification;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Tests.Native;

/// <summary>
/// Regression tests for TorchSharp tensor temporaries (docs/engine-notes.md): a tensor nobody disposes is freed by the
/// finalizer thread, and when it is an intermediate such as the <c>detach()</c> in <c>t.detach().clone()</c> that can
/// happen while libtorch still reads it, which crashed the optimised benchmark process natively. The engine's rule is that
/// no tensor is left to the finalizer: each path here runs end to end and <see cref="FinalizedTensors"/> must count none.
/// The count does not depend on the JIT or on timing, so unlike a crash it shows in every Debug test run.
/// </summary>
[Collection(UnlearningCollection.Name)]
public sealed class TensorLifetimeTests
{
    private static readonly CancellationToken Token = TestContext.Current.CancellationToken;

    public TensorLifetimeTests() => TorchRuntime.Configure(1);

    [Fact]
    public void The_probe_counts_the_tensors_nobody_disposed_and_no_others()
    {
        Assert.Equal(3, FinalizedTensors.During(() => Leak(3)));
        Assert.Equal(0, FinalizedTensors.During(() =>
        {
            using var scope = torch.NewDisposeScope();
            Leak(3);
        }));
        Assert.Equal(0, FinalizedTensors.During(() =>
        {
            using var kept = torch.zeros(2);
            using var copy = TensorCopies.Detached(kept);
        }));
    }

    /// <summary>Training every relation (finetune, aggregate, transfer, distill, merge), then a label request with each
    /// method, verified against the retrained reference (which retrains them all again).</summary>
    [Theory]
    [InlineData("fiun")]
    [InlineData("ssd")]
    [InlineData("retrain")]
    public void Training_every_relation_then_a_removal_run_and_its_verification_leave_no_tensor_to_the_finalizer(string method)
    {
        var leaked = FinalizedTensors.During(() =>
        {
            using var ws = new UnlearningWorkspace(extend: Relations);
            var analysis = ws.Analyze();
            var removal = analysis.Workspace.Removals["forget-3"];
            var result = RemovalRunner.Run(analysis, removal, new RunOptions { Threads = 1, Method = method }, Token);
            Assert.True(result.Succeeded, string.Join("\n", result.Models.Select(m => m.Error?.ToString())));
            Assert.Equal(["a", "b", "c", "distilled", "federated", "head", "merged"], result.Models.Select(m => m.Id).Order());
            var verification = Verifier.Verify(ws.Analyze(), removal, new VerifyOptions { Threads = 1, Reference = true }, Token);
            Assert.Equal(7, verification.Models.Count);
        });

        Assert.Equal(0, leaked);
    }

    /// <summary>Forget plans made ahead, a planned run and a sample request with the tempered Fisher, with parallel jobs.</summary>
    [Fact]
    public void Plans_parallel_jobs_and_a_sample_request_leave_no_tensor_to_the_finalizer()
    {
        using var ws = new UnlearningWorkspace(extend: w => w.Write("forget-samples.removal.json", """
            { "schemaVersion": 1, "id": "forget-samples", "forget": { "samples": [ { "dataset": "mnist", "split": "train", "indices": [0, 1, 2, 3, 4, 5, 6, 7] } ] },
              "parameters": { "estimator": "tempered", "importance": "own" } }
            """));
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-3"];

        var leaked = FinalizedTensors.During(() =>
        {
            var settings = UnlearnSettings.From(removal, analysis.Workspace.Settings);
            var resources = new JobResources();
            foreach (var id in new[] { "a", "b", "c" })
            {
                ForgetPlans.Compute(analysis, id, settings, resources, removal.Targets?.MaxForgetAccuracy, Token);
            }

            var planned = RemovalRunner.Run(analysis, removal, new RunOptions { Threads = 1, Parallelism = 3, OutputDirectory = ws.PathOf("planned") }, Token);
            Assert.True(planned.Succeeded);
            Assert.All(planned.Models, m => Assert.True((bool)m.Parameters!["calibrationPlanned"]!));
            var samples = RemovalRunner.Run(analysis, analysis.Workspace.Removals["forget-samples"], new RunOptions { Threads = 1, Parallelism = 2 }, Token);
            Assert.True(samples.Succeeded, string.Join("\n", samples.Models.Select(m => m.Error?.ToString())));
            Assert.All(samples.Models, m => Assert.Equal("tempered", (string?)m.Parameters!["estimator"]));
        });

        Assert.Equal(0, leaked);
    }

    /// <summary>The convolutional path of the Fisher and the dampening, on a LeNet made before counting: TorchSharp's own
    /// <c>nn.Conv2d</c> constructor leaves one tensor per layer with a bias (measured with TorchSharp 0.107.0), which the
    /// engine cannot hold.</summary>
    [Fact]
    public void The_convolutional_Fisher_and_dampening_leave_no_tensor_to_the_finalizer()
    {
        var data = Fisher.FisherTestData.Split(48, [1, 12, 12], 3, seed: 9);
        using var model = new LeNet([1, 12, 12], 3);

        var leaked = FinalizedTensors.During(() =>
        {
            foreach (var estimator in new[] { FisherEstimator.Exact, FisherEstimator.Batch, FisherEstimator.LabelFree, FisherEstimator.Tempered })
            {
                FisherCalculator.Compute(model, data, new FisherOptions { Estimator = estimator, Temperature = 4 }, Token);
            }

            var forget = FisherCalculator.Compute(model, data.WhereLabelIn([0]), new FisherOptions(), Token);
            var full = FisherCalculator.Compute(model, data, new FisherOptions(), Token);
            Dampener.Apply(model, forget, full, alpha: 1.5, lambda: 0.5);
        });

        Assert.Equal(0, leaked);
        Assert.Equal(1, FinalizedTensors.During(() => { using var conv = nn.Conv2d(1, 2, kernel_size: 3); }));
    }

    /// <summary>Saving and loading each checkpoint format, and a dataset's tensors.</summary>
    [Fact]
    public void Checkpoint_and_dataset_formats_leave_no_tensor_to_the_finalizer()
    {
        using var folder = new TestFolder();
        torch.random.manual_seed(3);
        using var model = new Mlp(4, [3], 2);

        var leaked = FinalizedTensors.During(() =>
        {
            foreach (var extension in new[] { "safetensors", "pt", "dat" })
            {
                var path = folder.PathOf("model." + extension);
                CheckpointStore.Save(path, model);
                foreach (var tensor in CheckpointStore.Load(path).Values)
                {
                    tensor.Dispose();
                }
                CheckpointStore.LoadInto(model, path, "mlp 4-3-2");
            }

            var (x, y) = DatasetLoader.Load(Training.TrainingFixtures.Mnist(), "test").ToTensors();
            x.Dispose();
            y.Dispose();
        });

        Assert.Equal(0, leaked);
    }

    private static void Relations(UnlearningWorkspace w)
    {
        const string Mlp = """ "architecture": { "kind": "mlp", "inputs": 784, "hidden": [32], "classes": 10 } """;
        const string Recipe = """ "batchSize": 64, "optimizer": "adam", "learningRate": 0.003, "seed": 5 """;
        void Model(string id, string parents, string? data, string training) => w.Write($"{id}/{id}.lineage.json", $$"""
            { "schemaVersion": 1, "id": "{{id}}", "checkpoint": "bin/{{id}}.safetensors", {{Mlp}}, "parents": [ {{parents}} ]
              {{(data is null ? string.Empty : $$""", "data": [ { "dataset": "mnist", "labels": {{data}} } ]""")}}{{training}} }
            """);
        Model("federated", """{ "id": "b", "relation": "aggregate" }, { "id": "c", "relation": "aggregate" }""", "[0, 1, 2, 3, 4, 5]",
            $$""", "training": { "epochs": 1, {{Recipe}} }""");
        Model("head", """{ "id": "a", "relation": "transfer" }""", "[0, 3, 7]", $$""", "training": { "epochs": 1, {{Recipe}}, "trainable": ["fc2.*"] }""");
        Model("distilled", """{ "id": "a", "relation": "distill" }""", "[0, 1, 2, 3]", $$""", "training": { "epochs": 1, {{Recipe}}, "temperature": 2.0 }""");
        Model("merged", """{ "id": "b", "relation": "merge" }, { "id": "head", "relation": "merge" }""", null, string.Empty);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Leak(int count)
    {
        for (var i = 0; i < count; i++)
        {
            _ = torch.zeros(2);
        }
    }
}
