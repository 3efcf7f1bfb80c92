using System.Text.Json.Nodes;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Harvest;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Engine.Tests.Support;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Planning;

namespace FisherUnlearn.Engine.Tests.Unlearning;

/// <summary>
/// The estimator fallback (docs/methods.md): a sample request whose calibration with the exact Fisher reaches its target
/// at no setting, the sign of a model that memorised the samples (their exact Fisher vanishes), is calibrated again with
/// the tempered Fisher. Label requests never read the setting.
/// </summary>
[Collection(UnlearningCollection.Name)]
public sealed class EstimatorFallbackTests
{
    private static readonly CancellationToken Token = TestContext.Current.CancellationToken;

    /// <summary>
    /// The chain of <see cref="UnlearningWorkspace"/>, plus two finetunes of <c>a</c> on <c>few</c>, 400 train digits of
    /// every label that no other model trains on: <c>m</c> for 150 epochs (it memorises them: 100% on its train digits,
    /// about 86% held-out) and <c>n</c> for 40 (it still recognises them all, but its exact Fisher does not vanish
    /// on them). <c>forget-few</c> forgets every fourth of them (100 samples; both models affected).
    /// </summary>
    internal static UnlearningWorkspace Memorising() => new(extend: w =>
    {
        w.DigitsSlice("few", 6000, 400);
        w.Model("m", null, "a", 11, "few", epochs: 150);
        w.Model("n", null, "a", 11, "few", epochs: 40);
        var indices = string.Join(", ", Enumerable.Range(0, 100).Select(i => i * 4));
        w.Write("forget-few.removal.json", $$"""{ "schemaVersion": 1, "id": "forget-few", "forget": { "samples": [ { "dataset": "few", "split": "train", "indices": [{{indices}}] } ] } }""");
    });

    private static RunResult Run(UnlearningWorkspace ws, string removal, string? fallback, string folder, bool measure = false)
    {
        ws.Write("unlearn.json", fallback is null ? "{ }" : $$"""{ "parameters": { "estimatorFallback": "{{fallback}}" } }""");
        var analysis = ws.Analyze();
        Assert.False(analysis.HasErrors, string.Join("\n", analysis.Diagnostics));
        var result = RemovalRunner.Run(analysis, analysis.Workspace.Removals[removal], new RunOptions { Threads = 1, Measure = measure, OutputDirectory = ws.PathOf(folder) }, Token);
        Assert.True(result.Succeeded, string.Join("\n", result.Models.Select(m => m.Error?.ToString())));
        return result;
    }

    private static string Key(UnlearningWorkspace ws, string removal, string modelId, string fallback)
    {
        ws.Write("unlearn.json", $$"""{ "parameters": { "estimatorFallback": "{{fallback}}" } }""");
        var analysis = ws.Analyze();
        return JobKey.Compute(analysis, Planner.Plan(analysis.Workspace, analysis.Graph, analysis.Workspace.Removals[removal]), modelId, "fiun");
    }

    private static JsonObject Calibration(ModelOutcome outcome) => outcome.Parameters!["calibration"]!.AsObject();


    [Fact]
    public void A_model_that_memorised_its_samples_meets_the_target_with_the_tempered_fallback_and_none_keeps_the_exact_miss()
    {
        using var ws = Memorising();
        var workspace = ws.Analyze().Workspace;
        var tempered = new HarvestOptions { Estimator = FisherEstimator.Tempered, Temperature = FisherOptions.DefaultTemperature };
        string TemperedKey() => Harvester.KeyOf(workspace.Models["m"], workspace, tempered);

        var none = Run(ws, "forget-few", "none", "out-none", measure: true).Models.Single(o => o.Id == "m");
        Assert.False(HarvestCache.Contains(workspace.OutputDirectory, "m", TemperedKey())); // none computes no tempered Fisher
        var fallback = Run(ws, "forget-few", null, "out-default", measure: true).Models.Single(o => o.Id == "m");

        // The exact Fisher: no setting reaches the target, the model is left recognising every forgotten sample.
        Assert.False((bool)Calibration(none)["targetMet"]!);
        Assert.Equal("exact", (string?)none.Parameters!["estimator"]);
        Assert.Equal("none", (string?)none.Parameters["estimatorFallback"]);
        Assert.Null(none.Parameters["fallback"]);
        Assert.Equal(1.0, none.Before!.ForgetAccuracy);
        Assert.Equal(none.Before.ForgetAccuracy, none.After!.ForgetAccuracy);

        // The default falls back: the tempered calibration meets the same target on the same slice, and says so.
        var target = (double)Calibration(fallback)["target"]!;
        Assert.Equal((double)Calibration(none)["target"]!, target);
        Assert.True((bool)Calibration(fallback)["targetMet"]!, Calibration(fallback).ToJsonString());
        Assert.Equal("tempered", (string?)fallback.Parameters!["estimatorFallback"]);
        Assert.Equal("tempered", (string?)fallback.Parameters["estimator"]);
        Assert.Equal(FisherOptions.DefaultTemperature, (double)fallback.Parameters["temperature"]!);
        var record = fallback.Parameters["fallback"]!;
        Assert.True((bool)record["kept"]! && (bool)record["targetMet"]!);
        Assert.True((double)record["exact"]!["forgetAccuracy"]! > target, record.ToJsonString());
        Assert.NotNull(fallback.Parameters["seconds"]!["fallback"]);
        // Every forgotten sample is in the slice, so the output scores them as the calibration saw: forgotten to the
        // held-out level, and the attack calls fewer of them members.
        Assert.InRange(fallback.After!.ForgetAccuracy!.Value, 0, target + 1e-9);
        Assert.True(fallback.After.Mia < none.After.Mia, $"MIA {fallback.After.Mia} with the fallback, {none.After.Mia} without");

        // Its importances came from the model's tempered harvest, cached beside the exact one.
        Assert.True(HarvestCache.Contains(workspace.OutputDirectory, "m", TemperedKey()));
        Assert.NotEqual(TemperedKey(), Harvester.KeyOf(workspace.Models["m"], workspace, new HarvestOptions()));
        // The output's own metadata records what made it, without timings.
        var recorded = JsonNode.Parse(TrainingInputs.ReadMetadata(fallback.OutputPath!)![UnlearningJob.ParametersKey])!;
        Assert.Equal("tempered", (string?)recorded["estimator"]);
        Assert.True((bool)recorded["fallback"]!["kept"]!);
        Assert.Null(recorded["seconds"]);

        // The setting is part of a sample request's job key: changing it makes the outputs stale.
        Assert.NotEqual(Key(ws, "forget-few", "m", "none"), Key(ws, "forget-few", "m", "tempered"));
    }

