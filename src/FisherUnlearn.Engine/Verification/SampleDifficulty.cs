using System.Globalization;
using System.Text.Json.Nodes;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Engine.Unlearning;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Verification;

/// <summary>
/// How much easier (or harder) a request's forgotten samples are than unseen samples of their labels, as a model that
/// never saw them tells: a linear probe (softmax regression on standardised features) trained on the model's kept
/// training samples, without the forgotten ones, scores the forgotten samples and held-out samples of their labels, label
/// by label. A model that never saw the samples scores them about its held-out accuracy moved by the same difference in
/// log-odds (<see cref="Expected"/>): QA's model trained 40 epochs on 500 digits scored 86.7% held out, the retrained one
/// 92.7% on the 150 forgotten digits (the first 150 of the train split, cleaner than most), and the probe 88.0% against
/// 82.4%. The difference is taken in log-odds, not points, so that it moves an accuracy near 0% or 100% as little as it
/// can move there: 10 points off a probe at 90% would take a model at 4% below 0 (found in QA). A probe is cheaper than
/// any retraining and learns only what is linear in the features, so it sees part of the gap; where it learns little,
/// its shift is near 0 and the target is the held-out accuracy as before.
/// </summary>
/// <param name="ProbeOnSamples">The probe's accuracy on the forgotten samples.</param>
/// <param name="ProbeHeldOut">Its held-out accuracy on their labels, weighted by how many of them have each label.</param>
/// <param name="Samples">The forgotten samples it scored.</param>
/// <param name="HeldOutSamples">The held-out samples it scored.</param>
public sealed record SampleDifficulty(double ProbeOnSamples, double ProbeHeldOut, int Samples, int HeldOutSamples)
{
    /// <summary>At most this many kept training samples of each label the probe learns from ...</summary>
    public const int PerLabel = 500;

    /// <summary>... and at most this many in all (a dataset of many classes gets fewer per label, at least
    /// <see cref="MinPerLabel"/>).</summary>
    public const int MaxSamples = 20_000;

    /// <summary>The fewest per label when <see cref="MaxSamples"/> divides among many.</summary>
    public const int MinPerLabel = 20;

    /// <summary>The most weights (features x classes) a probe may have: a dataset with more has no probe, and its
    /// samples keep the target of held-out accuracy (MNIST: 7,840; the limit: 40 MB of weights, three times that with
    /// Adam's moments).</summary>
    public const long MaxWeights = 10_000_000;

    /// <summary>Passes of Adam over its samples.</summary>
    public const int Epochs = 20;

    // The offset of the probe's seed from the removal's (run and verify draw the same samples).
    private const int SeedOffset = 7919;

    private const int BatchSize = 128;
    private const double LearningRate = 0.01;

    /// <summary>Fewer forgotten samples than this tell nothing of their difficulty (one sample the probe gets right would
    /// move a target by 10 points): the probe measures none.</summary>
    public const int MinSamples = 30;

    /// <summary>How much higher the log-odds of the probe's accuracy on the samples are than on unseen ones, each rate
    /// smoothed as (k + 1) / (n + 2).</summary>
    public double LogOddsShift => Logit(Smoothed(ProbeOnSamples, Samples)) - Logit(Smoothed(ProbeHeldOut, HeldOutSamples));

    /// <summary>What a model that never saw the samples scores on them: its held-out accuracy on their labels, with the
    /// log-odds moved by <see cref="LogOddsShift"/>.</summary>
    public double Expected(double heldOut)
    {
        var clamped = Math.Clamp(heldOut, 1e-6, 1 - 1e-6);
        return 1 / (1 + Math.Exp(-(Logit(clamped) + LogOddsShift)));
    }

    /// <summary>How many points <see cref="Expected"/> moves <paramref name="heldOut"/> (negative: harder samples).</summary>
    public double ShiftOf(double heldOut) => Expected(heldOut) - heldOut;

    public JsonObject ToJson() => new()
    {
        ["probeOnSamples"] = Math.Round(ProbeOnSamples, 6),
        ["probeHeldOut"] = Math.Round(ProbeHeldOut, 6),
        ["logOddsShift"] = Math.Round(LogOddsShift, 6),
        ["samples"] = Samples,
        ["heldOutSamples"] = HeldOutSamples,
    };

    /// <summary>A shift in words: "plus 5.6 points", "minus 0.6 points".</summary>
    public static string Points(double shift) =>
        string.Create(CultureInfo.InvariantCulture, $"{(shift >= 0 ? "plus" : "minus")} {100 * Math.Abs(shift):0.0} points");

    private static double Smoothed(double rate, int n) => ((rate * n) + 1) / (n + 2.0);

