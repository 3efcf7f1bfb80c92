using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Tests.Fisher;

/// <summary>Tiny seeded models and data, and slow, direct reimplementations of each estimator's formula.</summary>
internal static class FisherTestData
{
    /// <summary>Random features in [0, 1) and labels 0..classes-1 (every label present), seeded.</summary>
    public static DataSplit Split(int count, int[] sampleShape, int classes, int seed)
    {
        var random = new Random(seed);
        var size = sampleShape.Aggregate(1, (a, d) => a * d);
        var features = new float[count * size];
        for (var i = 0; i < features.Length; i++)
        {
            features[i] = random.NextSingle();
        }

        var labels = Enumerable.Range(0, count).Select(i => (long)((i + random.Next(classes)) % classes)).ToArray();
        for (var c = 0; c < Math.Min(classes, count); c++)
        {
            labels[c] = c;
        }

        return new DataSplit("toy", "train", features, labels, sampleShape, classes);
    }

    public static Mlp Mlp(int seed, int inputs = 10, int classes = 3)
    {
        torch.manual_seed(seed);
        return new Mlp(inputs, [8, 6], classes);
    }

    public static LeNet LeNet(int seed, int classes = 3)
    {
        torch.manual_seed(seed);
        return new LeNet([1, 12, 12], classes);
    }

    /// <summary>Exact per-example Fisher by the definition: a batch-size-1 loop of mean cross-entropy, grad^2, / N.</summary>
    public static Dictionary<string, float[]> ExactReference(nn.Module<Tensor, Tensor> model, DataSplit data) =>
        Reference(model, data, batchSize: 1, (output, labels) => nn.functional.cross_entropy(output, labels), g => g.Squared());

    /// <summary>The tempered per-example Fisher by the definition: a batch-size-1 loop of the cross-entropy of the logits
    /// divided by the temperature, grad^2, / N.</summary>
    public static Dictionary<string, float[]> TemperedReference(nn.Module<Tensor, Tensor> model, DataSplit data, double temperature) =>
        Reference(model, data, batchSize: 1, (output, labels) =>
        {
            using var t = temperature.ToScalar();
            return nn.functional.cross_entropy(output.div(t), labels);
        }, g => g.Squared());

    /// <summary>SSD calc_importance: per mini-batch mean CE, backward, add grad^2, divide by the number of batches.</summary>
    public static Dictionary<string, float[]> BatchReference(nn.Module<Tensor, Tensor> model, DataSplit data, int batchSize) =>
        Reference(model, data, batchSize, (output, labels) => nn.functional.cross_entropy(output, labels), g => g.Squared());

    /// <summary>LFSSD: loss = mean over the batch of the squared L2 norm of the output; add |grad|; / batches.</summary>
    public static Dictionary<string, float[]> LabelFreeReference(nn.Module<Tensor, Tensor> model, DataSplit data, int batchSize) =>
        Reference(model, data, batchSize, (output, _) => output.Squared().sum(dim: 1).mean(), g => g.abs());

    private static Dictionary<string, float[]> Reference(nn.Module<Tensor, Tensor> model, DataSplit data, int batchSize,
        Func<Tensor, Tensor, Tensor> lossOf, Func<Tensor, Tensor> contribution)
    {
        model.eval();
        var sums = model.named_parameters().ToDictionary(p => p.name, p => new double[p.parameter.numel()]);
        var batches = 0;
        foreach (var (features, labels) in data.Batches(batchSize))
        {
            using var x = features;
            using var y = labels;
            using var scope = torch.NewDisposeScope();
            foreach (var (_, p) in model.named_parameters())
            {
                p.grad = null;
            }

            lossOf(model.call(x), y).backward();
            foreach (var (name, p) in model.named_parameters())
            {
                // A parameter the loss does not depend on has no gradient: its contribution is zero.
                var values = p.grad is null ? new double[p.numel()] : contribution(p.grad).to(ScalarType.Float64).data<double>().ToArray();
                for (var i = 0; i < values.Length; i++)
                {
                    sums[name][i] += values[i];
                }
            }

            batches++;
        }

        return sums.ToDictionary(s => s.Key, s => s.Value.Select(v => (float)(v / batches)).ToArray());
    }

    /// <summary>Every value of <paramref name="actual"/> within <paramref name="relative"/> of the expected, relative
    /// to the largest expected value of that parameter.</summary>
    public static void AssertClose(IReadOnlyDictionary<string, float[]> expected, FisherDiagonal actual, double relative = 1e-5)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Names);
        foreach (var (name, values) in expected)
        {
            var got = actual[name].Values;
            Assert.Equal(values.Length, got.Length);
            var scale = Math.Max(values.Max(Math.Abs), 1e-12);
            var worst = values.Zip(got, (e, a) => Math.Abs(e - a)).Max();
            Assert.True(worst <= relative * scale, $"{name}: max difference {worst:E3} exceeds {relative:E1} x {scale:E3}");
        }
    }

    public static Dictionary<string, float[]> AsArrays(FisherDiagonal fisher) =>
        fisher.Parameters.ToDictionary(p => p.Key, p => p.Value.Values);
}

/// <summary>A custom module: a Linear, a raw per-feature scale parameter, and a Linear called twice (shared weights),
/// none of which the one-pass trick may handle as an ordinary layer.</summary>
public sealed class SharedAndScaledModule : nn.Module<Tensor, Tensor>
{
    private readonly Linear input;
    private readonly Linear shared;
    private readonly Linear head;
    private readonly Parameter scale;

    public SharedAndScaledModule()
        : base(nameof(SharedAndScaledModule))
    {
        input = nn.Linear(10, 6);
        shared = nn.Linear(6, 6);
        head = nn.Linear(6, 3);
        scale = nn.Parameter(torch.linspace(0.5, 1.5, 6));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = nn.functional.tanh(input.call(x.flatten(1))) * scale;
        h = nn.functional.tanh(shared.call(h));
        h = nn.functional.tanh(shared.call(h));
        return head.call(h);
    }
}

/// <summary>A custom module with a side branch: <c>probe</c> runs in every forward pass, but its output never reaches
/// the logits (a monitoring head, say), so its Fisher is zero; <c>body</c> and <c>head</c> are ordinary layers.</summary>
public sealed class SideBranchModule : nn.Module<Tensor, Tensor>
{
    private readonly Linear body;
    private readonly Linear probe;
    private readonly Linear head;

    public SideBranchModule()
        : base(nameof(SideBranchModule))
    {
        body = nn.Linear(10, 6);
        probe = nn.Linear(6, 2);
        head = nn.Linear(6, 3);
        RegisterComponents();
    }

    /// <summary>The side branch's last output (kept so that it is not optimised away).</summary>
    public Tensor? LastProbe { get; private set; }

    public override Tensor forward(Tensor x)
    {
        var h = nn.functional.relu(body.call(x.flatten(1)));
        LastProbe = probe.call(h);
        return head.call(h);
    }
}

/// <summary>A custom module built the common TorchSharp way, with <c>nn.Sequential</c>, which disposes its intermediate
/// results (the layers' inputs and outputs) before its forward pass returns.</summary>
public sealed class SequentialModule : nn.Module<Tensor, Tensor>
{
    private readonly Sequential body;

    public SequentialModule()
        : base(nameof(SequentialModule))
    {
        body = nn.Sequential(("flatten", nn.Flatten()), ("fc1", nn.Linear(10, 8)), ("relu", nn.ReLU()), ("fc2", nn.Linear(8, 3)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => body.call(x);
}
