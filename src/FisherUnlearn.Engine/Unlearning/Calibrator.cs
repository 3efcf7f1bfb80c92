using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Unlearning;

/// <summary>One evaluated setting of the calibration search.</summary>
/// <param name="Alpha">Selection threshold, or null for "no dampening".</param>
/// <param name="Lambda">Dampening constant, or null for "no dampening".</param>
/// <param name="HeadShift">Downward shift of the forgotten classes' output bias (0 = none).</param>
/// <param name="Selected">Weights the dampening selected.</param>
/// <param name="ForgetAccuracy">On the calibration slice's forget samples.</param>
/// <param name="RetainAccuracy">On the calibration slice's retained samples.</param>
public sealed record CalibrationPoint(double? Alpha, double? Lambda, double HeadShift, long Selected, double ForgetAccuracy, double RetainAccuracy)
{
    /// <summary>A request that forgets labels and samples of kept labels: the accuracy on the slice of those samples
    /// (null otherwise).</summary>
    public double? SampleAccuracy { get; init; }
}

/// <summary>The chosen setting, whether it meets the target, and how many settings were tried.</summary>
public sealed record CalibrationResult(CalibrationPoint Chosen, double Target, bool TargetMet, int Evaluated, double Seconds)
{
    /// <summary>Sample requests: the model's accuracy on held-out samples of the forgotten samples' labels, which the
    /// target is derived from (null otherwise).</summary>
    public double? HeldOutAccuracy { get; init; }

    /// <summary>"No dampening" as the search evaluated it (its slice accuracies), when the search ran; null for a fixed
    /// setting or a forget plan.</summary>
    public CalibrationPoint? Undampened { get; init; }

    /// <summary>A request that forgets labels and samples of kept labels: the target of the samples' slice, met with the
    /// labels' <see cref="Target"/> by every setting that counts as meeting (null otherwise).</summary>
    public double? SampleTarget { get; init; }

    /// <summary>With <see cref="SampleTarget"/>: the model's held-out accuracy on the samples' labels it derives from.</summary>
    public double? SampleHeldOutAccuracy { get; init; }

    /// <summary>Requests that forget samples: how much easier than unseen samples of their labels a probe trained without
    /// them finds them, which moves their target (null when the probe is off or had nothing to tell).</summary>
    public Verification.SampleDifficulty? Difficulty { get; init; }
}

