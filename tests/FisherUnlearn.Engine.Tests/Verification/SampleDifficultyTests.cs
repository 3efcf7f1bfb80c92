using FisherUnlearn.Engine.Tests.Unlearning;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Engine.Verification;
using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Engine.Tests.Verification;

/// <summary>
/// <c>sampleProbe</c> (docs/methods.md, step 2): a linear probe trained without a request's forgotten samples tells how
/// much easier than unseen samples of their labels they are, and a sample request's target moves by that.
/// </summary>
[Collection(UnlearningCollection.Name)]
public sealed class SampleDifficultyTests
{
    private static readonly CancellationToken Token = TestContext.Current.CancellationToken;

    /// <summary>The chain, and requests for the 150 train digits of 0, 1 and 2 that <c>a</c> classifies with the lowest
    /// loss and the 150 with the highest.</summary>
    private static UnlearningWorkspace EasyAndHard()
    {
        var ws = new UnlearningWorkspace();
        var byLoss = ws.TrainIndicesByLoss("a", 0, 1, 2);
        foreach (var (id, indices) in new[] { ("forget-easy", byLoss.Take(150)), ("forget-hard", byLoss.TakeLast(150)) })
        {
            ws.Write($"{id}.removal.json", $$"""
                { "schemaVersion": 1, "id": "{{id}}", "forget": { "samples": [ { "dataset": "mnist", "split": "train", "indices": [{{string.Join(", ", indices.Order())}}] } ] } }
                """);
        }

        return ws;
    }

    private static SampleDifficulty? Measure(UnlearningWorkspace ws, string removal, string model, UnlearnSettings? settings = null)
    {
        var analysis = ws.Analyze();
        var scope = RemovalScope.For(analysis.Workspace, analysis.Graph, analysis.Workspace.Removals[removal], model);
        return SampleDifficulty.Measure(scope, new SplitCache(), settings ?? new UnlearnSettings(), Token);
    }

    [Fact]
    public void Easy_samples_shift_up_hard_ones_down_and_the_same_request_always_measures_the_same()
    {
        using var ws = EasyAndHard();

        var easy = Measure(ws, "forget-easy", "a")!;
        var hard = Measure(ws, "forget-hard", "a")!;

        TestContext.Current.SendDiagnosticMessage($"easy {easy.ToJson().ToJsonString()}; hard {hard.ToJson().ToJsonString()}");
        Assert.Equal(150, easy.Samples);
        Assert.Equal(150, hard.Samples);
        // The probe never saw them, yet it finds the easy ones easier and the hard ones harder than unseen digits.
        Assert.True(easy.LogOddsShift > 0, easy.ToString());
        Assert.True(hard.LogOddsShift < -1, hard.ToString());
        // The shift moves a model's held-out accuracy in log-odds: up for easy samples, down for hard ones, never past 0%
        // or 100%, and least where it is near them (QA: 10 points off a probe at 90% took a model at 4% below 0).
        Assert.True(easy.ShiftOf(0.8) > 0 && hard.ShiftOf(0.8) < 0);
        Assert.InRange(hard.Expected(0.044), 0.000001, 0.044);
        Assert.True(Math.Abs(hard.ShiftOf(0.044)) < Math.Abs(hard.ShiftOf(0.5)));
        Assert.InRange(easy.Expected(0.999), 0.999, 1);
        // Seeded and started from zero: the same request measures the same, another seed draws other samples to learn from.
        Assert.Equal(easy, Measure(ws, "forget-easy", "a"));
        Assert.NotEqual(easy.ProbeHeldOut, Measure(ws, "forget-easy", "a", new UnlearnSettings { Seed = 5 })!.ProbeHeldOut);
    }

