using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Engine.Verification;
using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Engine.Tests.Unlearning;

/// <summary>
/// A sample request for samples a model finds easy, not ones it remembers (docs/methods.md, step 2): it scores them above
/// unseen samples of their labels, as a model that never saw them does, so it is left as it was; a model that memorised
/// its training data is still dampened.
/// </summary>
[Collection(UnlearningCollection.Name)]
public sealed class EasySampleTests
{
    private static readonly CancellationToken Token = TestContext.Current.CancellationToken;

    /// <summary>The chain's a, b, c (one epoch each, no memory to speak of) and a request for the 150 train digits of 0, 1
    /// and 2 that <c>a</c> classifies with the lowest loss: easy digits, which any model of those labels gets right.</summary>
    private static UnlearningWorkspace EasyDigits()
    {
        var ws = new UnlearningWorkspace();
        var easiest = ws.TrainIndicesByLoss("a", 0, 1, 2).Take(150).Order();
        ws.Write("forget-easy.removal.json", $$"""
            { "schemaVersion": 1, "id": "forget-easy", "forget": { "samples": [ { "dataset": "mnist", "split": "train", "indices": [{{string.Join(", ", easiest)}}] } ] },
              "targets": { "maxForgetAccuracy": 0.01, "maxRetainDrop": 0.02 } }
            """);
        return ws;
    }

    [Fact]
    public void Easy_samples_leave_the_models_as_they_were_and_the_retrained_models_score_them_as_high()
    {
        using var ws = EasyDigits();
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-easy"];
        var originals = new[] { "a", "b", "c" }.ToDictionary(id => id, id => File.ReadAllBytes(ws.Checkpoint(id)));

        var result = RemovalRunner.Run(analysis, removal, new RunOptions { Threads = 1, Measure = true }, Token);

        Assert.True(result.Succeeded, string.Join("\n", result.Models.Select(m => m.Error?.ToString())));
        TestContext.Current.SendDiagnosticMessage(string.Join("\n", result.Models.Select(m => $"{m.Id}: {m.Parameters?[SampleEase.Key]?.ToJsonString()} {m.Before} -> {m.After}")));
        // Every model scores them above its held-out accuracy on their labels, by more than chance allows, so calibration
        // found a dampening to bring them down: the check ran and found ease, and the output is the original weights.
        var checkedModels = result.Models.Where(m => m.Parameters?[SampleEase.Key] is not null).ToList();
        Assert.NotEmpty(checkedModels);
        Assert.Contains(checkedModels, m => m.Id == "a");
        foreach (var model in checkedModels)
        {
            var ease = SampleEase.FromParameters(model.Parameters)!;
            Assert.True(ease.SamplesBefore > ease.HeldOutBefore + ease.Margin, $"{model.Id}: {ease}");
            Assert.True(ease.Easy, $"{model.Id}: {ease}");
            Assert.True(model.Unchanged, model.Id);
            Assert.Contains("easy, not remembered", (string?)model.Parameters![ModelOutcome.UnchangedKey], StringComparison.Ordinal);
            Assert.Equal(0, (long)model.Parameters["selected"]!);
            Assert.Equal(model.Before!.ForgetAccuracy, model.After!.ForgetAccuracy);
            Assert.Equal(model.Before.RetainAccuracy, model.After.RetainAccuracy);
            Assert.Null(model.Parameters["repair"]);
        }

        Assert.All(new[] { "a", "b", "c" }, id => Assert.Equal(originals[id], File.ReadAllBytes(ws.Checkpoint(id))));

        // Without a reference, verify holds them to unseen samples of their labels, which easy samples exceed even for a
        // model that never saw them: it still reports them (FUL5012), with what run measured and what tells for sure.
        var alone = Verifier.Verify(ws.Analyze(), removal, new VerifyOptions { Threads = 1 }, Token);
        foreach (var model in alone.Models.Where(v => checkedModels.Any(m => m.Id == v.Id)))
        {
            var recognised = Assert.Single(model.Missed, d => d.Code == "FUL5012");
            Assert.Contains("judged easy, not remembered", recognised.Message, StringComparison.Ordinal);
            Assert.Contains("verify --reference retrain", recognised.Message, StringComparison.Ordinal);
        }

        // The retrained models, which never saw them, score them as high: every target is met against them.
        var verification = Verifier.Verify(ws.Analyze(), removal, new VerifyOptions { Threads = 1, Reference = true }, Token);
        foreach (var model in verification.Models.Where(v => checkedModels.Any(m => m.Id == v.Id)))
        {
            Assert.True(model.Reference!.ForgottenSampleAccuracy > model.Reference.ForgottenLabelsHeldOutAccuracy + 0.02,
                $"{model.Id}: the retrained model scores them {model.Reference.ForgottenSampleAccuracy}, unseen ones {model.Reference.ForgottenLabelsHeldOutAccuracy}");
            Assert.Empty(model.Missed);
        }

        Assert.True(verification.TargetsMet, string.Join("\n", verification.Models.SelectMany(m => m.Missed)));
    }

