using System.Globalization;
using System.Text.Json.Nodes;
using FisherUnlearn.Engine.Tests.Support;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Tests.Unlearning;

/// <summary>
/// The repair of a sample request's dampening (docs/methods.md, step 5): a short fine-tune on retained training samples
/// gives back retained accuracy, and a repaired setting is kept only while the model still forgets the samples.
/// </summary>
[Collection(UnlearningCollection.Name)]
public sealed class RetainRepairTests
{
    private static readonly CancellationToken Token = TestContext.Current.CancellationToken;

    internal static ModelOutcome Run(UnlearningWorkspace ws, string removal, string parameters, string folder, string model)
    {
        ws.Write("unlearn.json", $$"""{ "parameters": { {{parameters}} } }""");
        var analysis = ws.Analyze();
        Assert.False(analysis.HasErrors, string.Join("\n", analysis.Diagnostics));
        var result = RemovalRunner.Run(analysis, analysis.Workspace.Removals[removal], new RunOptions { Threads = 1, Measure = true, OutputDirectory = ws.PathOf(folder) }, Token);
        Assert.True(result.Succeeded, string.Join("\n", result.Models.Select(m => m.Error?.ToString())));
        return result.Models.Single(m => m.Id == model);
    }

    [Fact]
    public void A_memorised_model_is_repaired_with_the_gentlest_setting_that_still_forgets_and_keeps_more_of_what_it_retains()
    {
        using var ws = EstimatorFallbackTests.Memorising();

        // Held to the original model's held-out accuracy, as the repair was before "sampleBaseline" (the default's choice here too).
        var repaired = Run(ws, "forget-few", "\"sampleBaseline\": \"original\"", "out-repaired", "m");
        var unrepaired = Run(ws, "forget-few", "\"repairEpochs\": 0", "out-unrepaired", "m");

        var target = (double)repaired.Parameters!["calibration"]!["target"]!;
        var record = repaired.Parameters["repair"]!.AsObject();
        var tried = record["tried"]!.AsArray().Select(t => t!.AsObject()).ToList();
        TestContext.Current.SendDiagnosticMessage($"target {target}; repair {record.ToJsonString()}; after {repaired.After}; unrepaired {unrepaired.After}");
        Assert.True((bool)record["ran"]!);
        Assert.True((double)record["retainCost"]! > 0.01, record.ToJsonString()); // the dampening cost slice retain accuracy
        Assert.True((bool)record["kept"]!);
        // Every setting tried before the kept one came back above the target once repaired, or below the unrepaired
        // setting's retained accuracy on the slice (a repair is there to give it back); the kept one, the last, meets both.
        var unrepairedRetain = (double)repaired.Parameters["calibration"]!["retainAccuracy"]!;
        Assert.All(tried.SkipLast(1), t => Assert.True((double)t["forgetAccuracy"]! > target || (double)t["retainAccuracy"]! < unrepairedRetain, t.ToJsonString()));
        Assert.True((double)tried[^1]["forgetAccuracy"]! <= target);
        Assert.True((double)tried[^1]["retainAccuracy"]! >= unrepairedRetain, $"{tried[^1]} against {unrepairedRetain}");
        Assert.Equal((double?)tried[^1]["alpha"], (double?)repaired.Parameters["alpha"]);
        Assert.Equal((double?)tried[^1]["lambda"], (double?)repaired.Parameters["lambda"]);
        Assert.True((long)tried[^1]["steps"]! > 0);
        // The first one tried is the calibrated setting, which the unrepaired run applied as it is.
        Assert.Equal((double?)unrepaired.Parameters!["alpha"], (double?)tried[0]["alpha"]);
        Assert.Equal((double?)unrepaired.Parameters["lambda"], (double?)tried[0]["lambda"]);
        Assert.Null(unrepaired.Parameters["repair"]);

        // Every forgotten sample is in the calibration slice, so the output scores them as the repair check saw.
        Assert.InRange(repaired.After!.ForgetAccuracy!.Value, 0, target + 1e-9);
        Assert.True(repaired.After.RetainAccuracy > unrepaired.After!.RetainAccuracy,
            $"retain {repaired.After.RetainAccuracy} repaired, {unrepaired.After.RetainAccuracy} not");
        Assert.NotNull(repaired.Parameters["seconds"]!["repair"]);
    }

