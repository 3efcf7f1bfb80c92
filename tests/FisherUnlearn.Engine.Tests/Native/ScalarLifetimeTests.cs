using System.Diagnostics;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Engine.Verification;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Tests.Native;

/// <summary>The GC-storm tests run alone: the storm thread would slow (and stress) every test running beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ScalarLifetimeCollection
{
    public const string Name = "Scalar lifetime (GC storm)";
}

/// <summary>
/// Regression tests for the TorchSharp 0.107 <see cref="Scalar"/> lifetime race (docs/engine-notes.md). A temporary
/// Scalar (every implicit <c>double/int -&gt; Scalar</c> conversion, and the <c>1</c>/<c>2</c> that TorchSharp itself
/// passes inside <c>add_(Tensor)</c>, <c>square()</c>, <c>Tensor / double</c>, ...) is unreachable once its
/// <c>Handle</c> has been read, so a GC during the native call can let the finalizer thread free the native scalar while
/// libtorch still reads it ("Expected false to be true" from <c>Scalar::toFloat</c>, "Unknown scalar type", or a
/// silently wrong coefficient).
/// <para>
/// Each test runs an engine path many times while <see cref="GcStorm"/> calls <c>GC.Collect(); GC.WaitForPendingFinalizers()</c>
/// in a tight loop on another thread, and requires every result to be bit-identical to the same computation done
/// without the storm (all of it is deterministic on one libtorch thread). The control shows the storm is strong enough:
/// <c>torch.optim.Adam</c>, which passes its coefficients as temporaries, fails within about 100-3,000 steps (0.1-2 s;
/// every one of ~20 runs on the 2-core Debian box). Before the engine fixes, the Fisher (exact, per-example loop) and
/// trainer (distill, aggregate: StepOptimizer's <c>add_(epsilon)</c>) tests failed the same way.
/// </para>
/// </summary>
[Collection(ScalarLifetimeCollection.Name)]
public sealed class ScalarLifetimeTests
{
    private const int Features = 4;
    private const int Classes = 3;

    // How long each path runs under the storm (the control fails in 0.5-2 s).
    private const double StormSeconds = 2.5;

    private static readonly CancellationToken Token = TestContext.Current.CancellationToken;

    private static readonly Lazy<(DataSplit Train, DataSplit Test)> Toy = new(() => (Blobs("train", 96, 1), Blobs("test", 60, 2)));

    public ScalarLifetimeTests() => TorchRuntime.Configure(1);

    [Fact]
    public void Control_torch_optim_Adam_fails_under_the_GC_storm()
    {
        torch.random.manual_seed(1);
        using var x = torch.randn(16, Features);
        using var y = torch.randint(0, Classes, [16]);
        using var model = nn.Sequential(("fc1", nn.Linear(Features, 8)), ("relu", nn.ReLU()), ("fc2", nn.Linear(8, Classes)));
        using var optimizer = optim.Adam(model.parameters(), lr: 0.01);
        var steps = 0;
        Exception? failure = null;
        var stormed = (Seconds: 0.0, Collections: 0L);
        using (var storm = new GcStorm())
        {
            try
            {
                for (; storm.Elapsed < TimeSpan.FromSeconds(45) && steps < 300_000; steps++)
                {
                    using var scope = torch.NewDisposeScope();
                    optimizer.zero_grad();
                    nn.functional.cross_entropy(model.call(x), y).backward();
#pragma warning disable RS0030 // the control: torch.optim's own temporaries, which the engine bans
                    optimizer.step();
#pragma warning restore RS0030
                }
            }
            catch (Exception e)
            {
                failure = e;
            }

            Report(storm, $"torch.optim.Adam: {steps} steps, failure: {failure?.GetType().Name}: {failure?.Message.Split('\n')[0]}");
            stormed = (storm.Elapsed.TotalSeconds, storm.Collections);
        }

        // If this ever stops failing, either the storm lost its power (and the tests below prove nothing) or TorchSharp
        // fixed the race (then StepOptimizer and the held Scalars could go): look before changing anything. On a machine
        // loaded by other work the race may not come up in the time given (seen once in 15 s while two other test runs
        // shared the 2 cores): then it is skipped, with what the storm did, rather than failed for the machine's sake.
        if (failure is null)
        {
            Assert.Skip($"torch.optim.Adam ran {steps} steps in {stormed.Seconds:0} s under {stormed.Collections} collections without failing; run this class alone to see the control fail");
        }
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("sgd")]
    [InlineData("distill")]
    [InlineData("aggregate")]
    public void ModelTrainer_survives_the_GC_storm(string variant)
    {
        var builder = new WorkspaceBuilder().Dataset("toy", classes: Classes);
        var recipe = new TrainingRecipe
        {
            Epochs = 60, BatchSize = 8, Seed = 3, Optimizer = variant == "sgd" ? "sgd" : "adam", LearningRate = variant == "sgd" ? 0.05 : 0.01,
            Momentum = variant == "sgd" ? 0.9 : 0, WeightDecay = 1e-3, Temperature = 2.0,
        };
        builder.Model("p1", data: ["toy"], architecture: WorkspaceBuilder.Mlp(Classes, Features, 8), training: recipe);
        builder.Model("p2", data: ["toy"], architecture: WorkspaceBuilder.Mlp(Classes, Features, 8), training: recipe);
        builder.Model("m", data: ["toy"], parents: variant switch { "distill" => ["p1"], "aggregate" => ["p1", "p2"], _ => [] },
            relation: variant switch { "distill" => Relation.Distill, "aggregate" => Relation.Aggregate, _ => null },
            architecture: WorkspaceBuilder.Mlp(Classes, Features, 6), training: recipe);
        var workspace = builder.Build();
        var options = new TrainingOptions { Threads = 1, LoadData = (_, split) => split == "test" ? Toy.Value.Test : Toy.Value.Train };
        var parents = new Dictionary<string, IReadOnlyDictionary<string, Tensor>>(StringComparer.Ordinal);
        foreach (var (id, seed) in new[] { ("p1", 5), ("p2", 6) })
        {
            torch.random.manual_seed(seed);
            using var parent = new Mlp(Features, [variant == "distill" ? 8 : 6], Classes);
            parents[id] = StateDicts.Copy(parent);
        }

        try
        {
            float[] Train()
            {
                using var result = new ModelTrainer(workspace, options).Train(workspace.Models["m"], parents, cancellationToken: Token);
                Assert.Equal(60 * 12, result.Stats.Steps);
                return Flatten(result.Module);
            }

            var expected = Train();
            Storm($"ModelTrainer {variant}", () => Assert.Equal(expected, Train()));
        }
        finally
        {
            foreach (var state in parents.Values)
            {
                foreach (var tensor in state.Values)
                {
                    tensor.Dispose();
                }
            }
        }
    }

