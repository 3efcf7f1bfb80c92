using FisherUnlearn.Engine.Verification;

namespace FisherUnlearn.Engine.Tests.Verification;

/// <summary>SSD's membership attack: its rate on the forget set, and how well it separates members from non-members,
/// which says whether that rate means anything.</summary>
public sealed class MembershipInferenceTests
{
    // Per-sample outputs with losses drawn around a centre (entropy follows the loss, as it does for a softmax).
    private static SampleOutputs Outputs(int count, double lossCentre, int seed)
    {
        var random = new Random(seed);
        var losses = new float[count];
        var entropies = new float[count];
        for (var i = 0; i < count; i++)
        {
            losses[i] = (float)Math.Max(0, lossCentre + ((random.NextDouble() - 0.5) * 0.2));
            entropies[i] = (float)Math.Min(2.3, losses[i] * 0.8 + (random.NextDouble() * 0.05));
        }

        return new SampleOutputs(new long[count], new long[count], losses, entropies);
    }

    [Fact]
    public void A_model_that_memorised_its_train_samples_is_separable_and_its_forget_set_reads_as_members()
    {
        var members = Outputs(300, 0.05, 1); // Train samples: tiny losses.
        var nonMembers = Outputs(300, 1.5, 2); // Unseen samples: large losses.

        var remembered = MembershipInference.Attack(members, nonMembers, Outputs(100, 0.05, 3))!;
        var forgotten = MembershipInference.Attack(members, nonMembers, Outputs(100, 1.5, 4))!;

        Assert.True(remembered.Accuracy > 0.95, $"attack accuracy {remembered.Accuracy}");
        Assert.True(remembered.Rate > 0.9, $"rate on a remembered forget set {remembered.Rate}");
        Assert.True(forgotten.Rate < 0.1, $"rate on a forgotten forget set {forgotten.Rate}");
        Assert.Equal(remembered.Accuracy, forgotten.Accuracy); // The attack does not depend on the forget set.
        Assert.True(new ModelMetrics(0, 1, 1, remembered.Rate, 100, 300, 300, remembered.Accuracy).MiaInformative);
    }

    [Fact]
    public void A_model_that_generalises_gives_an_attack_at_chance_whose_rate_is_flagged()
    {
        var members = Outputs(300, 0.3, 5);
        var nonMembers = Outputs(300, 0.3, 6); // The same distribution: nothing to tell apart.

        var attack = MembershipInference.Attack(members, nonMembers, Outputs(100, 4.0, 7))!;

        Assert.InRange(attack.Accuracy, 0.4, MembershipInference.InformativeAccuracy - 0.01);
        var metrics = new ModelMetrics(0, 1, 1, attack.Rate, 100, 300, 300, attack.Accuracy);
        Assert.False(metrics.MiaInformative);
        Assert.Null((metrics with { MiaAttackAccuracy = null }).MiaInformative);
        Assert.Null((metrics with { Mia = null }).MiaInformative);
    }

    [Fact]
    public void Empty_sets_give_no_attack()
    {
        var some = Outputs(10, 0.1, 8);
        var none = Outputs(0, 0.1, 9);

        Assert.Null(MembershipInference.Attack(none, some, some));
        Assert.Null(MembershipInference.Attack(some, none, some));
        Assert.Null(MembershipInference.Attack(some, some, none));
        Assert.Equal(MembershipInference.Attack(some, Outputs(10, 1.0, 10), some)!.Rate, MembershipInference.Rate(some, Outputs(10, 1.0, 10), some));
    }
}