    /// <summary>The memorising workspace's <c>n</c> (40 epochs on its 400 digits) is dampened by the exact calibration;
    /// whether it is repaired depends only on what that dampening cost on the slice.</summary>
    [Fact]
    public void The_repair_runs_exactly_when_the_dampening_cost_more_retained_accuracy_than_the_tolerance()
    {
        using var ws = EstimatorFallbackTests.Memorising();

        var outcomes = new[] { "m", "n" }.Select(id => Run(ws, "forget-few", string.Empty, "out-default", id)).ToList();
        var never = new[] { "m", "n" }.Select(id => Run(ws, "forget-few", "\"repairTolerance\": 1", "out-never", id)).ToList();
        var off = new[] { "m", "n" }.Select(id => Run(ws, "forget-few", "\"repairEpochs\": 0", "out-off", id)).ToList();

        foreach (var (outcome, (unrepaired, withoutRepair)) in outcomes.Zip(never.Zip(off)))
        {
            var record = outcome.Parameters!["repair"]!.AsObject();
            TestContext.Current.SendDiagnosticMessage($"{outcome.Id}: {record.ToJsonString()}");
            Assert.Equal((double)record["retainCost"]! > 0.01, (bool)record["ran"]!);
            Assert.Equal(record["ran"]!.GetValue<bool>(), record["tried"] is not null);
            // A tolerance of 1 never repairs: the weights are those without the repair (the recorded settings differ).
            Assert.False((bool)unrepaired.Parameters!["repair"]!["ran"]!);
            Assert.Null(withoutRepair.Parameters!["repair"]);
            EngineAssert.SameWeights(withoutRepair.OutputPath!, unrepaired.OutputPath!);
        }
    }

    /// <summary>The memorising model's hundred digits, with chance counted at two standard errors: their lead over unseen
    /// digits (about 13 points) is then within what ease and chance explain, while the model scores its other training
    /// digits as far above unseen ones, so it is dampened; one unanchored repair brings them back, so none is kept.</summary>
    [Fact]
    public void A_model_whose_samples_lead_within_ease_is_left_as_it_was_when_no_repair_gives_back_what_the_dampening_costs()
    {
        using var ws = EstimatorFallbackTests.Memorising();
        const string OneUnanchoredRepair = "\"sampleTolerance\": 2, \"repairCandidates\": 1, \"repairAnchor\": 0";

        var failedRepair = Run(ws, "forget-few", OneUnanchoredRepair, "out-failed", "n");
        var noRepair = Run(ws, "forget-few", OneUnanchoredRepair + ", \"repairEpochs\": 0", "out-none", "n");

        var ease = failedRepair.Parameters!["ease"]!;
        var record = failedRepair.Parameters["repair"]!;
        TestContext.Current.SendDiagnosticMessage($"ease {ease.ToJsonString()}; repair {record.ToJsonString()}; after {failedRepair.After}");
        Assert.True((bool)ease["withinEase"]! && (bool)ease["memorises"]! && !(bool)ease["dampeningSpecific"]! && !(bool)ease["easy"]!, ease.ToJsonString());
        Assert.True((bool)record["ran"]!);
        Assert.False((bool)record["kept"]!);
        Assert.True((bool)record["leftAsWas"]!);
        // Its weights are the original's, said so, with no setting applied (the calibrated one stays in "calibration").
        EngineAssert.SameWeights(ws.Checkpoint("n"), failedRepair.OutputPath!);
        Assert.Contains("no repaired setting gave back the retained accuracy it costs", (string?)failedRepair.Parameters[ModelOutcome.UnchangedKey], StringComparison.Ordinal);
        Assert.Null(failedRepair.Parameters["alpha"]?.GetValue<double?>());
        Assert.Equal(0L, (long)failedRepair.Parameters["selected"]!);
        Assert.NotNull(record["tried"]![0]!["alpha"]); // the calibrated setting, tried and not applied
        Assert.Equal(failedRepair.Before!.RetainAccuracy, failedRepair.After!.RetainAccuracy);
        // Without a repair to try, the calibrated dampening stands, as before: it is the failed repair that shows the
        // dampening's cost buys nothing a repair could keep.
        Assert.Null(noRepair.Parameters!["repair"]);
        Assert.True((long)noRepair.Parameters["selected"]! > 0);
        Assert.True(noRepair.After!.RetainAccuracy < failedRepair.After.RetainAccuracy);
    }