    [Theory]
    [InlineData(FisherEstimator.Exact, false)]
    [InlineData(FisherEstimator.Exact, true)]
    [InlineData(FisherEstimator.Batch, false)]
    [InlineData(FisherEstimator.LabelFree, false)]
    public void FisherCalculator_survives_the_GC_storm(FisherEstimator estimator, bool lenet)
    {
        var data = lenet ? FisherTestDataSplit([1, 12, 12], 24) : Toy.Value.Train;
        using var model = lenet ? (nn.Module<Tensor, Tensor>)new LeNet([1, 12, 12], Classes) : new Mlp(Features, [8, 6], Classes);
        // The per-example loop too (one backward per sample), for the exact estimator on the MLP.
        var options = new FisherOptions { Estimator = estimator, BatchSize = 8, ChunkSize = 16 };
        var loop = options with { ForcePerExampleLoop = true };
        var expected = Values(FisherCalculator.Compute(model, data, options, Token));
        var expectedLoop = Values(FisherCalculator.Compute(model, data, loop, Token));

        Storm($"FisherCalculator {estimator.Name()} {(lenet ? "lenet" : "mlp")}", () =>
        {
            Assert.Equal(expected, Values(FisherCalculator.Compute(model, data, options, Token)));
            if (estimator == FisherEstimator.Exact && !lenet)
            {
                Assert.Equal(expectedLoop, Values(FisherCalculator.Compute(model, data, loop, Token)));
            }
        });
    }

    [Fact]
    public void Dampener_survives_the_GC_storm()
    {
        torch.random.manual_seed(4);
        using var model = new Mlp(Features, [8, 6], Classes);
        var original = StateDicts.Copy(model);
        var data = Toy.Value.Train;
        var forget = FisherCalculator.Compute(model, data.WhereLabelIn([0]), new FisherOptions(), Token);
        var full = FisherCalculator.Compute(model, data, new FisherOptions(), Token);

        float[] Dampen()
        {
            StateDicts.LoadInto(model, original, "original", "mlp");
            var stats = Dampener.Apply(model, forget, full, alpha: 1.5, lambda: 0.5);
            Assert.True(stats.Selected > 0);
            return Flatten(model);
        }

        try
        {
            var expected = Dampen();
            Storm("Dampener.Apply", () => Assert.Equal(expected, Dampen()));
        }
        finally
        {
            Training.TrainingFixtures.Dispose(original);
        }
    }

    [Fact]
    public void Calibrator_search_and_apply_survive_the_GC_storm()
    {
        torch.random.manual_seed(5);
        using var model = new Mlp(Features, [8, 6], Classes);
        var data = Toy.Value.Train;
        Fit(model, data); // A model that knows label 0, so the search has something to forget.
        var forgetSlice = new List<DataSplit> { data.WhereLabelIn([0]) };
        var retainSlice = new List<DataSplit> { data.WhereLabelNotIn([0]) };
        var forget = FisherCalculator.Compute(model, forgetSlice[0], new FisherOptions(), Token);
        var full = FisherCalculator.Compute(model, data, new FisherOptions(), Token);
        (double, double)[] grid = [.. new[] { 0.5, 1, 2, 4, 8 }.SelectMany(a => new[] { 0.1, 0.5, 1 }.Select(l => (a, l)))];
        using var calibrator = new Calibrator(model, forgetSlice, retainSlice, new HashSet<int> { 0 });

        (CalibrationPoint, float[]) Calibrate()
        {
            // A target of 0: the search runs for every lambda, and the head shift (HeadLayer.ShiftDown) is tried.
            var result = calibrator.Search(forget, full, null, grid, target: 0, "auto");
            Assert.True(result.Evaluated > 1 && result.Chosen.HeadShift > 0, $"evaluated {result.Evaluated}, chose {result.Chosen}");
            calibrator.Apply(result.Chosen, forget, full, null);
            return (result.Chosen, Flatten(model));
        }

        var (expectedPoint, expectedWeights) = Calibrate();
        Storm("Calibrator.Search + Apply", () =>
        {
            var (point, weights) = Calibrate();
            Assert.Equal(expectedPoint, point);
            Assert.Equal(expectedWeights, weights);
        });
    }

