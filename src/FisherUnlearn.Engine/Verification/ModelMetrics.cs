using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Unlearning;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Verification;

/// <summary>
/// The metrics of one model state for one removal, all fractions 0..1 (null when the set is empty):
/// <see cref="ForgetAccuracy"/> on held-out TEST samples of the forgotten labels (and, for sample requests, on the
/// forgotten training samples), <see cref="RetainAccuracy"/> on test samples of the labels the model knows minus the
/// forgotten, <see cref="TestAccuracy"/> on test samples of every label the model knows, and <see cref="Mia"/>, the
/// membership-inference rate on the forget set (<see cref="MembershipInference"/>), with <see cref="MiaAttackAccuracy"/>,
/// how well that attack tells the model's train samples from unseen ones (0.5 = chance, when the rate means little).
/// </summary>
public sealed record ModelMetrics(double? ForgetAccuracy, double? RetainAccuracy, double? TestAccuracy, double? Mia, int ForgetSamples, int RetainSamples, int TestSamples,
    double? MiaAttackAccuracy = null)
{
    /// <summary>Accuracy on the held-out TEST samples of the forgotten labels alone: what <c>maxForgetAccuracy</c> is
    /// checked on (null for a request without labels, or without such samples).</summary>
    public double? HeldOutForgetAccuracy { get; init; }

    /// <summary>Accuracy on the forgotten training samples alone (those of labels the model keeps), and how many.</summary>
    public double? ForgottenSampleAccuracy { get; init; }

    public int ForgottenSamples { get; init; }

    /// <summary>What the model scores on unseen samples of the forgotten samples' labels: each label's held-out accuracy,
    /// weighted by how many forgotten samples have it. A model that never saw the samples scores about this on them.</summary>
    public double? ForgottenLabelsHeldOutAccuracy { get; init; }

    /// <summary>The standard error of <see cref="ForgottenLabelsHeldOutAccuracy"/>, from the held-out samples it rests on
    /// (each label's accuracy smoothed as (k + 1) / (m + 2) over its m samples, weighted as the accuracy is); null when
    /// not measured (records written before it was).</summary>
    public double? ForgottenLabelsHeldOutError { get; init; }

    /// <summary>Whether the MIA rate was measured by an attack that separates members from non-members
    /// (<see cref="MembershipInference.InformativeAccuracy"/>); null when there is no rate or no attack accuracy.</summary>
    public bool? MiaInformative => MembershipInference.IsInformative(Mia, MiaAttackAccuracy);
}

/// <summary>Settings of <see cref="MetricsEvaluator"/>; every subset is seeded, so metrics are deterministic.</summary>
public sealed record MetricsOptions
{
    /// <summary>At most this many test samples per label for the accuracies.</summary>
    public int MaxTestPerLabel { get; init; } = 1000;

    /// <summary>At most this many retained train samples per label as the attack's members.</summary>
    public int MaxMembersPerLabel { get; init; } = 300;

    public int Seed { get; init; } = 17;
}

/// <summary>The sample sets of one model's metrics, built once and reused for every state of that model (before, after,
/// reference).</summary>
public sealed class MetricsEvaluator
{
    private readonly List<DataSplit> forgetTest;
    private readonly List<DataSplit> forgotten;
    private readonly List<DataSplit> forgetTrain;
    private readonly List<DataSplit> retain;
    private readonly List<DataSplit> members;
    private readonly int seed;