    [Fact]
    public void A_model_that_memorised_its_training_data_is_dampened_though_the_dampening_cannot_single_the_samples_out()
    {
        using var ws = EstimatorFallbackTests.Memorising();
        ws.Write("unlearn.json", """{ "parameters": { "repairEpochs": 0 } }""");
        var analysis = ws.Analyze();

        var result = RemovalRunner.Run(analysis, analysis.Workspace.Removals["forget-few"], new RunOptions { Threads = 1, Measure = true }, Token);

        var m = result.Models.Single(o => o.Id == "m");
        var ease = SampleEase.FromParameters(m.Parameters)!;
        TestContext.Current.SendDiagnosticMessage($"{ease}");
        Assert.True(ease.Memorises, $"{ease}");
        Assert.False(ease.Easy);
        Assert.False(m.Unchanged);
        Assert.True((long)m.Parameters!["selected"]! > 0);
        Assert.True(m.After!.ForgetAccuracy < m.Before!.ForgetAccuracy, $"{m.Before.ForgetAccuracy} -> {m.After.ForgetAccuracy}");
        Assert.InRange(m.After.ForgetAccuracy!.Value, 0, (double)m.Parameters["calibration"]!["target"]! + 1e-9);
    }

    [Fact]
    public void Easy_samples_whose_dampening_costs_no_more_than_the_tolerance_are_dampened()
    {
        // The same easy digits, with every dampening's retained cost within repairTolerance: leaving their lead in place
        // would trade it for nothing, so each model is dampened to its target (docs/methods.md, step 2).
        using var ws = EasyDigits();
        ws.Write("unlearn.json", """{ "parameters": { "repairTolerance": 0.5 } }""");
        var analysis = ws.Analyze();

        var result = RemovalRunner.Run(analysis, analysis.Workspace.Removals["forget-easy"], new RunOptions { Threads = 1, Measure = true }, Token);

        Assert.True(result.Succeeded, string.Join("\n", result.Models.Select(m => m.Error?.ToString())));
        var checkedModels = result.Models.Where(m => m.Parameters?[SampleEase.Key] is not null).ToList();
        Assert.Contains(checkedModels, m => m.Id == "a");
        foreach (var model in checkedModels)
        {
            var ease = SampleEase.FromParameters(model.Parameters)!;
            Assert.True(ease.WithinEase && !ease.DampeningSpecific && !ease.Memorises, $"{model.Id}: {ease}");
            Assert.InRange(ease.RetainCost!.Value, double.NegativeInfinity, 0.5);
            Assert.False(ease.Costly);
            Assert.False(ease.Easy);
            Assert.False((bool)model.Parameters![SampleEase.Key]!["costly"]!);
            Assert.False(model.Unchanged, model.Id);
            Assert.True((long)model.Parameters["selected"]! > 0, model.Id);
            Assert.NotNull(model.Parameters["alpha"]);
            Assert.True(model.After!.ForgetAccuracy < model.Before!.ForgetAccuracy, $"{model.Id}: {model.Before.ForgetAccuracy} -> {model.After.ForgetAccuracy}");
        }
    }

    [Fact]
    public void A_sample_tolerance_of_0_dampens_easy_samples_as_before()
    {
        using var ws = EasyDigits();
        ws.Write("unlearn.json", """{ "parameters": { "sampleTolerance": 0 } }""");
        var analysis = ws.Analyze();

        var result = RemovalRunner.Run(analysis, analysis.Workspace.Removals["forget-easy"], new RunOptions { Threads = 1, Measure = false }, Token);

        Assert.True(result.Succeeded);
        Assert.All(result.Models, m => Assert.Null(m.Parameters?[SampleEase.Key]));
        Assert.Contains(result.Models, m => !m.Unchanged);
    }
}