    /// <summary>
    /// The calibration's retain slice is drawn from training samples, which a memorising model still classifies after a
    /// dampening that costs it on unseen ones: the repair also runs when the cost on held-out samples of the retained labels
    /// passes <c>repairTolerance</c> (QA: 0.6-0.8 slice points, under the tolerance, where held-out retain fell 2.1-2.3
    /// points and verify reported FUL5003), and not when neither does.
    /// </summary>
    [Fact]
    public void The_repair_runs_when_the_dampening_costs_held_out_samples_what_the_training_slice_does_not_show()
    {
        using var ws = EstimatorFallbackTests.Memorising();
        static string Tolerance(double value) => "\"repairTolerance\": " + value.ToString("R", CultureInfo.InvariantCulture);

        var record = Run(ws, "forget-few", string.Empty, "out-costs", "m").Parameters!["repair"]!.AsObject();
        var (slice, heldOut) = ((double)record["retainCost"]!, (double)record["heldOutRetainCost"]!);
        TestContext.Current.SendDiagnosticMessage($"slice cost {slice}, held-out cost {heldOut}");
        Assert.True(heldOut > slice + 0.005, $"the memorising model's slice hides part of the cost: {slice} vs {heldOut}");

        var between = Run(ws, "forget-few", Tolerance((slice + heldOut) / 2), "out-between", "m").Parameters!["repair"]!.AsObject();
        var above = Run(ws, "forget-few", Tolerance(Math.Min(1, heldOut + 0.01)), "out-above", "m").Parameters!["repair"]!.AsObject();

        Assert.Equal((slice, heldOut), ((double)between["retainCost"]!, (double)between["heldOutRetainCost"]!)); // the same dampening
        Assert.True((bool)between["ran"]!); // the held-out cost alone passes the tolerance
        Assert.NotEmpty(between["tried"]!.AsArray());
        Assert.False((bool)above["ran"]!);
        Assert.Null(above["tried"]);
    }

    [Fact]
    public void A_label_request_is_byte_identical_with_or_without_the_repair()
    {
        using var ws = new UnlearningWorkspace();

        var outcomes = new[] { ("default", string.Empty), ("off", "\"repairEpochs\": 0"), ("more", "\"repairEpochs\": 5, \"repairCandidates\": 2") }
            .Select(c => Enumerable.Range(0, 3).Select(i => Run(ws, "forget-3", c.Item2, "out-" + c.Item1, "abc"[i].ToString())).ToList())
            .ToList();

        foreach (var others in outcomes.Skip(1))
        {
            foreach (var (one, other) in outcomes[0].Zip(others))
            {
                Assert.Equal(File.ReadAllBytes(one.OutputPath!), File.ReadAllBytes(other.OutputPath!));
                Assert.Null(one.Parameters!["repair"]);
                Assert.Null(one.Parameters["repairEpochs"]);
            }
        }
    }

    [Fact]
    public void The_ladder_holds_the_samples_harder_at_the_calibrated_setting_before_it_dampens_more()
    {
        var settings = new UnlearnSettings { Alphas = [0.25, 0.5, 1, 2, 4], Lambdas = [0.01, 0.1, 0.5, 1] };

        var ladder = UnlearningJob.RepairLadder(new CalibrationPoint(1.5, 0.5, 0, 10, 0.9, 0.9), settings).ToList();

        Assert.Equal(
            [(1.5, 0.5, 1), (1.5, 0.5, 2), (1.5, 0.5, 4), (1.5, 0.5, 8), (1.5, 0.1, 1), (1.5, 0.01, 1), (1, 0.01, 1), (0.5, 0.01, 1), (0.25, 0.01, 1)],
            ladder);
        // Without an anchor there is nothing to double: the calibrated setting once, then stronger ones.
        Assert.Equal(
            [(1.5, 0.5, 0), (1.5, 0.1, 0), (1.5, 0.01, 0), (1, 0.01, 0), (0.5, 0.01, 0), (0.25, 0.01, 0)],
            UnlearningJob.RepairLadder(new CalibrationPoint(1.5, 0.5, 0, 10, 0.9, 0.9), settings with { RepairAnchor = 0 }).ToList());
        Assert.Empty(UnlearningJob.RepairLadder(new CalibrationPoint(null, null, 0, 0, 1, 1), settings));
    }