    [Fact]
    public void A_sample_request_whose_exact_calibration_meets_the_target_does_not_fall_back()
    {
        using var ws = Memorising();

        var fallback = Run(ws, "forget-few", "tempered", "out-tempered").Models.Single(o => o.Id == "n");
        var none = Run(ws, "forget-few", "none", "out-none").Models.Single(o => o.Id == "n");

        Assert.True((bool)Calibration(fallback)["targetMet"]!);
        Assert.NotNull(fallback.Parameters!["alpha"]); // it dampened: the exact Fisher found the samples' weights
        Assert.Equal("exact", (string?)fallback.Parameters["estimator"]);
        Assert.Null(fallback.Parameters["fallback"]);
        Assert.Null(fallback.Parameters["seconds"]!["fallback"]);
        Assert.Equal(Calibration(none).ToJsonString(), Calibration(fallback).ToJsonString());
        EngineAssert.SameWeights(none.OutputPath!, fallback.OutputPath!);
    }

    [Fact]
    public void A_label_request_is_byte_identical_with_the_fallback_on_or_off()
    {
        using var ws = new UnlearningWorkspace();

        var on = Run(ws, "forget-3", "tempered", "out-on");
        var off = Run(ws, "forget-3", "none", "out-off");
        var unset = Run(ws, "forget-3", null, "out-unset");

        foreach (var (one, other) in on.Models.Zip(off.Models).Concat(on.Models.Zip(unset.Models)))
        {
            Assert.Equal(one.Id, other.Id);
            Assert.Equal(File.ReadAllBytes(one.OutputPath!), File.ReadAllBytes(other.OutputPath!));
            Assert.Null(one.Parameters!["estimatorFallback"]);
            Assert.Null(one.Parameters["fallback"]);
            Assert.Equal(Key(ws, "forget-3", one.Id, "tempered"), Key(ws, "forget-3", one.Id, "none"));
        }
    }

    [Theory]
    [InlineData("""{ "estimator": "tempered", "estimatorFallback": "none" }""", true)]
    [InlineData("""{ "estimator": "labelfree", "estimatorFallback": "tempered" }""", true)]
    [InlineData("""{ "estimatorFallback": "none" }""", false)]
    [InlineData("""{ "estimator": "exact", "estimatorFallback": "tempered" }""", false)]
    public void An_estimator_fallback_with_another_estimator_than_exact_is_a_warning_at_its_line(string parameters, bool warned)
    {
        using var ws = new UnlearningWorkspace(train: false, removalExtra: $",\n \"parameters\": {parameters}");
        var analysis = ws.Analyze();

        var listed = UnlearnSettings.Check(analysis.Workspace);

        if (warned)
        {
            var warning = Assert.Single(listed);
            Assert.Equal("FUL4105", warning.Code);
            Assert.Equal(analysis.Workspace.Removals["forget-3"].ParameterLocations["estimatorFallback"], warning.Location);
            Assert.Contains("'estimatorFallback' applies only to the 'exact' estimator", warning.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(listed);
        }
    }

    [Fact]
    public void The_setting_reads_tempered_or_none_and_is_described_for_sample_requests_with_the_exact_estimator_only()
    {
        static UnlearnSettings Read(params (string Key, string Raw)[] parameters) => ParameterSettings.Read(parameters);

        Assert.True(Read().FallsBackToTempered);
        Assert.False(Read(("estimatorFallback", "\"none\"")).FallsBackToTempered);
        Assert.False(Read(("estimator", "\"batch\"")).FallsBackToTempered);
        Assert.False(Read(("alpha", "2")).FallsBackToTempered); // a fixed setting has no target to miss
        Assert.Equal("tempered", (string?)Read().Describe(forgetsSamples: true)["estimatorFallback"]);
        Assert.Equal("none", (string?)Read(("estimatorFallback", "\" None \"")).Describe(forgetsSamples: true)["estimatorFallback"]);
        Assert.False(Read().Describe().ContainsKey("estimatorFallback"));
        Assert.False(Read(("estimator", "\"tempered\"")).Describe(forgetsSamples: true).ContainsKey("estimatorFallback"));
        var bad = Assert.Throws<EngineException>(() => Read(("estimatorFallback", "\"labelfree\"")));
        Assert.Equal(DiagnosticCatalogue.InvalidMethodParameter.Code, bad.Code);
    }
}
