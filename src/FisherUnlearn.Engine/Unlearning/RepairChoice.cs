namespace FisherUnlearn.Engine.Unlearning;

/// <summary>A repaired setting as step 5 judged it (docs/methods.md): its place in the record's <c>tried</c>, the
/// dampening and the anchor's weight it was repaired with, the resulting setting, whether it meets the target of its own
/// held-out accuracy (with <c>sampleBaseline</c> "repaired"; else the original's) and the original model's target, each
/// while keeping the retained accuracy, and that held-out accuracy (null: not measured).</summary>
internal sealed record RepairTrial(int Index, double Alpha, double Lambda, double Anchor, CalibrationPoint Point, DampeningStats Stats,
    bool MeetsOwnTarget, bool MeetsOriginalTarget, double? HeldOutLevel);

/// <summary>Keeps the weights of repaired settings while others are tried: <see cref="Hold"/> copies the model's weights
/// (those of the trial just made or restored), <see cref="Restore"/> puts a held trial's back.</summary>
internal interface IRepairWeights
{
    void Hold(RepairTrial trial);

    void Restore(RepairTrial trial);
}

/// <summary>What the repair keeps (<see cref="RepairChoice.Choose"/>), with the target it was kept by (null with
/// <c>sampleBaseline</c> "original") and, when a gentler setting was preferred to it, the first that met its own.</summary>
internal sealed record RepairKept(RepairTrial Trial, string? By, int? OwnTargetTried);

/// <summary>
/// Which repaired setting step 5 keeps (docs/methods.md), apart from running them. The ladder's settings are tried in
/// order. With <c>sampleBaseline</c> "original" the first that meets its target is kept. With "repaired" the first that
/// meets the target of its own held-out accuracy is kept, after <see cref="Refinements"/> geometric
/// bisections of the dampening between it and the gentler setting tried before it (along alpha or lambda, whichever the
/// ladder moved; the gentlest that meets is kept), unless a gentler setting met the original model's target and scores
/// unseen samples of the labels better by more than the tolerance; when none meets its own, the first that met the
/// original's. The model holds the kept setting's weights on return; null: nothing is kept.
/// </summary>
internal static class RepairChoice
{
    /// <summary>Bisects geometrically between a value that misses and one that meets, <paramref name="steps"/> times,
    /// moving the bound each middle falls on; returns the value nearest the missing one that met.</summary>
    public static double Bisect(double miss, double meet, int steps, Func<double, bool> meets)
    {
        for (var step = 0; step < steps; step++)
        {
            var middle = Math.Sqrt(miss * meet);
            if (meets(middle))
            {
                meet = middle;
            }
            else
            {
                miss = middle;
            }
        }

        return meet;
    }

    /// <summary>Bisections of the dampening between a missing and the first meeting repaired setting, with
    /// <c>sampleBaseline</c> "repaired".</summary>
    public const int Refinements = 3;

    /// <param name="ladder">The settings to try (alpha, lambda, the anchor's weight), gentlest first.</param>
    /// <param name="tryOne">Dampens from the original weights, repairs and judges one setting (the last argument: whether
    /// it is a bisection); the model holds its weights after.</param>
    /// <param name="ownTargets">Whether settings are held to their own held-out accuracy's target (and it is measured).</param>
    /// <param name="tolerance">How much better a gentler setting must score unseen samples to be preferred.</param>
    /// <param name="refinements">Bisections between the first that meets its own and the gentler one before it.</param>
    /// <param name="weights">Holds trials' weights while others are tried.</param>
    public static RepairKept? Choose(IEnumerable<(double Alpha, double Lambda, double Anchor)> ladder, Func<double, double, double, bool, RepairTrial> tryOne,
        bool ownTargets, double tolerance, int refinements, IRepairWeights weights)
    {
        RepairTrial? previous = null;
        RepairTrial? meetsOriginal = null; // the first that met the original model's target
        foreach (var (alpha, lambda, anchor) in ladder)
        {
            var trial = tryOne(alpha, lambda, anchor, false);
            if (trial.MeetsOwnTarget)
            {
                if (!ownTargets)
                {
                    return new RepairKept(trial, null, null);
                }

                var own = Refine(previous, trial, tryOne, refinements, weights);
                if (meetsOriginal is { HeldOutLevel: { } originalLevel } && own.HeldOutLevel is { } ownLevel && originalLevel > ownLevel + tolerance)
                {
                    // Holding the samples to the lower level would cost what the repair is for (500-digit MLPs: retain
                    // 75.8% against the retrained 84.7%, where the gentler setting kept 83.9%).
                    weights.Restore(meetsOriginal);
                    return new RepairKept(meetsOriginal, UnlearnSettings.BaselineOriginal, own.Index);
                }

                return new RepairKept(own, UnlearnSettings.BaselineRepaired, null);
            }

            if (ownTargets && meetsOriginal is null && trial.MeetsOriginalTarget)
            {
                weights.Hold(trial);
                meetsOriginal = trial;
            }

            previous = trial;
        }

        if (meetsOriginal is null)
        {
            return null;
        }

        // No setting's samples are as close to unseen ones as its own held-out accuracy asks (a memorising model's held-out
        // accuracy is not given back by a short repair: its samples stay ahead however it is dampened).
        weights.Restore(meetsOriginal);
        return new RepairKept(meetsOriginal, UnlearnSettings.BaselineOriginal, null);
    }

    // Between the gentler setting tried before (which missed) and the first that meets, the dampening is bisected at the
    // meeting setting's anchor; the gentlest setting that meets is returned, and the model left holding it.
    private static RepairTrial Refine(RepairTrial? gentler, RepairTrial meets, Func<double, double, double, bool, RepairTrial> tryOne, int refinements,
        IRepairWeights weights)
    {
        if (gentler is null || (gentler.Alpha == meets.Alpha) == (gentler.Lambda == meets.Lambda))
        {
            return meets; // the anchor alone changed (or both did): no dampening to bisect
        }

        var alongLambda = gentler.Alpha == meets.Alpha;
        var best = meets;
        weights.Hold(meets);
        Bisect(alongLambda ? gentler.Lambda : gentler.Alpha, alongLambda ? meets.Lambda : meets.Alpha, refinements, middle =>
        {
            var trial = alongLambda ? tryOne(meets.Alpha, middle, meets.Anchor, true) : tryOne(middle, meets.Lambda, meets.Anchor, true);
            if (trial.MeetsOwnTarget)
            {
                weights.Hold(trial);
                best = trial;
            }

            return trial.MeetsOwnTarget;
        });
        weights.Restore(best);
        return best;
    }
}