    [Fact]
    public void The_anchor_keeps_the_repair_from_teaching_the_forgotten_samples_again()
    {
        using var ws = EstimatorFallbackTests.Memorising();

        var anchored = Run(ws, "forget-few", "\"repairCandidates\": 1", "out-anchored", "m");
        var free = Run(ws, "forget-few", "\"repairCandidates\": 1, \"repairAnchor\": 0", "out-free", "m");

        // The same calibrated setting is dampened and repaired in both, on the same retained samples and batches.
        var (withAnchor, without) = (Tried(anchored)[0], Tried(free)[0]);
        TestContext.Current.SendDiagnosticMessage($"anchored {withAnchor.ToJsonString()}; free {without.ToJsonString()}");
        Assert.Equal((double?)withAnchor["alpha"], (double?)without["alpha"]);
        Assert.Equal((1.0, 0.0), ((double)withAnchor["anchor"]!, (double)without["anchor"]!));
        Assert.Equal((long)withAnchor["steps"]!, (long)without["steps"]!);
        // Held to what the dampened model gives them, the memorised samples come back less than without the anchor.
        var calibrated = (double)anchored.Parameters!["calibration"]!["forgetAccuracy"]!;
        Assert.True((double)withAnchor["forgetAccuracy"]! < (double)without["forgetAccuracy"]!, $"{withAnchor} vs {without}");
        Assert.True((double)without["forgetAccuracy"]! > calibrated, $"the free repair brings them back: {without} vs {calibrated}");
        Assert.Equal(1.0, (double)anchored.Parameters["repairAnchor"]!);
    }