    private static double Logit(double p) => Math.Log(p / (1 - p));

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"a linear probe trained without them scores them {100 * ProbeOnSamples:0.0}%, unseen ones {100 * ProbeHeldOut:0.0}%");

    /// <summary>
    /// Trains a probe per dataset that holds forgotten samples of labels the model keeps and measures them; null when
    /// fewer than <see cref="MinSamples"/> of them are of a dataset with a test split. Deterministic: the probe starts at
    /// zero, its samples and their order are seeded.
    /// </summary>
    public static SampleDifficulty? Measure(RemovalScope scope, SplitCache splits, UnlearnSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(splits);
        ArgumentNullException.ThrowIfNull(settings);
        var seed = settings.Seed + SeedOffset;
        var measurable = scope.Knowledge.Where(k => k.Dataset.Test is not null)
            .Select(k => (Knowledge: k, Train: splits.Get(k.Dataset, "train")))
            .Select(d => (d.Knowledge, d.Train, Forgotten: RemovalData.ForgottenSamples(scope, d.Knowledge, d.Train)))
            .Where(d => d.Forgotten.Count > 0)
            .ToList();
        if (measurable.Sum(d => d.Forgotten.Count) < MinSamples)
        {
            return null;
        }

        var labels = new List<(int Samples, double OnSamples, double HeldOut, int HeldOutSamples)>();
        foreach (var (k, train, forgotten) in measurable)
        {
            if ((long)train.FeatureSize * k.Dataset.Classes > MaxWeights)
            {
                continue;
            }

            var test = splits.Get(k.Dataset, "test");
            var kept = train.WhereSourceIndexNotIn(scope.ForgetSamplesOf(k.Dataset.Id));
            var known = scope.RetainLabels(k).Order().ToList();
            var perLabel = Math.Clamp(MaxSamples / Math.Max(1, known.Count), MinPerLabel, PerLabel);
            var learn = known.Select(label => kept.RandomSubsetOfLabel(label, perLabel, seed + label)).Where(p => p.Count > 0).ToList();
            if (learn.Count == 0)
            {
                continue;
            }

            using var probe = Probe.Train(learn, k.Dataset.Classes, seed, cancellationToken);
            foreach (var label in forgotten.Labels.GroupBy(l => (int)l).OrderBy(g => g.Key))
            {
                var heldOut = test.WhereLabelIn([label.Key]);
                if (heldOut.Count > 0)
                {
                    labels.Add((label.Count(), probe.Accuracy(forgotten.WhereLabelIn([label.Key])), probe.Accuracy(heldOut), heldOut.Count));
                }
            }
        }

        var total = labels.Sum(l => l.Samples);
        return total < MinSamples ? null
            : new SampleDifficulty(labels.Sum(l => l.Samples * l.OnSamples) / total, labels.Sum(l => l.Samples * l.HeldOut) / total, total,
                labels.Sum(l => l.HeldOutSamples));
    }

    /// <summary>Softmax regression on features standardised by the training samples' mean and deviation.</summary>
    private sealed class Probe : IDisposable
    {
        private readonly Tensor mean;
        private readonly Tensor scale;
        private readonly Tensor weight;
        private readonly Tensor bias;

        private Probe(Tensor mean, Tensor scale, Tensor weight, Tensor bias)
        {
            this.mean = mean;
            this.scale = scale;
            this.weight = weight;
            this.bias = bias;
        }

        public static Probe Train(IReadOnlyList<DataSplit> parts, int classes, int seed, CancellationToken cancellationToken)
        {
            using var outer = torch.NewDisposeScope();
            using var enableGrad = torch.enable_grad();
            var tensors = parts.Select(p => p.ToTensors()).ToList();
            var x = torch.cat(tensors.Select(t => t.Features.flatten(1)).ToList(), 0);
            var y = torch.cat(tensors.Select(t => t.Labels).ToList(), 0);
            var mean = x.mean([0L], keepdim: true);
            // Constant features (a border pixel that is always 0) keep a deviation of 1, so they stay 0.
            var deviation = x.std(0, keepdim: true);
            using var floor = 1e-6.ToScalar(); // held: no temporary Scalar reaches libtorch (docs/engine-notes.md)
            var scale = torch.where(deviation.gt(floor), deviation, torch.ones_like(deviation));
            var standardised = x.sub(mean).div(scale);
            var features = standardised.shape[1];
            var weight = torch.zeros(features, classes).requires_grad_();
            var bias = torch.zeros(classes).requires_grad_();
            var parameters = new[] { new TorchSharp.Modules.Parameter(weight), new TorchSharp.Modules.Parameter(bias) };
            using (var optimizer = StepOptimizer.Adam(parameters, LearningRate, 0))
            {
                var n = (int)standardised.shape[0];
                for (var epoch = 0; epoch < Epochs; epoch++)
                {
                    var order = Array.ConvertAll(DataSplit.Shuffled(n, ModelTrainer.EpochSeed(seed, epoch)), i => (long)i);
                    for (var start = 0; start < n; start += BatchSize)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        using var step = torch.NewDisposeScope();
                        var at = torch.tensor(order.AsSpan(start, Math.Min(BatchSize, n - start)).ToArray());
                        optimizer.ZeroGrad();
                        var logits = standardised.index_select(0, at).matmul(parameters[0]).Plus(parameters[1]); // held alpha: add(Tensor) passes a temporary Scalar (HeldScalars)
                        nn.functional.cross_entropy(logits, y.index_select(0, at)).backward();
                        optimizer.Step();
                    }
                }
            }

            return new Probe(mean.MoveToOuterDisposeScope(), scale.MoveToOuterDisposeScope(),
                parameters[0].detach().MoveToOuterDisposeScope(), parameters[1].detach().MoveToOuterDisposeScope());
        }

        public double Accuracy(DataSplit part)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var (features, labels) = part.ToTensors();
            var predicted = features.flatten(1).sub(mean).div(scale).matmul(weight).Plus(bias).argmax(1);
            return predicted.eq(labels).to_type(ScalarType.Float64).mean().item<double>();
        }

        public void Dispose()
        {
            mean.Dispose();
            scale.Dispose();
            weight.Dispose();
            bias.Dispose();
        }
    }
}