/// <summary>
/// Per-model calibration of the dampening (docs/methods.md): evaluates "no dampening" and each (alpha, lambda) of the
/// grid on a small calibration slice (train samples of the forget set and of the retained labels), and keeps the gentlest
/// setting (best retain accuracy; then fewest selected weights) whose forget accuracy is at most the target. When no
/// setting reaches the target and the request forgets whole labels, each setting is combined with the smallest
/// downward shift of the forgotten classes' output bias that reaches it (computed exactly from the slice's logits; the
/// shift lowers only the forgotten classes' logits, so it can never turn a correct retained prediction into a
/// forgotten class), and the best of those is kept. A request that forgets labels and also samples of labels the model
/// keeps has a second slice, those samples, with a target of its own: a setting meets only when both slices do.
/// </summary>
public sealed class Calibrator : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> model;
    private readonly Dictionary<string, Tensor> original;
    private readonly (Tensor X, long[] Y) forget;
    private readonly (Tensor X, long[] Y) retain;
    private readonly (Tensor X, long[] Y) samples;
    private readonly HeadLayer? head;
    private readonly IReadOnlySet<int> forgetClasses;

    /// <param name="model">The model, holding its original weights (restored after every search).</param>
    /// <param name="forgetSlice">Forget samples: the forgotten labels' samples, or for a sample request its samples.</param>
    /// <param name="retainSlice">Samples of the labels the model keeps, minus the forgotten samples.</param>
    /// <param name="forgetClasses">The forgotten labels (the classes a head shift lowers).</param>
    /// <param name="sampleSlice">A request that forgets labels and samples: its forgotten samples of kept labels, held to
    /// the sample target of <see cref="Search"/>.</param>
    public Calibrator(nn.Module<Tensor, Tensor> model, IReadOnlyList<DataSplit> forgetSlice, IReadOnlyList<DataSplit> retainSlice, IReadOnlySet<int> forgetClasses,
        IReadOnlyList<DataSplit>? sampleSlice = null)
    {
        this.model = model;
        this.forgetClasses = forgetClasses;
        using var noGrad = torch.no_grad();
        original = model.named_parameters().ToDictionary(p => p.name, p => TensorCopies.Detached(p.parameter), StringComparer.Ordinal);
        forget = Stack(forgetSlice);
        retain = Stack(retainSlice);
        samples = Stack(sampleSlice ?? []);
        head = HeadLayer.Find(model);
    }

    /// <summary>Logits added to every computed head shift, at least (default 1).</summary>
    public double HeadMargin { get; init; } = 1.0;

    /// <summary>The margin added to a head shift is at least this many <see cref="TailScale"/>s (default 3).</summary>
    public double HeadTailMargin { get; init; } = 3.0;

    /// <summary>Order statistics the tail scale is estimated from (at most; a quarter of the samples when fewer).</summary>
    public const int TailSamples = 10;

    /// <summary>Stop evaluating a setting once it certainly cannot be chosen (default true). Off only to test that skipping
    /// never changes the choice.</summary>
    internal bool SkipHopeless { get; init; } = true;

    /// <summary>Bisections of alpha between a missing and a meeting setting, for sample requests (see Search).</summary>
    public int SampleRefinementSteps { get; init; } = 4;

    /// <summary>Slice rows evaluated so far (forward passes of the model), across every search.</summary>
    internal long RowsEvaluated { get; private set; }

    /// <summary>The final layer (weight and bias of the output units), or null when the model has no such layer.</summary>
    public HeadLayer? Head => head;

    /// <summary>Puts the original weights back.</summary>
    public void Restore()
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            parameter.copy_(original[name]);
        }
    }

    /// <summary>Restores the weights, then applies the setting: dampening (unless alpha is null) and the head shift.</summary>
    public DampeningStats Apply(CalibrationPoint point, FisherDiagonal importanceForget, FisherDiagonal importanceFull, Func<string, bool>? include)
    {
        Restore();
        return ApplySetting(model, point, importanceForget, importanceFull, include, forgetClasses);
    }

    /// <summary>Applies a setting to a model holding its original weights: the dampening (unless alpha is null), then
    /// the head shift. <see cref="Apply"/> and forget plans (which need no calibrator) share it.</summary>
    public static DampeningStats ApplySetting(nn.Module<Tensor, Tensor> model, CalibrationPoint point, FisherDiagonal importanceForget,
        FisherDiagonal importanceFull, Func<string, bool>? include, IReadOnlySet<int> forgetClasses)
    {
        ArgumentNullException.ThrowIfNull(point);
        var stats = point.Alpha is { } alpha && point.Lambda is { } lambda
            ? Dampener.Apply(model, importanceForget, importanceFull, alpha, lambda, include)
            : new DampeningStats(0, 0);
        if (point.HeadShift > 0 && HeadLayer.Find(model) is { } layer)
        {
            layer.ShiftDown(model, forgetClasses, point.HeadShift);
        }

        return stats;
    }

    /// <summary>
    /// Searches the grid on the calibration slice. "No dampening" is evaluated first; when it already meets the target
    /// nothing else is evaluated. Otherwise, per lambda, the alphas are tried from the largest down until one meets the
    /// target, skipping alphas that select no weight or the same weights as the alpha before (the selected sets are
    /// nested in alpha and beta does not depend on alpha, so those give a model already evaluated). Every evaluated
    /// setting also yields, from its logits and without another pass, its variant with the head correction. Each
    /// evaluation computes the setting's weights from the originals with the dampening's own arithmetic
    /// (<see cref="CandidateWeights"/>), so the model evaluated is, bit for bit, the model the setting makes. The slice is
    /// evaluated in chunks (<see cref="FirstChunkRows"/>, then <see cref="ChunkRows"/> rows), and a setting that misses the target without a shift stops as
    /// soon as it certainly cannot beat the best head-shifted setting so far (docs/methods.md, "What the search skips"):
    /// the choice is the one evaluating every setting in full would make. With a <paramref name="sampleTarget"/> (and the
    /// sample slice given to the constructor), a setting meets only when its accuracy on that slice is at most that target
    /// too, judged without the head shift (it moves those samples as it moves unseen ones of their labels: see Shifted).
    /// </summary>
    public CalibrationResult Search(FisherDiagonal importanceForget, FisherDiagonal importanceFull, Func<string, bool>? include,
        IEnumerable<(double Alpha, double Lambda)> grid, double target, string headCorrection, double tolerance = 0.01, double? sampleTarget = null)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var settings = grid.ToList();
        var candidates = new List<(CalibrationPoint Point, float[] ForgetLogits, float[] RetainLogits)>();
        var checksSamples = sampleTarget is not null && samples.Y.Length > 0;
        bool SamplesMeet(CalibrationPoint p) => p.SampleAccuracy is not { } accuracy || accuracy <= sampleTarget!.Value + 1e-12;
        var evaluated = 0;
        Restore(); // A calibrator may search again after Apply: every setting starts from the original weights.
        using var weights = new CandidateWeights(model, importanceForget, importanceFull, include);
        var canShift = head is not null && forgetClasses.Count > 0 && headCorrection != "off";

        // The best head-shifted setting so far (retain accuracy, selected weights), once "no dampening" is known to need a
        // shift. A setting that cannot beat it and does not meet the target without a shift cannot be chosen (docs/methods.md,
        // "What the search skips"), so its evaluation stops as soon as that is certain; it still counts as evaluated.
        (double Retain, long Selected)? leader = null;
        bool CannotBeatShifted(double retainUpperBound, long selected) => SkipHopeless && leader is { } best
            && (retainUpperBound < best.Retain || (retainUpperBound == best.Retain && selected > best.Selected));

        bool Evaluate(double? alpha, double? lambda)
        {
            evaluated++;
            var selected = weights.Write(alpha is { } a && lambda is { } l ? (a, l) : null);
            var missesTarget = false;
            var forgetLogits = Logits(forget.X, (soFar, rows) =>
            {
                // Correct forget rows only add up: past the target, the setting can only be chosen with a head shift.
                missesTarget = missesTarget || Correct(soFar, forget.Y, rows, 0) / (double)forget.Y.Length > target + 1e-12;
                return missesTarget && CannotBeatShifted(1.0, selected);
            });
            if (forgetLogits is null)
            {
                return false;
            }

            var forgetAccuracy = Accuracy(forgetLogits, forget.Y, 0);
            var sampleLogits = checksSamples ? Logits(samples.X, (_, _) => false) : null;
            double? sampleAccuracy = sampleLogits is null ? null : Accuracy(sampleLogits, samples.Y, 0); // without a head shift (Shifted)
            var samplesMeet = sampleAccuracy is not { } s || s <= sampleTarget!.Value + 1e-12;
            var meets = forgetAccuracy <= target + 1e-12 && samplesMeet;
            // Unless it meets the target, the setting's retain accuracy matters only through its head-shifted variant: stop
            // once even every remaining row correct could not lift that variant past the best one. A setting that misses the
            // samples' target has no such variant.
            var shift = !meets && leader is not null && samplesMeet ? ShiftFor(forgetLogits, target) : null;
            var retainLogits = Logits(retain.X, (soFar, rows) => !meets && leader is not null
                && (shift is not { } h || CannotBeatShifted((Correct(soFar, retain.Y, rows, h) + retain.Y.Length - rows) / (double)retain.Y.Length, selected)));
            if (retainLogits is null)
            {
                return false;
            }

            var point = new CalibrationPoint(alpha, lambda, 0, selected, forgetAccuracy, Accuracy(retainLogits, retain.Y, 0)) { SampleAccuracy = sampleAccuracy };
            candidates.Add((point, forgetLogits, retainLogits));
            var usableShifted = canShift && !meets && samplesMeet && target >= 0
                && WithShift(point, forgetLogits, retainLogits, target) is { HeadShift: > 0 } shifted && SamplesMeet(shifted) ? shifted : null;
            // With a sample target the search's course depends on which settings are usable, so no evaluation stops early
            // there: no leader is kept.
            if (!checksSamples && usableShifted is { } variant
                && (leader is not { } best || variant.RetainAccuracy > best.Retain || (variant.RetainAccuracy == best.Retain && selected < best.Selected)))
            {
                leader = (variant.RetainAccuracy, selected);
            }

            // A request with a sample target: the samples' target is what dampening must reach, the labels' a head shift
            // may, so a setting that reaches the samples' and the labels' with a shift is where the search for gentler
            // settings stops.
            return meets || (checksSamples && usableShifted is not null);
        }

        // Sample requests aim at the model's accuracy on unseen samples of the same labels, not at zero: a grid step from
        // "not yet" to "met" can overshoot it far (forget 39% for a target of 97%, and 10 retain points lost, measured on
        // the demo), so between the gentlest alpha that misses and the first that meets, the alpha is bisected
        // (geometrically) a few times; the gentlest setting that meets is still what is chosen.
        void Refine(double meets, double misses, double lambda)
        {
            for (var step = 0; step < SampleRefinementSteps; step++)
            {
                // The same selection is the same model (alpha only selects): move the bound without evaluating.
                var middle = Math.Sqrt(meets * misses);
                var count = weights.CountSelected(middle);
                if (count == weights.CountSelected(meets))
                {
                    meets = middle;
                }
                else if (count == weights.CountSelected(misses))
                {
                    misses = middle;
                }
                else if (Evaluate(middle, lambda))
                {
                    meets = middle;
                }
                else
                {
                    misses = middle;
                }
            }
        }

        var baseMeets = Evaluate(null, null);
        if (!baseMeets && target >= 0)
        {
            // Per lambda, the alphas from the gentlest (largest) down, stopping at the first that meets the target. Forget
            // accuracy is not monotone in alpha (dampening more weights can bring a forgotten class back: measured in
            // CalibratorTests), so no bisection. An alpha that selects nothing is "no dampening", and one that selects
            // the same weights as a larger alpha (the sets are nested) gives the same model: neither is evaluated.
            var alphas = settings.Select(g => g.Alpha).Distinct().OrderByDescending(a => a).ToList();
            var selections = alphas.ToDictionary(a => a, weights.CountSelected);
            foreach (var lambda in settings.Select(g => g.Lambda).Distinct().Order())
            {
                long previous = 0;
                double? gentlerMiss = null;
                foreach (var alpha in alphas.Where(a => settings.Contains((a, lambda))))
                {
                    var selected = selections[alpha];
                    if (selected == previous)
                    {
                        continue;
                    }

                    previous = selected;
                    if (Evaluate(alpha, lambda))
                    {
                        if ((forgetClasses.Count == 0 || checksSamples) && gentlerMiss is { } miss)
                        {
                            Refine(alpha, miss, lambda);
                        }

                        break;
                    }

                    gentlerMiss = alpha;
                }
            }
        }
        else if (target < 0)
        {
            foreach (var (alpha, lambda) in settings)
            {
                Evaluate(alpha, lambda);
            }
        }

        Restore();
        var meeting = candidates.Where(c => c.Point.ForgetAccuracy <= target + 1e-12 && SamplesMeet(c.Point)).Select(c => c.Point).ToList();
        // (When "no dampening" meets without a shift, it is the only candidate and needs none: nothing is added.)
        var allShifted = canShift
            ? candidates.Select(c => WithShift(c.Point, c.ForgetLogits, c.RetainLogits, target)).OfType<CalibrationPoint>().Where(p => p.HeadShift > 0).ToList()
            : [];
        var shifted = allShifted.Where(SamplesMeet).ToList();
        CalibrationPoint? chosen;
        if (headCorrection == "always")
        {
            chosen = Gentlest(shifted) ?? Gentlest(meeting);
        }
        else
        {
            // Weight-level forgetting (dampening alone) is preferred while it keeps retain accuracy within the tolerance
            // of the best setting found with the head correction.
            var bestShifted = Gentlest(shifted);
            var bestDampened = Gentlest(meeting);
            chosen = bestDampened is not null && (bestShifted is null || bestDampened.RetainAccuracy >= bestShifted.RetainAccuracy - tolerance)
                ? bestDampened
                : bestShifted;
        }

        var met = chosen is not null;
        if (met && canShift && chosen!.HeadShift == 0 && target >= 0
            && candidates.FirstOrDefault(c => ReferenceEquals(c.Point, chosen)) is { ForgetLogits: { } forgetLogits, RetainLogits: { } retainLogits }
            && WithMargin(chosen, forgetLogits, retainLogits, target) is var withMargin)
        {
            chosen = withMargin;
        }

        // Nothing meets: the closest setting. With a sample target the head-shifted variants count too (they may meet the
        // labels' target while no setting meets the samples').
        chosen ??= checksSamples
            ? Closest(candidates.Select(c => c.Point).Concat(allShifted), target, sampleTarget)
            : Closest(candidates.Select(c => c.Point));
        return new CalibrationResult(chosen, target, met, evaluated, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds)
        {
            Undampened = candidates.Select(c => c.Point).FirstOrDefault(p => p.Alpha is null),
            SampleTarget = checksSamples ? sampleTarget : null,
        };
    }

    /// <summary>When no setting meets the target: the one closest to it (lowest slice forget accuracy, then best slice
    /// retain accuracy); the first of equals.</summary>
    internal static CalibrationPoint Closest(IEnumerable<CalibrationPoint> points) =>
        points.OrderBy(p => p.ForgetAccuracy).ThenByDescending(p => p.RetainAccuracy).First();

    /// <summary>When no setting meets both targets: the labels come first. The setting that misses the labels' target by
    /// the least, then the samples' target by the least, then the best retain accuracy; the first of equals.</summary>
    internal static CalibrationPoint Closest(IEnumerable<CalibrationPoint> points, double target, double? sampleTarget) =>
        points.OrderBy(p => Math.Max(0, p.ForgetAccuracy - target))
            .ThenBy(p => sampleTarget is { } t && p.SampleAccuracy is { } a ? Math.Max(0, a - t) : 0)
            .ThenByDescending(p => p.RetainAccuracy).First();

    private static CalibrationPoint? Gentlest(IEnumerable<CalibrationPoint> points) =>
        points.OrderByDescending(p => p.RetainAccuracy).ThenBy(p => p.Selected).ThenBy(p => p.HeadShift).FirstOrDefault();

    // The setting with the smallest head shift that brings the slice's forget accuracy to the target, or null.
    private CalibrationPoint? WithShift(CalibrationPoint point, float[] forgetLogits, float[] retainLogits, double target)
    {
        if (ShiftFor(forgetLogits, target) is not { } shift)
        {
            return null;
        }

        return shift <= 0 ? point : Shifted(point, shift, forgetLogits, retainLogits);
    }

    // The point with the head shift, its slice accuracies recomputed from the logits. The forgotten samples of kept labels
    // keep their accuracy without the shift: lowering the forgotten classes' logits raises a sample's accuracy exactly when
    // the model took it for a forgotten class, which it does as often for unseen samples of that label, and the samples'
    // target is an accuracy on unseen samples without the shift; judged with it, a model that mistook many forgotten 7s
    // for the forgotten 3 rose above that target under any shift and had to be dampened instead (the demo's transfer head:
    // retain 66.8% against the retrained 78.0%). What the model remembers of them lives in the weights the dampening selects.
    private CalibrationPoint Shifted(CalibrationPoint point, double shift, float[] forgetLogits, float[] retainLogits) => point with
    {
        HeadShift = shift,
        ForgetAccuracy = Accuracy(forgetLogits, forget.Y, shift),
        RetainAccuracy = Accuracy(retainLogits, retain.Y, shift),
    };

    // A setting that meets the target without a head shift (dampening alone, or the model as it is) gets the margin a
    // shifted one has: the forgotten classes' logits are lowered until the slice's most confident forgotten sample that
    // must stay unrecognised is the margin below recognition (ShiftMargin), when it is not already. Free for retained
    // accuracy, as every shift; on `star` trained with seeds + 200 (docs/benchmarks.md), s0's dampening alone met the
    // slice (0 of 200 zeros) and kept 3 of 200 held-out zeros (1.5% > 1%).
    private CalibrationPoint WithMargin(CalibrationPoint point, float[] forgetLogits, float[] retainLogits, double target)
    {
        var classes = classCount;
        var needs = new List<double>();
        for (var i = 0; i < forget.Y.Length; i++)
        {
            var y = (int)forget.Y[i];
            if (forgetClasses.Contains(y))
            {
                needs.Add(forgetLogits[(i * classes) + y] - BestOther(forgetLogits.AsSpan(i * classes, classes)));
            }
        }

        var keep = (int)Math.Floor(target * forget.Y.Length + 1e-9);
        if (needs.Count <= keep)
        {
            return point;
        }

        needs.Sort();
        needs.Reverse();
        var shift = RoundedShift(needs, keep);
        return shift <= 0 ? point : Shifted(point, shift, forgetLogits, retainLogits);
    }

    // The largest logit of a class the removal does not forget.
    private double BestOther(ReadOnlySpan<float> row)
    {
        var best = double.NegativeInfinity;
        for (var j = 0; j < row.Length; j++)
        {
            if (!forgetClasses.Contains(j))
            {
                best = Math.Max(best, row[j]);
            }
        }

        return best;
    }

    // The smallest shift that brings the slice's forget accuracy to the target (exact on the logits; 0 when none is
    // needed), or null when no shift can (forgotten samples of retained labels are still recognised).
    private double? ShiftFor(float[] forgetLogits, double target)
    {
        var classes = classCount;
        var allowed = (int)Math.Floor(target * forget.Y.Length + 1e-9);
        var needs = new List<double>();
        var stuck = 0;
        for (var i = 0; i < forget.Y.Length; i++)
        {
            var row = forgetLogits.AsSpan(i * classes, classes);
            var y = (int)forget.Y[i];
            if (Argmax(row) != y)
            {
                continue;
            }

            if (!forgetClasses.Contains(y))
            {
                stuck++; // A forgotten sample of a retained label: the head shift cannot change it.
                continue;
            }

            needs.Add(row[y] - BestOther(row));
        }

        if (stuck > allowed)
        {
            return null;
        }

        needs.Sort();
        needs.Reverse();
        var keep = allowed - stuck;
        if (needs.Count <= keep)
        {
            return 0;
        }

        // The margin costs no retained accuracy (the shift only lowers forgotten classes' logits) and covers held-out
        // samples more confident than the slice's: at least HeadMargin logits, and HeadTailMargin tail scales, so that a
        // model whose confidence spreads wide (a long-trained one: shifts of 27-38 logits) gets a margin in proportion
        // (docs/methods.md, step 3). Rounded up to a grid of ShiftGrid: libtorch's float sums (and so the logits) can
        // differ in their last bits with the number of threads, and the shift must not, or the same inputs would give
        // different bytes with --threads 1 and 2.
        return RoundedShift(needs, keep);
    }

    // needs[keep] plus the margin, rounded up to the shift grid.
    private double RoundedShift(List<double> needs, int keep) =>
        Math.Ceiling((needs[keep] + 1e-3 + (Math.Abs(needs[keep]) * 1e-4) + ShiftMargin(needs, keep, HeadMargin, HeadTailMargin)) * ShiftGrid) / ShiftGrid;

    /// <summary>
    /// The margin past the shift's threshold <paramref name="descending"/>[<paramref name="keep"/>] (the forget slice's
    /// needs, sorted largest first; the <paramref name="keep"/> largest may stay recognised): at least
    /// <paramref name="headMargin"/> logits, and <paramref name="tailMargin"/> tail scales, the scale taken both from the
    /// threshold down and from the very top, whichever is larger. The samples the target lets stay above the threshold
    /// are the slice's strongest evidence of a long tail: on a chain model (`chain` trained with seeds + 100,
    /// `forget-0-1`, c1) the slice's most confident zero stood 2.3 logits above the next one, whose ten neighbours lay
    /// within 0.6 logits; the scale from the threshold alone was 0.19, the margin the minimum 1 logit, and 5 of 425
    /// held-out samples stayed recognised (1.2%); from the top the scale is 0.43 (docs/methods.md, step 3).
    /// </summary>
    internal static double ShiftMargin(IReadOnlyList<double> descending, int keep, double headMargin, double tailMargin) =>
        Math.Max(headMargin, tailMargin * Math.Max(TailScale(descending, 0), TailScale(descending, keep)));

    /// <summary>
    /// The scale of the upper tail of <paramref name="descending"/> (sorted largest first) from index
    /// <paramref name="from"/>: the mean excess of its k largest values over the next one (k = <see cref="TailSamples"/>,
    /// or a quarter of the values when fewer; 0 with fewer than 8). For an exponential tail this estimates its scale, so a
    /// new value lies beyond the largest by more than m scales with a probability of about e^-m / (n + 1).
    /// </summary>
    internal static double TailScale(IReadOnlyList<double> descending, int from)
    {
        var k = Math.Min(TailSamples, (descending.Count - from) / 4);
        if (k < 2)
        {
            return 0;
        }

        var sum = 0.0;
        for (var i = from; i < from + k; i++)
        {
            sum += descending[i];
        }

        return Math.Max(0, (sum / k) - descending[from + k]);
    }

    /// <summary>Head shifts are multiples of 1/ShiftGrid logits (exact in binary floating point).</summary>
    public const double ShiftGrid = 64;

    /// <summary>Rows per forward pass of the calibration slice after the first. Every setting is evaluated in these same
    /// chunks, so its logits are the same bits whether or not its evaluation stops early.</summary>
    public const int ChunkRows = 64;

    /// <summary>Rows of the first forward pass: a setting that keeps the forgotten classes usually shows it within a few
    /// rows, and then the rest of the slice is not needed (<see cref="Search"/>).</summary>
    public const int FirstChunkRows = 16;

    // The model's logits on x: FirstChunkRows rows, then up to ChunkRows rows at a time on ChunkRows boundaries. After
    // each chunk, stop(logits so far, rows done) may end the evaluation: then null.
    private float[]? Logits(Tensor x, Func<float[], int, bool> stop)
    {
        var rows = (int)x.shape[0];
        if (rows == 0)
        {
            return [];
        }

        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            float[]? logits = null;
            for (var start = 0; start < rows;)
            {
                using var scope = torch.NewDisposeScope();
                var length = Math.Min(start == 0 ? FirstChunkRows : ChunkRows - (start % ChunkRows), rows - start);
                var output = model.call(x.narrow(0, start, length));
                RowsEvaluated += length;
                classCount = (int)output.shape[1];
                logits ??= new float[checked(rows * classCount)];
                TensorMemory.ToArray<float>(output.to_type(ScalarType.Float32)).CopyTo(logits, start * classCount);
                start += length;
                if (start < rows && stop(logits, start))
                {
                    return null;
                }
            }

            return logits;
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private int classCount;

    private double Accuracy(float[] logits, long[] labels, double shift) =>
        labels.Length == 0 ? 0 : Correct(logits, labels, labels.Length, shift) / (double)labels.Length;

    // How many of the first `rows` rows are predicted as their label, with the forgotten classes' logits lowered by shift.
    private int Correct(float[] logits, long[] labels, int rows, double shift)
    {
        var classes = classCount;
        var correct = 0;
        for (var i = 0; i < rows; i++)
        {
            var row = logits.AsSpan(i * classes, classes);
            var best = 0;
            var bestValue = double.NegativeInfinity;
            for (var j = 0; j < classes; j++)
            {
                var v = forgetClasses.Contains(j) ? row[j] - shift : row[j];
                if (v > bestValue)
                {
                    bestValue = v;
                    best = j;
                }
            }

            if (best == labels[i])
            {
                correct++;
            }
        }

        return correct;
    }

    private static int Argmax(ReadOnlySpan<float> row)
    {
        var best = 0;
        for (var j = 1; j < row.Length; j++)
        {
            if (row[j] > row[best])
            {
                best = j;
            }
        }

        return best;
    }

    private static (Tensor X, long[] Y) Stack(IReadOnlyList<DataSplit> parts)
    {
        var tensors = new List<Tensor>();
        var labels = new List<long>();
        foreach (var part in parts)
        {
            var (x, y) = part.ToTensors();
            tensors.Add(x);
            labels.AddRange(TensorMemory.ToArray<long>(y));
            y.Dispose();
        }

        if (tensors.Count == 0)
        {
            return (torch.zeros(0), []);
        }

        var stacked = SampleStack.Cat(parts, tensors);
        if (tensors.Count > 1)
        {
            tensors.ForEach(t => t.Dispose());
        }

        return (stacked, [.. labels]);
    }

    public void Dispose()
    {
        foreach (var tensor in original.Values)
        {
            tensor.Dispose();
        }

        forget.X.Dispose();
        retain.X.Dispose();
        samples.X.Dispose();
    }
}