    /// <summary>
    /// <c>"sampleBaseline": "repaired"</c> (the default): each repaired setting's samples are held to the target its own
    /// held-out accuracy gives (what the output then scores on unseen samples of their labels), and the first that meets
    /// it, keeping the retained accuracy, is kept, unless a gentler setting met the original model's target with unseen
    /// samples scored better by more than <c>repairTolerance</c>; when none meets its own, the first that meets the
    /// original model's target, which is what <c>"original"</c> keeps, bit for bit.
    /// </summary>
    [Theory]
    [InlineData("m", "", "original")] // memorised: no setting's samples come within chance of its own unseen ones
    [InlineData("n", "", "original")]
    // The third setting, the anchor at 4, meets its own (measured with the repair on 100 samples a label, the default
    // before 300: with 300 none does, the second row's case).
    [InlineData("n", "\"sampleTolerance\": 3.5, \"repairSamples\": 100, ", "repaired")]
    public void A_repair_held_to_its_own_held_out_accuracy_keeps_the_first_setting_whose_samples_lead_unseen_ones_by_chance_alone(string model, string parameters,
        string keptBy)
    {
        using var ws = EstimatorFallbackTests.Memorising();

        var own = Run(ws, "forget-few", parameters.TrimEnd(',', ' '), "out-own", model);
        var original = Run(ws, "forget-few", parameters + "\"sampleBaseline\": \"original\"", "out-original", model);

        var record = own.Parameters!["repair"]!.AsObject();
        TestContext.Current.SendDiagnosticMessage($"{model}: repair {record.ToJsonString()}; after {own.After}; default {original.Parameters!["repair"]!.ToJsonString()}");
        Assert.Equal("repaired", (string?)own.Parameters["sampleBaseline"]);
        Assert.Equal("original", (string?)original.Parameters["sampleBaseline"]);
        Assert.True((bool)record["ran"]!); // the dampening of each case costs retained accuracy

        var calibration = own.Parameters["calibration"]!;
        var (target, unrepairedRetain, samples) = ((double)calibration["target"]!, (double)calibration["retainAccuracy"]!, (int)calibration["forgetSamples"]!);
        var tolerance = (double)own.Parameters["sampleTolerance"]!;
        var tried = Tried(own);
        Assert.Equal(keptBy, (string?)record["keptTarget"]);
        // Every setting tried is held to the target of its own held-out accuracy, as calibration derives one from the original's.
        Assert.All(tried, t => Assert.InRange((double)t["target"]! - UnlearningJob.SampleTarget((double)t["heldOutAccuracy"]!, samples, tolerance), -1e-6, 1e-6));
        bool KeepsRetained(JsonObject t) => (double)t["retainAccuracy"]! >= unrepairedRetain - 1e-9;
        bool MeetsOwn(JsonObject t) => (double)t["forgetAccuracy"]! <= (double)t["target"]! + 1e-9 && KeepsRetained(t);
        bool MeetsOriginal(JsonObject t) => (double)t["forgetAccuracy"]! <= target + 1e-9 && KeepsRetained(t);
        // The ladder's settings come first; the bisections after the first that meets its own target are marked "refined".
        var ladder = tried.TakeWhile(t => t["refined"] is null).ToList();
        var refined = tried.Skip(ladder.Count).ToList();
        Assert.All(refined, t => Assert.True((bool)t["refined"]!));
        var firstOwn = ladder.FindIndex(MeetsOwn);
        var firstOriginal = ladder.FindIndex(MeetsOriginal);
        Assert.Equal(firstOwn >= 0 || firstOriginal >= 0, (bool)record["kept"]!);
        if (firstOwn >= 0)
        {
            // The ladder stops at it; between the gentler setting before it and it, the dampening is bisected (when the two
            // differ in alpha or lambda), and the gentlest setting that meets its own target is kept.
            Assert.Equal(firstOwn + 1, ladder.Count);
            Assert.Contains(refined.Count, new[] { 0, RepairChoice.Refinements });
            var kept = refined.LastOrDefault(MeetsOwn) ?? ladder[firstOwn];
            double Level(JsonObject t) => (double)t["heldOutAccuracy"]!;
            if (firstOriginal >= 0 && firstOriginal < firstOwn && Level(ladder[firstOriginal]) > Level(kept) + (double)own.Parameters["repairTolerance"]! + 1e-6)
            {
                // A gentler setting met the original's target and scores unseen samples better by more than the
                // tolerance: it is kept, as "original" keeps it.
                Assert.Equal(("original", firstOriginal, tried.IndexOf(kept)),
                    ((string?)record["keptTarget"], (int)record["keptTried"]!, (int)record["ownTargetTried"]!));
                EngineAssert.SameWeights(original.OutputPath!, own.OutputPath!);
            }
            else
            {
                Assert.Equal(("repaired", tried.IndexOf(kept)), ((string?)record["keptTarget"], (int)record["keptTried"]!));
                Assert.Null(record["ownTargetTried"]);
            }

            if (refined.Count > 0)
            {
                var (gentler, meets) = (ladder[firstOwn - 1], ladder[firstOwn]);
                var axis = (double)gentler["alpha"]! == (double)meets["alpha"]! ? "lambda" : "alpha";
                Assert.All(refined, t => Assert.InRange((double)t[axis]!, (double)meets[axis]!, (double)gentler[axis]!));
                Assert.True((double)kept[axis]! >= (double)meets[axis]!);
            }
        }
        else if (firstOriginal >= 0)
        {
            // No setting's samples are within chance of its own unseen ones: the default's choice, the same weights.
            Assert.Equal(("original", firstOriginal), ((string?)record["keptTarget"], (int)record["keptTried"]!));
            Assert.Equal(firstOriginal + 1, Tried(original).Count);
            EngineAssert.SameWeights(original.OutputPath!, own.OutputPath!);
        }

        if ((bool)record["kept"]!)
        {
            // The kept setting's held-out accuracy is what the output scores on unseen samples of the forgotten samples' labels.
            var kept = tried[(int)record["keptTried"]!];
            Assert.Equal(own.After!.ForgottenLabelsHeldOutAccuracy!.Value, (double)kept["heldOutAccuracy"]!, 4);
            Assert.Equal((double?)kept["alpha"], (double?)own.Parameters["alpha"]);
        }
    }

