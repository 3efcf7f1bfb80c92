using FisherUnlearn.Engine.Unlearning;

namespace FisherUnlearn.Engine.Tests.Unlearning;

/// <summary>
/// Which repaired setting step 5 keeps (docs/methods.md, <c>sampleBaseline</c>), with the repairs scripted: every
/// setting's outcome is a function of its dampening, and a fake model tracks whose weights it holds, so each scenario
/// checks the settings tried, the one kept, and that the model ends holding it.
/// </summary>
public sealed class RepairChoiceTests
{
    /// <summary>A scripted repair: each setting tried gets the next index; the "model" holds the last tried or restored.</summary>
    private sealed class Script(Func<double, double, double, (bool Own, bool Original, double Level)> outcome) : IRepairWeights
    {
        private readonly HashSet<int> held = [];

        public List<(double Alpha, double Lambda, double Anchor, bool Refined)> Tried { get; } = [];

        public int Holding { get; private set; } = -1;

        public RepairTrial Try(double alpha, double lambda, double anchor, bool refined)
        {
            Tried.Add((alpha, lambda, anchor, refined));
            Holding = Tried.Count - 1;
            var (own, original, level) = outcome(alpha, lambda, anchor);
            return new RepairTrial(Holding, alpha, lambda, anchor, new CalibrationPoint(alpha, lambda, 0, 1, 0, 0), new DampeningStats(1, 10), own, original, level);
        }

        public void Hold(RepairTrial trial)
        {
            Assert.Equal(Holding, trial.Index); // only the weights the model holds can be copied
            held.Add(trial.Index);
        }

        public void Restore(RepairTrial trial)
        {
            Assert.Contains(trial.Index, held);
            Holding = trial.Index;
        }

        public RepairKept? Choose(IEnumerable<(double, double, double)> ladder, bool ownTargets) =>
            RepairChoice.Choose(ladder, Try, ownTargets, tolerance: 0.01, refinements: 2, this);
    }

    // The memorising benchmark model's ladder at its calibrated alpha 1.24 and lambda 0.5: four anchors, then lambda 0.1.
    private static readonly (double, double, double)[] Ladder = [(1.24, 0.5, 1), (1.24, 0.5, 2), (1.24, 0.5, 4), (1.24, 0.5, 8), (1.24, 0.1, 1), (1.24, 0.01, 1)];

    [Fact]
    public void Held_to_the_original_models_target_the_first_setting_that_meets_it_is_kept_and_nothing_is_copied()
    {
        var script = new Script((_, lambda, anchor) => (Own: anchor >= 2 || lambda < 0.5, Original: true, Level: 0.94));

        var kept = script.Choose(Ladder, ownTargets: false);

        Assert.Equal((1, (string?)null, (int?)null), (kept!.Trial.Index, kept.By, kept.OwnTargetTried));
        Assert.Equal(2, script.Tried.Count);
        Assert.Equal(1, script.Holding);
    }

    [Fact]
    public void The_first_setting_that_meets_its_own_target_after_a_step_in_lambda_is_bisected_towards_the_gentlest_that_does()
    {
        // Its own target is met from lambda 0.3 down (fb: 0.5 came back at 95.9% against 95.6%, 0.1 at 91.9%).
        var script = new Script((_, lambda, _) => (Own: lambda <= 0.3, Original: true, Level: 0.94));

        var kept = script.Choose(Ladder, ownTargets: true);

        // sqrt(0.5 x 0.1) = 0.224 meets, sqrt(0.5 x 0.224) = 0.334 misses: 0.224, the gentlest that met, is kept.
        Assert.Equal([(1.24, Math.Sqrt(0.05), 1.0, true), (1.24, Math.Sqrt(0.5 * Math.Sqrt(0.05)), 1.0, true)], script.Tried.Skip(5));
        Assert.Equal(7, script.Tried.Count);
        Assert.Equal((5, "repaired", (int?)null), (kept!.Trial.Index, kept.By, kept.OwnTargetTried));
        Assert.Equal(Math.Sqrt(0.05), kept.Trial.Lambda, 12);
        Assert.Equal(5, script.Holding); // restored after the second bisection, which missed
    }

    [Fact]
    public void A_setting_that_meets_its_own_target_with_only_the_anchor_changed_is_kept_without_bisecting()
    {
        var script = new Script((_, _, anchor) => (Own: anchor >= 4, Original: true, Level: 0.94));

        var kept = script.Choose(Ladder, ownTargets: true);

        Assert.Equal((2, "repaired"), (kept!.Trial.Index, kept.By));
        Assert.Equal(3, script.Tried.Count);
        Assert.DoesNotContain(script.Tried, t => t.Refined);
        Assert.Equal(2, script.Holding);
    }

    [Fact]
    public void A_gentler_setting_that_met_the_original_target_and_scores_unseen_samples_better_by_more_than_the_tolerance_is_preferred()
    {
        // The 500-digit MLPs: the anchored settings meet the original's target at 84% held out; their own target is met
        // only at lambda 0.01, which scores unseen samples 76%.
        var script = new Script((_, lambda, anchor) => (Own: lambda <= 0.01, Original: anchor >= 2 || lambda < 0.5, Level: lambda <= 0.01 ? 0.76 : 0.84));

        var kept = script.Choose(Ladder, ownTargets: true);

        Assert.Equal((1, "original"), (kept!.Trial.Index, kept.By));
        Assert.Equal(script.Tried.FindIndex(t => t.Lambda == 0.01), kept.OwnTargetTried);
        Assert.Equal(1, script.Holding); // its weights put back after the later settings were tried
        // Within the tolerance, the setting held to its own target is kept.
        var close = new Script((_, lambda, anchor) => (Own: lambda <= 0.01, Original: anchor >= 2 || lambda < 0.5, Level: lambda <= 0.01 ? 0.835 : 0.84));
        var own = close.Choose(Ladder, ownTargets: true)!;
        Assert.Equal(("repaired", 5), (own.By, own.Trial.Index));
        Assert.Equal(2, close.Tried.Count(t => t.Refined)); // bisected between lambda 0.1 and 0.01, neither middle met
        Assert.Equal(5, close.Holding); // its weights put back after the bisections
    }

    [Fact]
    public void When_no_setting_meets_its_own_target_the_first_that_met_the_originals_is_kept_and_when_none_met_either_nothing_is()
    {
        var fallback = new Script((_, _, anchor) => (Own: false, Original: anchor >= 4, Level: 0.9));
        var kept = fallback.Choose(Ladder, ownTargets: true);
        Assert.Equal((2, "original", (int?)null), (kept!.Trial.Index, kept.By, kept.OwnTargetTried));
        Assert.Equal(Ladder.Length, fallback.Tried.Count); // every setting was tried for one that meets its own
        Assert.Equal(2, fallback.Holding);

        var none = new Script((_, _, _) => (Own: false, Original: false, Level: 0.9));
        Assert.Null(none.Choose(Ladder, ownTargets: true));
        Assert.Equal(Ladder.Length, none.Tried.Count);
    }
}