/// <summary>The output layer: the last 1-D bias with one entry per output unit and its 2-D weight.</summary>
public sealed record HeadLayer(string WeightName, string BiasName, int Classes)
{
    public static HeadLayer? Find(nn.Module<Tensor, Tensor> model)
    {
        var parameters = model.named_parameters().ToList();
        for (var i = parameters.Count - 1; i >= 0; i--)
        {
            var (name, p) = parameters[i];
            if (name.EndsWith("bias", StringComparison.Ordinal) && p.dim() == 1)
            {
                var weightName = name[..^"bias".Length] + "weight";
                var weight = parameters.FirstOrDefault(q => q.name == weightName);
                return weight.parameter is not null && weight.parameter.dim() == 2 && weight.parameter.shape[0] == p.shape[0]
                    ? new HeadLayer(weightName, name, (int)p.shape[0])
                    : null;
            }
        }

        return null;
    }

    /// <summary>Subtracts <paramref name="shift"/> from the bias of each class in <paramref name="classes"/>.</summary>
    public void ShiftDown(nn.Module<Tensor, Tensor> model, IEnumerable<int> classes, double shift)
    {
        using var noGrad = torch.no_grad();
        using var heldShift = shift.ToScalar(); // Held past every native call (docs/engine-notes.md).
        var bias = model.named_parameters().First(p => p.name == BiasName).parameter;
        foreach (var c in classes.Where(c => c >= 0 && c < Classes))
        {
            using var entry = bias[c]; // a view: held past sub_ (docs/engine-notes.md)
            entry.sub_(heldShift);
        }
    }
}