    [Fact]
    public void The_probe_is_off_unless_asked_and_described_only_when_on_so_other_outputs_keep_their_job_keys()
    {
        static UnlearnSettings Read(params (string Key, string Raw)[] parameters) => Support.ParameterSettings.Read(parameters);

        Assert.False(Read().SampleProbe);
        Assert.True(Read(("sampleProbe", "true")).SampleProbe);
        Assert.False(Read(("sampleProbe", "false")).SampleProbe);
        Assert.True(Read(("sampleProbe", "true")).ProbesSamples);
        Assert.False(Read(("sampleProbe", "true"), ("alpha", "2")).ProbesSamples); // a fixed setting calibrates nothing
        Assert.False((Read(("sampleProbe", "true")) with { Method = UnlearnSettings.Retrain }).ProbesSamples);
        Assert.Null(Read().Describe(forgetsSamples: true)["sampleProbe"]);
        Assert.Null(Read(("sampleProbe", "true")).Describe(forgetsSamples: false)["sampleProbe"]); // a label request never reads it
        Assert.True((bool)Read(("sampleProbe", "true")).Describe(forgetsSamples: true)["sampleProbe"]!);
        var ex = Assert.Throws<EngineException>(() => Read(("sampleProbe", "\"yes\"")));
        Assert.Equal("FUL4102", ex.Code);
        Assert.Contains("true or false", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_label_request_that_asks_for_the_probe_is_warned_that_it_has_no_effect()
    {
        using var ws = new UnlearningWorkspace(train: false, removalExtra: ",\n \"parameters\": { \"sampleProbe\": true }");
        var analysis = ws.Analyze();

        var warning = Assert.Single(UnlearnSettings.Check(analysis.Workspace));

        Assert.Equal("FUL4105", warning.Code);
        Assert.Equal(analysis.Workspace.Removals["forget-3"].ParameterLocations["sampleProbe"], warning.Location);
        Assert.Contains("'sampleProbe' applies only to removals that forget samples, and 'forget-3' forgets labels only", warning.Message, StringComparison.Ordinal);
        ws.Write("forget-3.removal.json", """{ "schemaVersion": 1, "id": "forget-3", "forget": { "labels": [3] }, "parameters": { "sampleProbe": false } }""");
        Assert.Empty(UnlearnSettings.Check(ws.Analyze().Workspace));
    }

    [Fact]
    public void Samples_of_the_test_split_or_too_few_samples_leave_nothing_to_measure()
    {
        using var ws = EasyAndHard();
        ws.Write("forget-fives.removal.json", """
            { "schemaVersion": 1, "id": "forget-fives", "forget": { "samples": [ { "dataset": "mnist", "split": "test", "indices": [0, 1, 2] } ] } }
            """);

        // Samples of the test split are no model's training data: no forgotten train sample, nothing to measure.
        Assert.Null(Measure(ws, "forget-fives", "a"));

        // Fewer than 30 train samples tell nothing of their difficulty: one the probe gets right would move a target by
        // 10 points (QA).
        var few = ws.TrainIndicesByLoss("a", 0, 1, 2).Take(SampleDifficulty.MinSamples - 1).Order();
        ws.Write("forget-few.removal.json", $$"""
            { "schemaVersion": 1, "id": "forget-few", "forget": { "samples": [ { "dataset": "mnist", "split": "train", "indices": [{{string.Join(", ", few)}}] } ] } }
            """);
        Assert.Null(Measure(ws, "forget-few", "a"));
    }

    [Fact]
    public void With_the_probe_a_model_that_fits_few_digits_is_aimed_at_what_retraining_scores_on_cleaner_ones()
    {
        using var ws = FewDigitsWorkspace.Create();

        // The probe moves calibration's target; what the repair then holds the samples to is measured with the original
        // model's held-out accuracy here (sampleBaseline "original"), as when this was measured (docs/methods.md, step 2).
        const string Original = "\"sampleBaseline\": \"original\"";
        var (plain, plainVerified) = FewDigitsWorkspace.RunAndVerify(ws, Original, "out-plain");
        var (probed, probedVerified) = FewDigitsWorkspace.RunAndVerify(ws, "\"sampleProbe\": true, " + Original, "out-probed");

        var report = string.Join("\n", new[] { (plain, plainVerified), (probed, probedVerified) }.Select(p =>
            $"{p.Item1.Parameters!["calibration"]!.ToJsonString()}; after {p.Item2.After.ForgottenSampleAccuracy} / {p.Item2.After.RetainAccuracy}; reference {p.Item2.Reference!.ForgottenSampleAccuracy} / {p.Item2.Reference.RetainAccuracy}; {string.Join(" ", p.Item2.Missed)}"));
        TestContext.Current.SendDiagnosticMessage(report);
        // The retrained model scores the forgotten digits well above unseen ones: they are easier, not remembered.
        var retrained = plainVerified.Reference!.ForgottenSampleAccuracy!.Value;
        Assert.True(retrained > plainVerified.Reference.ForgottenLabelsHeldOutAccuracy + 0.04, report);
        // Held to unseen digits alone, the target lies below what retraining scores on them.
        Assert.True((double)plain.Parameters!["calibration"]!["target"]! < retrained - 0.02, report);
        Assert.Null(plain.Parameters["calibration"]!["difficulty"]);

        // The probe finds them easier, the target moves up by that, the output scores them nearer what the retrained model
        // does, and every target is met against it.
        var difficulty = probed.Parameters!["calibration"]!["difficulty"]!.AsObject();
        Assert.True((double)difficulty["logOddsShift"]! > 0.2, report);
        Assert.True((double)probed.Parameters["calibration"]!["target"]! > (double)plain.Parameters["calibration"]!["target"]!, report);
        Assert.True(Math.Abs(probedVerified.After.ForgottenSampleAccuracy!.Value - retrained) < Math.Abs(plainVerified.After.ForgottenSampleAccuracy!.Value - retrained), report);
        Assert.Empty(probedVerified.Missed);

        // Without a reference, verify moves the unseen score by the same probe, so it agrees with run.
        var alone = Verifier.Verify(ws.Analyze(), ws.Analyze().Workspace.Removals["forget-first"], new VerifyOptions { Threads = 1, OutputDirectory = ws.PathOf("out-probed") }, Token);
        Assert.DoesNotContain(alone.Models.Single().Missed, d => d.Code == "FUL5012");

        // With the default sampleBaseline ("repaired"), calibration is the same, and every repaired setting is held to its own
        // held-out accuracy moved by the probe's shift: above what that accuracy alone would give.
        var (repaired, _) = FewDigitsWorkspace.RunAndVerify(ws, "\"sampleProbe\": true", "out-probed-repaired");
        Assert.Equal((double)probed.Parameters["calibration"]!["target"]!, (double)repaired.Parameters!["calibration"]!["target"]!);
        var samples = (int)repaired.Parameters["calibration"]!["forgetSamples"]!;
        var tried = repaired.Parameters["repair"]!["tried"]!.AsArray();
        Assert.NotEmpty(tried);
        Assert.All(tried, t => Assert.True((double)t!["target"]! > UnlearningJob.SampleTarget((double)t["heldOutAccuracy"]!, samples, 1) + 0.01, t.ToJsonString()));
    }
}