    /// <summary>A request for a label and for samples of labels the model keeps: the samples (not the label's) are held to
    /// the target of the repaired model's own held-out accuracy on their labels, measured before the head shift as they
    /// are, and the label's slice to its own target.</summary>
    [Fact]
    public void A_request_for_a_label_and_samples_holds_its_samples_of_kept_labels_to_each_repaired_models_own_held_out_accuracy()
    {
        using var ws = EstimatorFallbackTests.Memorising();
        var indices = string.Join(", ", Enumerable.Range(0, 100).Select(i => i * 4));
        ws.Write("mixed.removal.json", $$"""{ "schemaVersion": 1, "id": "mixed", "forget": { "labels": [7], "samples": [ { "dataset": "few", "split": "train", "indices": [{{indices}}] } ] } }""");

        var outcome = Run(ws, "mixed", string.Empty, "out-mixed", "n");

        var record = outcome.Parameters!["repair"]!.AsObject();
        var calibration = outcome.Parameters["calibration"]!;
        TestContext.Current.SendDiagnosticMessage($"repair {record.ToJsonString()}; calibration {calibration.ToJsonString()}");
        Assert.True((bool)record["ran"]!);
        var (labelTarget, sampleTarget, unrepairedRetain) = ((double)calibration["target"]!, (double)calibration["sampleTarget"]!, (double)calibration["retainAccuracy"]!);
        var samples = outcome.After!.ForgottenSamples; // the forgotten samples of labels n keeps (not the 7s)
        var tried = Tried(outcome);
        Assert.All(tried, t =>
        {
            Assert.NotNull(t["sampleAccuracy"]);
            Assert.InRange((double)t["target"]! - UnlearningJob.SampleTarget((double)t["heldOutAccuracy"]!, samples, 1), -1e-6, 1e-6);
        });
        bool Keeps(JsonObject t, double samplesTarget) => (double)t["forgetAccuracy"]! <= labelTarget + 1e-9
            && (double)t["sampleAccuracy"]! <= samplesTarget + 1e-9 && (double)t["retainAccuracy"]! >= unrepairedRetain - 1e-9;
        // n memorised its samples: none comes within chance of its own unseen ones, so the first setting that met the
        // original model's target is kept, as "original" keeps it.
        Assert.DoesNotContain(tried, t => Keeps(t, (double)t["target"]!));
        Assert.Equal(("original", tried.FindIndex(t => Keeps(t, sampleTarget))), ((string?)record["keptTarget"], (int)record["keptTried"]!));
        Assert.Equal(0.0, outcome.After.HeldOutForgetAccuracy); // the label is forgotten, head shift and all
    }

    [Fact]
    public void The_repair_bisects_the_dampening_towards_the_gentlest_setting_that_meets_geometrically()
    {
        var evaluated = new List<double>();
        bool MeetsAtOrBelow(double lambda, double threshold)
        {
            evaluated.Add(lambda);
            return lambda <= threshold;
        }

        // The memorising benchmark model: lambda 0.5 missed, 0.1 met; somewhere near 0.3 is where it starts to meet.
        Assert.Equal(Math.Sqrt(0.05), RepairChoice.Bisect(0.5, 0.1, 2, l => MeetsAtOrBelow(l, 0.3)), 12);
        Assert.Equal([Math.Sqrt(0.05), Math.Sqrt(0.5 * Math.Sqrt(0.05))], evaluated);
        // Every middle met: the gentlest of them; none did: the setting that met. Along alpha as along lambda.
        Assert.Equal(Math.Sqrt(0.5 * Math.Sqrt(0.05)), RepairChoice.Bisect(0.5, 0.1, 2, _ => true), 12);
        Assert.Equal(0.1, RepairChoice.Bisect(0.5, 0.1, 2, _ => false));
        Assert.Equal(4.0, RepairChoice.Bisect(5.19, 4.0, 0, _ => true));
        evaluated.Clear();
        var alpha = RepairChoice.Bisect(5.19, 4.0, 3, a => MeetsAtOrBelow(a, 4.6));
        Assert.Equal(3, evaluated.Count);
        Assert.InRange(alpha, 4.0, 4.6);
        Assert.All(evaluated, a => Assert.InRange(a, 4.0, 5.19));
    }

    private static List<JsonObject> Tried(ModelOutcome outcome) =>
        [.. outcome.Parameters!["repair"]!["tried"]!.AsArray().Select(t => t!.AsObject())];