    [Fact]
    public void MetricsEvaluator_and_membership_inference_survive_the_GC_storm()
    {
        var workspace = new WorkspaceBuilder().Dataset("toy", classes: Classes)
            .Model("m", data: ["toy"], architecture: WorkspaceBuilder.Mlp(Classes, Features, 8))
            .Removal("r", labels: [0])
            .Build();
        var scope = RemovalScope.For(workspace, LineageGraph.Build(workspace), workspace.Removals["r"], "m");
        var evaluator = new MetricsEvaluator(scope, new SplitCache((_, split) => split == "test" ? Toy.Value.Test : Toy.Value.Train));
        torch.random.manual_seed(6);
        using var model = new Mlp(Features, [8], Classes);
        var expected = evaluator.Measure(model);
        Assert.NotNull(expected.Mia);

        Storm("MetricsEvaluator.Measure", () => Assert.Equal(expected, evaluator.Measure(model)));
    }

    /// <summary>Runs <paramref name="action"/> under a GC storm, again and again until the storm has lasted
    /// <see cref="StormSeconds"/> and run at least 100 collections (on a loaded machine the storm thread gets less time:
    /// it goes on, up to 10 times as long, rather than prove less).</summary>
    private static void Storm(string what, Action action)
    {
        using var storm = new GcStorm();
        var runs = 0;
        while (runs == 0 || (storm.Elapsed < TimeSpan.FromSeconds(StormSeconds)
            || (storm.Collections < 100 && storm.Elapsed < TimeSpan.FromSeconds(10 * StormSeconds))))
        {
            Token.ThrowIfCancellationRequested();
            action();
            runs++;
        }

        Report(storm, $"{what}: {runs} runs");
        Assert.True(storm.Collections >= 100, $"the storm ran only {storm.Collections} collections");
    }

    private static void Report(GcStorm storm, string message) =>
        TestContext.Current.SendDiagnosticMessage($"{message}; {storm.Elapsed.TotalSeconds:0.00} s, {storm.Collections} collections under the storm");

    private static float[] Flatten(nn.Module module)
    {
        using var scope = torch.NewDisposeScope();
        return [.. module.named_parameters().OrderBy(p => p.name, StringComparer.Ordinal)
            .SelectMany(p => p.parameter.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray())];
    }

    private static void Fit(nn.Module<Tensor, Tensor> model, DataSplit data)
    {
        using var optimizer = StepOptimizer.Adam(model.parameters(), 0.05, 0);
        using var scope = torch.NewDisposeScope();
        var (x, y) = data.ToTensors();
        for (var step = 0; step < 100; step++)
        {
            optimizer.ZeroGrad();
            nn.functional.cross_entropy(model.call(x), y).backward();
            optimizer.Step();
        }
    }

    private static float[] Values(FisherDiagonal fisher) => [.. fisher.Parameters.SelectMany(p => p.Value.Values)];

    // Three separable Gaussian blobs of dimension Features, labels i % 3.
    private static DataSplit Blobs(string split, int count, int seed)
    {
        var random = new Random(seed);
        var features = new float[count * Features];
        var labels = new long[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = i % Classes;
            for (var j = 0; j < Features; j++)
            {
                features[(i * Features) + j] = (j == labels[i] ? 2f : 0f) + ((float)random.NextDouble() - 0.5f);
            }
        }

        return new DataSplit("toy", split, features, labels, [Features], Classes);
    }

    private static DataSplit FisherTestDataSplit(int[] shape, int count) => Fisher.FisherTestData.Split(count, shape, Classes, seed: 9);

    /// <summary>A thread that runs <c>GC.Collect(); GC.WaitForPendingFinalizers()</c> in a loop until disposed.</summary>
    private sealed class GcStorm : IDisposable
    {
        private readonly Thread thread;
        private readonly Stopwatch stopwatch = Stopwatch.StartNew();
        private volatile bool stop;
        private long collections;

        public GcStorm()
        {
            thread = new Thread(() =>
            {
                while (!stop)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    Interlocked.Increment(ref collections);
                }
            })
            { IsBackground = true, Name = "GC storm" };
            thread.Start();
        }

        public long Collections => Interlocked.Read(ref collections);

        public TimeSpan Elapsed => stopwatch.Elapsed;

        public void Dispose()
        {
            stop = true;
            thread.Join();
        }
    }
}