    public MetricsEvaluator(RemovalScope scope, SplitCache cache, MetricsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(cache);
        options ??= new MetricsOptions();
        seed = options.Seed;
        // The forget set: held-out samples of the forgotten labels, and the forgotten train samples themselves.
        forgetTest = RemovalData.Test(scope, cache, k => scope.ForgetLabelsOf(k.Dataset.Id), options.MaxTestPerLabel, options.Seed);
        forgotten = [.. scope.Knowledge.Where(k => scope.ForgetSamplesOf(k.Dataset.Id).Count > 0)
            .Select(k => RemovalData.ForgottenSamples(scope, k, cache.Get(k.Dataset, "train"))).Where(s => s.Count > 0)];
        retain = RemovalData.Test(scope, cache, scope.RetainLabels, options.MaxTestPerLabel, options.Seed);
        // A label request answered from the harvest needs no train data (design.md section 2), so train files deleted since
        // leave the accuracies measured on the test split and the attack, which needs train samples, unmeasured.
        TrainDataDeleted = !scope.HasForgetSamples && scope.Knowledge.Any(k => cache.TryGet(k.Dataset, "train") is null);
        if (TrainDataDeleted)
        {
            members = [];
            forgetTrain = [];
            return;
        }

        members = RemovalData.RetainTrain(scope, cache, options.MaxMembersPerLabel, options.Seed + 1000);
        // The attack's forget set, as SSD's (get_membership_attack_prob on the forget TRAIN loader): the forgotten train
        // data, which a model that still knows it calls members: a seeded subset of each forgotten label's train samples
        // (as many per label as members) and the forgotten samples. Held-out samples of a forgotten label were never
        // members of any model, so a rate on them cannot show what unlearning left behind.
        forgetTrain = RemovalData.ForgetTrain(scope, cache, options.MaxMembersPerLabel, options.Seed + 2000);
    }

    /// <summary>True when a train data file of the model's datasets no longer exists: the MIA rate is not measured.</summary>
    public bool TrainDataDeleted { get; }

    public ModelMetrics Measure(nn.Module<Tensor, Tensor> model)
    {
        var forgetTestOutputs = ModelEvaluator.Evaluate(model, forgetTest);
        var forgottenOutputs = ModelEvaluator.Evaluate(model, forgotten);
        var forgetOutputs = SampleOutputs.Concat(forgetTestOutputs, forgottenOutputs);
        var retainOutputs = ModelEvaluator.Evaluate(model, retain);
        // Every known label is retained or forgotten, and each label's test samples are the same seeded subset in both
        // sets: the test set is the retain set plus the forgotten labels' test samples, with no pass of its own.
        var testOutputs = SampleOutputs.Concat(retainOutputs, forgetTestOutputs);
        var attack = TrainDataDeleted ? null : MembershipInference.Attack(ModelEvaluator.Evaluate(model, members), retainOutputs, ModelEvaluator.Evaluate(model, forgetTrain), seed);
        var heldOut = HeldOutAccuracyOfLabels(forgottenOutputs, retainOutputs);
        return new ModelMetrics(forgetOutputs.Accuracy, retainOutputs.Accuracy, testOutputs.Accuracy, attack?.Rate,
            forgetOutputs.Count, retainOutputs.Count, testOutputs.Count, attack?.Accuracy)
        {
            HeldOutForgetAccuracy = forgetTestOutputs.Accuracy,
            ForgottenSampleAccuracy = forgottenOutputs.Accuracy,
            ForgottenSamples = forgottenOutputs.Count,
            ForgottenLabelsHeldOutAccuracy = heldOut?.Accuracy,
            ForgottenLabelsHeldOutError = heldOut?.Error,
        };
    }

    // Each label's accuracy among the held-out outputs, weighted by how often it occurs among the forgotten samples (as
    // calibration's sample target weighs them: UnlearningJob.ExpectedAccuracy), and its standard error: the weighted sum
    // of the labels' binomial variances (QA: a model a point weaker than usual on the test split was called to remember
    // 300 samples it never saw when this side counted as exact; on the demo it is about a third of the forgotten samples' side).
    internal static (double Accuracy, double Error)? HeldOutAccuracyOfLabels(SampleOutputs forgottenOutputs, SampleOutputs heldOut)
    {
        var labels = new List<(int Samples, double Accuracy)>();
        var variance = 0.0;
        foreach (var group in forgottenOutputs.Labels.GroupBy(l => l))
        {
            var positions = Enumerable.Range(0, heldOut.Count).Where(i => heldOut.Labels[i] == group.Key).ToList();
            if (positions.Count > 0)
            {
                var right = positions.Count(i => heldOut.Predictions[i] == group.Key);
                labels.Add((group.Count(), right / (double)positions.Count));
                var smoothed = (right + 1) / (positions.Count + 2.0);
                var weight = (double)group.Count();
                variance += weight * weight * smoothed * (1 - smoothed) / positions.Count;
            }
        }

        var total = labels.Sum(l => l.Samples);
        return UnlearningJob.ExpectedAccuracy(labels) is { } accuracy ? (accuracy, Math.Sqrt(variance) / total) : null;
    }
}