    [Fact]
    public void The_repair_settings_are_read_checked_and_described_for_sample_requests_only()
    {
        static UnlearnSettings Read(params (string Key, string Raw)[] parameters) => ParameterSettings.Read(parameters);

        Assert.True(Read().Repairs);
        Assert.False(Read(("repairEpochs", "0")).Repairs);
        Assert.False(Read(("alpha", "2")).Repairs); // a fixed setting has no target to keep
        var custom = Read(("repairEpochs", "3"), ("repairLearningRate", "0.0005"), ("repairSamples", "40"), ("repairCandidates", "2"), ("repairAnchor", "0.5"),
            ("repairFit", "1.5"), ("repairMaxEpochs", "9"));
        Assert.Equal((3, 0.0005, 40, 2, 0.5), (custom.RepairEpochs, custom.RepairLearningRate, custom.RepairSamples, custom.RepairCandidates, custom.RepairAnchor));
        Assert.Equal((1.5, 9), (custom.RepairFit, custom.RepairMaxEpochs));
        var described = Read().Describe(forgetsSamples: true);
        Assert.Equal(2, (int)described["repairEpochs"]!);
        Assert.Equal(0.001, (double)described["repairLearningRate"]!);
        Assert.Equal(300, (int)described["repairSamples"]!); // 100 before: a job key, so sample outputs made before are stale
        Assert.Equal((8, 1.0), ((int)described["repairCandidates"]!, (double)described["repairAnchor"]!));
        Assert.Equal((1.25, 20), ((double)described["repairFit"]!, (int)described["repairMaxEpochs"]!));
        // A fit that cannot go past the first passes is off, whichever setting turned it off: one description, one job key.
        var off = Read(("repairFit", "0")).Describe(forgetsSamples: true);
        Assert.Equal(0.0, (double)off["repairFit"]!);
        Assert.Null(off["repairMaxEpochs"]);
        Assert.Equal(off.ToJsonString(), Read(("repairMaxEpochs", "2")).Describe(forgetsSamples: true).ToJsonString());
        Assert.Equal(off.ToJsonString(), Read(("repairMaxEpochs", "0"), ("repairFit", "3")).Describe(forgetsSamples: true).ToJsonString());
        Assert.False(Read(("repairEpochs", "5"), ("repairMaxEpochs", "5")).FitsRepair);
        Assert.True(Read(("repairEpochs", "5"), ("repairMaxEpochs", "6")).FitsRepair);
        Assert.Null(Read().Describe(forgetsSamples: false)["repairEpochs"]); // a label request's job key ignores it
        Assert.Null(Read(("repairEpochs", "0")).Describe(forgetsSamples: true)["repairLearningRate"]);
        // Which held-out accuracy a repaired setting's samples are held to: described whenever a repair can run (a job key), so outputs made
        // before the default changed are stale.
        Assert.Equal("repaired", Read().SampleBaseline);
        Assert.Equal("repaired", (string?)Read().Describe(forgetsSamples: true)["sampleBaseline"]); // a job key: outputs made before it are stale
        Assert.Equal("original", (string?)Read(("sampleBaseline", "\"original\"")).Describe(forgetsSamples: true)["sampleBaseline"]);
        Assert.Equal(Read().Describe(forgetsSamples: true).ToJsonString(), Read(("sampleBaseline", "\"Repaired\"")).Describe(forgetsSamples: true).ToJsonString());
        Assert.Null(Read(("sampleBaseline", "\"repaired\"")).Describe(forgetsSamples: false)["sampleBaseline"]);
        Assert.Null(Read(("sampleBaseline", "\"repaired\""), ("repairEpochs", "0")).Describe(forgetsSamples: true)["sampleBaseline"]); // no repair, nothing held
        Assert.Contains("one of repaired, original", Assert.Throws<EngineException>(() => Read(("sampleBaseline", "\"own\""))).Message, StringComparison.Ordinal);
        foreach (var (key, raw) in new[] { ("repairEpochs", "-1"), ("repairLearningRate", "0"), ("repairSamples", "0"), ("repairCandidates", "0"), ("repairAnchor", "-1"), ("repairAnchor", "1001"),
            ("repairFit", "-0.5"), ("repairMaxEpochs", "-1") })
        {
            var ex = Assert.Throws<EngineException>(() => Read((key, raw)));
            Assert.Equal("FUL4102", ex.Code);
        }
    }
}
