using FisherUnlearn.Engine.Harvest;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Engine.Verification;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Tests.Unlearning;

[Collection(UnlearningCollection.Name)]
public sealed class RemovalRunnerTests
{
    private static readonly CancellationToken Token = TestContext.Current.CancellationToken;

    private static Dictionary<string, byte[]> Snapshot(UnlearningWorkspace ws) =>
        new[] { "a", "b", "c" }.ToDictionary(id => id, id => File.ReadAllBytes(ws.Checkpoint(id)));

    [Fact]
    public void Fiun_makes_every_model_of_the_chain_forget_and_keeps_retain_accuracy()
    {
        using var ws = new UnlearningWorkspace();
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-3"];
        var originals = Snapshot(ws);

        var result = RemovalRunner.Run(analysis, removal, new RunOptions { Threads = 1 }, Token);

        Assert.True(result.Succeeded, string.Join("\n", result.Models.Select(m => m.Error?.ToString())));
        Assert.Equal(["a", "b", "c"], result.Models.Select(m => m.Id));
        Assert.All(result.Models, m => Assert.True(File.Exists(m.OutputPath)));
        Assert.All(result.Models, m => Assert.Equal(Path.Combine(ws.Root, "artifacts", "unlearn", "forget-3", m.Id + ".safetensors"), m.OutputPath));
        Assert.All(result.Models, m => Assert.Equal("fiun", m.Method));
        Assert.All(result.Models, m => Assert.NotNull(m.Parameters!["alpha"] is null ? "none" : m.Parameters["alpha"]!.ToString()));
        Assert.Equal(originals, Snapshot(ws));
        TestContext.Current.SendDiagnosticMessage(string.Join("\n", result.Models.Select(m => m.Id + " " + m.Parameters!.ToJsonString())));

        var verification = Verifier.Verify(ws.Analyze(), removal, new VerifyOptions { Threads = 1 }, Token);

        Assert.Equal(originals, Snapshot(ws));
        foreach (var model in verification.Models)
        {
            Assert.True(model.After.ForgetAccuracy <= 0.05, $"{model.Id}: forget {model.After.ForgetAccuracy} (before {model.Before.ForgetAccuracy})");
            Assert.True(model.Before.RetainAccuracy - model.After.RetainAccuracy <= 0.05, $"{model.Id}: retain {model.Before.RetainAccuracy} -> {model.After.RetainAccuracy}");
            Assert.True(model.After.ForgetSamples > 0 && model.After.RetainSamples > 0);
        }

        Assert.True(verification.Models.Single(m => m.Id == "a").Before.ForgetAccuracy > 0.5, "the root knew digit 3 before");
        Assert.True(verification.TargetsMet, string.Join("\n", verification.Models.SelectMany(m => m.Missed)));
    }

    [Fact]
    public void A_run_that_harvests_and_calibrates_decodes_each_split_once()
    {
        using var ws = new UnlearningWorkspace();
        var analysis = ws.Analyze();
        var loads = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var options = new RunOptions
        {
            Threads = 1,
            Measure = false,
            LoadData = (dataset, split) =>
            {
                loads.AddOrUpdate($"{dataset.Id}/{split}", 1, (_, n) => n + 1);
                return Engine.Data.DatasetLoader.Load(dataset, split);
            },
        };

        var result = RemovalRunner.Run(analysis, analysis.Workspace.Removals["forget-3"], options, Token);

        Assert.True(result.Succeeded, string.Join("\n", result.Models.Select(m => m.Error?.ToString())));
        Assert.All(result.Models, m => Assert.Equal(false, (bool?)m.Parameters!["harvestCached"]));
        Assert.Equal(1, loads["mnist/train"]); // the harvests of three models and their calibrations share one decode
        var resources = new JobResources();
        var dataset = analysis.Workspace.Datasets["mnist"];
        Assert.Same(resources.Splits.Get(dataset, "train"), resources.Harvest.Train(dataset));
    }

    [Fact]
    public void Forget_plans_made_ahead_give_one_and_two_label_requests_the_calibrated_bytes_without_calibrating()
    {
        using var ws = new UnlearningWorkspace();
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-3"];
        var pair = removal with { Id = "forget-3-4", Labels = [3, 4] };
        RunResult Run(RemovalManifest r, string folder) =>
            RemovalRunner.Run(analysis, r, new RunOptions { Threads = 1, Measure = false, OutputDirectory = ws.PathOf(folder) }, Token);
        static bool Planned(ModelOutcome m) => (bool)m.Parameters!["calibrationPlanned"]!;

        var calibrated = Run(removal, "calibrated");
        var pairCalibrated = Run(pair, "pair-calibrated");
        var settings = UnlearnSettings.From(removal, analysis.Workspace.Settings);
        foreach (var (id, known) in new[] { ("a", 4), ("b", 5), ("c", 6) })
        {
            var file = ForgetPlans.Compute(analysis, id, settings, new JobResources(), removal.Targets?.MaxForgetAccuracy, Token);
            Assert.False(file.Cached);
            Assert.True(File.Exists(file.Path));
            Assert.Equal(known, file.Plans.SingleLabels); // a knows 0-3; b adds 4; c adds 5
            Assert.Equal(known * (known - 1) / 2, file.Plans.LabelSets); // and every pair of them
            Assert.Equal(file.Plans.Count, file.Calibrated);
            Assert.NotNull(file.Plans.Find([3]));
            Assert.Equal(id != "a", file.Plans.Find([4, 3]) is not null);
            Assert.All(file.Plans.All, p => Assert.True(p.Result.Evaluated >= 1 && p.ForgetSamples > 0 && p.RetainSamples > 0));
        }

        var planned = Run(removal, "planned");
        var pairPlanned = Run(pair, "pair-planned");

        Assert.True(calibrated.Succeeded && planned.Succeeded && pairCalibrated.Succeeded && pairPlanned.Succeeded);
        Assert.All(calibrated.Models.Concat(pairCalibrated.Models), m => Assert.False(Planned(m)));
        Assert.All(planned.Models.Concat(pairPlanned.Models), m => Assert.True(Planned(m))); // a, which never knew 4, forgets 3 alone
        foreach (var (first, second) in calibrated.Models.Zip(planned.Models).Concat(pairCalibrated.Models.Zip(pairPlanned.Models)))
        {
            Assert.Equal(File.ReadAllBytes(first.OutputPath!), File.ReadAllBytes(second.OutputPath!));
            Assert.Equal(first.Parameters!["calibration"]!.ToJsonString(), second.Parameters!["calibration"]!.ToJsonString());
        }

        // Plans stand in only for exactly what they calibrated: three labels c knows are not planned by default (b never
        // knew 5, so it forgets the pair it has a plan for). Other settings calibrate.
        var three = Run(removal with { Labels = [3, 4, 5] }, "three-labels").Models.ToDictionary(m => m.Id);
        Assert.True(Planned(three["a"]));
        Assert.True(Planned(three["b"]));
        Assert.False(Planned(three["c"]));
        var otherSettings = removal with { Parameters = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["calibrationRetain"] = "20" } };
        Assert.All(Run(otherSettings, "other-settings").Models, m => Assert.False(Planned(m)));
        var again = ForgetPlans.Compute(analysis, "a", settings, new JobResources(), removal.Targets?.MaxForgetAccuracy, Token);
        Assert.True(again.Cached);
        Assert.Equal(0, again.Calibrated);

        // A damaged plan file is a miss: the request calibrates and still writes the same bytes.
        var damagedPlans = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(again.Path))!;
        foreach (var item in damagedPlans["plans"]!.AsArray())
        {
            item!.AsObject().Remove("headShift");
        }

        File.WriteAllText(again.Path, damagedPlans.ToJsonString());
        var damaged = Run(removal, "damaged").Models.ToDictionary(m => m.Id);
        Assert.False(Planned(damaged["a"]));
        Assert.Equal(File.ReadAllBytes(calibrated.Models[0].OutputPath!), File.ReadAllBytes(damaged["a"].OutputPath!));
    }

    [Fact]
    public void Widening_the_plan_coverage_calibrates_only_the_missing_label_sets_and_keeps_the_stored_plans()
    {
        using var ws = new UnlearningWorkspace();
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-3"];
        var settings = UnlearnSettings.From(removal, analysis.Workspace.Settings);
        var target = removal.Targets?.MaxForgetAccuracy;

        var singles = ForgetPlans.Compute(analysis, "b", settings, new JobResources(), target, force: false, ForgetPlanCoverage.SingleLabels, Token);
        var widened = ForgetPlans.Compute(analysis, "b", settings, new JobResources(), target, force: false, coverage: null, Token);
        var narrowedAgain = ForgetPlans.Compute(analysis, "b", settings, new JobResources(), target, force: false, ForgetPlanCoverage.SingleLabels, Token);
        var tight = ForgetPlans.Compute(analysis, "b", settings, new JobResources(), target, force: true, new ForgetPlanCoverage { MaxPlans = 14 }, Token);

        Assert.Equal((5, 0, 5), (singles.Plans.SingleLabels, singles.Plans.LabelSets, singles.Calibrated));
        Assert.Equal((5, 10, 10), (widened.Plans.SingleLabels, widened.Plans.LabelSets, widened.Calibrated));
        Assert.All(singles.Plans.All, p => Assert.Equal((p.Result.Chosen, p.Result.Evaluated), (widened.Plans.Find(p.Labels)!.Result.Chosen, widened.Plans.Find(p.Labels)!.Result.Evaluated)));
        Assert.True(narrowedAgain.Cached); // a narrower coverage is served by the stored file, pairs kept
        Assert.Equal(15, narrowedAgain.Plans.Count);
        // 5 + 10 pairs > 14: the forced harvest calibrates the single labels again, and keeps the pairs a wider one stored.
        Assert.Equal((5, 10, 5), (tight.Plans.SingleLabels, tight.Plans.LabelSets, tight.Calibrated));
    }

    [Fact]
    public void Plans_another_harvest_stored_meanwhile_are_merged_not_overwritten()
    {
        using var ws = new UnlearningWorkspace();
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-3"];
        var settings = UnlearnSettings.From(removal, analysis.Workspace.Settings);
        var target = removal.Targets?.MaxForgetAccuracy;
        ForgetPlanFile? other = null;

        // While this harvest calibrates single labels (it read no stored plans), another one stores every pair: the last
        // writer used to win, and the pairs were lost with both harvests reporting success.
        var singles = ForgetPlans.Compute(analysis, "b", settings, new JobResources(), target, force: false, ForgetPlanCoverage.SingleLabels, Token,
            progress: (done, _) => other ??= done == 1 ? ForgetPlans.Compute(analysis, "b", settings, new JobResources(), target, force: false, coverage: null, Token) : null);

        Assert.NotNull(other);
        Assert.Equal(10, other.Plans.LabelSets);
        Assert.Equal((5, 10), (singles.Plans.SingleLabels, singles.Plans.LabelSets));
        Assert.Equal(15, ForgetPlans.Load(analysis.Workspace.OutputDirectory, "b", ForgetPlans.KeyOf(
            Path.GetFileNameWithoutExtension(Directory.GetFiles(HarvestDirectory(ws, "b"), "*.safetensors").Single()), settings, target))?.Count);
    }

    private static string HarvestDirectory(UnlearningWorkspace ws, string model) => Path.Combine(ws.Analyze().Workspace.OutputDirectory, "harvest", model);

    [Theory]
    [InlineData("")]
    [InlineData(""", "parameters": { "importance": "roots" }""")]
    public void Jobs_run_in_parallel_threads_give_the_same_bytes_as_one_after_the_other(string extra)
    {
        using var ws = new UnlearningWorkspace(removalExtra: extra);
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-3"];
        var originals = Snapshot(ws);
        var harvest = Path.Combine(analysis.Workspace.OutputDirectory, "harvest");
        RunResult Run(int parallelism, string folder, bool fresh = true)
        {
            // A fresh run computes the harvest: with roots importance, every job also asks for the root's harvest, so
            // parallel jobs race for it.
            if (fresh && Directory.Exists(harvest))
            {
                Directory.Delete(harvest, recursive: true);
            }

            return RemovalRunner.Run(analysis, removal, new RunOptions { Threads = 1, Parallelism = parallelism, Measure = false, OutputDirectory = ws.PathOf(folder) }, Token);
        }

        var sequential = Run(1, "sequential");
        var parallel = Run(3, "parallel");
        var cachedParallel = Run(3, "cached", fresh: false);

        Assert.True(sequential.Succeeded && parallel.Succeeded && cachedParallel.Succeeded, string.Join("\n", parallel.Models.Select(m => m.Error?.ToString())));
        Assert.Equal(["a", "b", "c"], parallel.Models.Select(m => m.Id)); // Plan order, whichever finished first.
        Assert.All(cachedParallel.Models, m => Assert.True((bool)m.Parameters!["harvestCached"]!));
        foreach (var (one, other) in sequential.Models.Zip(parallel.Models).Concat(sequential.Models.Zip(cachedParallel.Models)))
        {
            Assert.Equal(one.Id, other.Id);
            Assert.Equal(one.OutputSha256, other.OutputSha256);
            Assert.Equal(File.ReadAllBytes(one.OutputPath!), File.ReadAllBytes(other.OutputPath!));
        }

        Assert.Equal(originals, Snapshot(ws));
    }

    [Theory]
    [InlineData("ssd", "")]
    [InlineData("fiun", """, "parameters": { "importance": "roots" }""")]
    [InlineData("fiun", """, "parameters": { "layers": "last", "alphas": "1, 2", "lambdas": "0.1" }""")]
    public void The_other_variants_run_and_write_every_output(string method, string extra)
    {
        using var ws = new UnlearningWorkspace(removalExtra: extra);
        var analysis = ws.Analyze();
        Assert.False(analysis.HasErrors, string.Join("\n", analysis.Diagnostics));
        var originals = Snapshot(ws);

        var result = RemovalRunner.Run(analysis, analysis.Workspace.Removals["forget-3"], new RunOptions { Method = method, Threads = 1, Measure = false }, Token);

        Assert.True(result.Succeeded, string.Join("\n", result.Models.Select(m => m.Error?.ToString())));
        Assert.All(result.Models, m => Assert.True(File.Exists(m.OutputPath)));
        Assert.All(result.Models, m => Assert.Equal(64, m.OutputSha256!.Length));
        Assert.Equal(originals, Snapshot(ws));
        if (extra.Contains("roots", StringComparison.Ordinal))
        {
            Assert.All(result.Models, m => Assert.Equal("roots", (string?)m.Parameters!["importanceSource"]));
        }
    }

    [Fact]
    public void Metrics_are_fractions_a_model_that_never_saw_the_class_has_a_low_MIA_rate_and_parallel_verification_agrees()
    {
        using var ws = new UnlearningWorkspace();
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-3"];
        RemovalRunner.Run(analysis, removal, new RunOptions { Method = "retrain", Threads = 1, Measure = false }, Token);

        var phases = new System.Collections.Concurrent.ConcurrentQueue<(string Id, string Phase)>();
        var verification = Verifier.Verify(analysis, removal, new VerifyOptions { Threads = 1, Reference = true, Phase = (id, phase) => phases.Enqueue((id, phase)) }, Token);

        // Progress: each model's reference retrains epoch by epoch (1 epoch each here), is ready, then is measured.
        foreach (var id in new[] { "a", "b", "c" })
        {
            Assert.Equal(["retraining, epoch 1/1", "reference retrained; waiting", "measuring"], phases.Where(p => p.Id == id).Select(p => p.Phase));
        }

        foreach (var model in verification.Models)
        {
            foreach (var metrics in new[] { model.Before, model.After, model.Reference! })
            {
                foreach (var value in new[] { metrics.ForgetAccuracy, metrics.RetainAccuracy, metrics.TestAccuracy, metrics.Mia })
                {
                    Assert.NotNull(value);
                    Assert.InRange(value.Value, 0, 1);
                }
            }
        }

        // Models measured at once, on threads, measure the same.
        var parallel = Verifier.Verify(analysis, removal, new VerifyOptions { Threads = 1, Reference = true, Parallelism = 3 }, Token);
        Assert.Equal(verification.Models.Select(m => (m.Id, m.Before, m.After, m.Reference, string.Join(',', m.Missed.Select(d => d.Code)))),
            parallel.Models.Select(m => (m.Id, m.Before, m.After, m.Reference, string.Join(',', m.Missed.Select(d => d.Code)))));

        var root = verification.Models.Single(m => m.Id == "a");
        Assert.True(root.Reference!.Mia <= 0.2, $"retrained root MIA {root.Reference.Mia}");
        Assert.True(root.After.Mia <= 0.2, $"retrained (run) root MIA {root.After.Mia}");
        Assert.True(root.Before.Mia > root.Reference.Mia, $"original root MIA {root.Before.Mia} vs retrained {root.Reference.Mia}");
        Assert.True(verification.ReferenceSeconds > 0);
    }

    [Fact]
    public void A_run_meeting_a_harvest_file_damaged_after_it_was_written_computes_it_again_instead_of_failing()
    {
        using var ws = new UnlearningWorkspace();
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-3"];
        var first = RemovalRunner.Run(analysis, removal, new RunOptions { OutputDirectory = Path.Combine(ws.Root, "first"), Measure = false }, Token);
        var harvestFile = Directory.GetFiles(Path.Combine(analysis.Workspace.OutputDirectory, HarvestCache.FolderName, "a"), "*.safetensors").Single();
        var intact = File.ReadAllBytes(harvestFile);
        var headerLength = 8 + (int)BitConverter.ToUInt64(intact, 0);
        var torn = intact.ToArray();
        Array.Clear(torn, headerLength, torn.Length - headerLength); // the header survived, the data did not
        File.WriteAllBytes(harvestFile, torn);

        var second = RemovalRunner.Run(analysis, removal, new RunOptions { OutputDirectory = Path.Combine(ws.Root, "second"), Measure = false }, Token);

        Assert.All(second.Models, m => Assert.True(m.Succeeded, m.Error?.ToString()));
        Assert.Equal(intact, File.ReadAllBytes(harvestFile));
        Assert.Equal(first.Models.Select(m => m.OutputSha256), second.Models.Select(m => m.OutputSha256));
    }

    [Fact]
    public void A_job_runs_on_its_own_from_the_workspace_root_and_writes_only_its_output()
    {
        using var ws = new UnlearningWorkspace();
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-3"];
        var settings = UnlearnSettings.From(removal, analysis.Workspace.Settings);
        var directory = RemovalRunner.RemovalOutputDirectory(analysis.Workspace, removal.Id);

        var outcome = new UnlearningJob(ws.Root, "forget-3", "c", settings, directory).Run(Token);

        Assert.True(outcome.Succeeded, outcome.Error?.ToString());
        Assert.Equal(["c.safetensors"], Directory.GetFiles(directory).Select(Path.GetFileName));
        var metadata = FisherUnlearn.Engine.Training.TrainingInputs.ReadMetadata(outcome.OutputPath!)!;
        Assert.Equal("fiun", metadata[UnlearningJob.MethodKey]);
        Assert.Equal(outcome.InputSha256, metadata[UnlearningJob.InputKey]);
        Assert.Contains("\"alpha\"", metadata[UnlearningJob.ParametersKey], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "temperature": 3, "alpha": -1 }""", new[] { "FUL4102", "FUL4105" })]
    [InlineData("""{ "estimator": "batch", "temperature": 3, "lambdas": "x" }""", new[] { "FUL4102", "FUL4105" })]
    [InlineData("""{ "estimator": "nope", "temperature": 3 }""", new[] { "FUL4102" })]
    public void A_bad_value_of_another_parameter_does_not_hide_the_temperature_warning(string parameters, string[] codes)
    {
        using var ws = new UnlearningWorkspace(train: false, removalExtra: $",\n \"parameters\": {parameters}");

        var listed = UnlearnSettings.Check(ws.Analyze().Workspace);

        Assert.Equal(codes, listed.Select(d => d.Code).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("""{ "temperature": 3 }""", true)]
    [InlineData("""{ "estimator": "batch", "temperature": 3 }""", true)]
    [InlineData("""{ "estimator": "tempered", "temperature": 3 }""", false)]
    [InlineData("""{ "estimator": "tempered" }""", false)]
    public void A_temperature_without_the_tempered_estimator_is_a_warning_at_its_line(string parameters, bool warned)
    {
        using var ws = new UnlearningWorkspace(train: false, removalExtra: $",\n \"parameters\": {parameters}");
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-3"];

        var listed = UnlearnSettings.Check(analysis.Workspace);

        if (warned)
        {
            var warning = Assert.Single(listed);
            Assert.Equal("FUL4105", warning.Code);
            Assert.False(warning.IsError);
            Assert.Equal(removal.ParameterLocations["temperature"], warning.Location);
            Assert.Contains("'temperature' applies only to the 'tempered' estimator", warning.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(listed);
        }
    }

    [Theory]
    [InlineData(null, """{ "alpha": -1 }""", "FUL4102")]
    [InlineData(null, """{ "unknown": 1 }""", "FUL4102")]
    [InlineData(null, """{ "target": 2 }""", "FUL4102")]
    [InlineData(null, """{ "lambdas": "0.1,,0.2" }""", "FUL4102")]
    [InlineData(null, """{ "repairEpochs": 3000000000 }""", "FUL4102")]
    [InlineData("nope", null, "FUL4101")]
    public void Bad_methods_and_parameters_are_FUL_errors_at_their_line(string? methodOption, string? parameters, string code)
    {
        var extra = parameters is null ? string.Empty : $",\n \"parameters\": {parameters}";
        using var ws = new UnlearningWorkspace(train: false, removalExtra: extra);
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-3"];

        var error = Assert.Throws<EngineException>(() => UnlearnSettings.From(removal, analysis.Workspace.Settings, methodOption));
        var listed = UnlearnSettings.Check(analysis.Workspace);

        Assert.Equal(code, error.Code);
        if (methodOption is null)
        {
            // A manifest's value is reported where it is written, and validate lists it (Check) without running anything.
            Assert.Equal(removal.ParameterLocations.Values.Single(), error.Diagnostic.Location);
            Assert.Equal(error.Diagnostic, Assert.Single(listed));
        }
        else
        {
            Assert.Equal(string.Empty, error.Diagnostic.Location.File); // --method has no file to point at
            Assert.Empty(listed);
        }
    }

    [Theory]
    [InlineData("repairEpochs", "3000000000", "a whole number from 0 to 2147483647")]
    [InlineData("calibrationForget", "0", "a whole number from 1 to 2147483647")]
    [InlineData("calibrationForget", "2.5", "a whole number from 1 to 2147483647")]
    [InlineData("temperature", "0.001", "a temperature from 0.01 to 1000000 (1 = the exact Fisher)")] // 1e-30 overflowed (QA)
    public void A_setting_out_of_range_says_the_range_it_must_be_in(string key, string value, string range)
    {
        using var ws = new UnlearningWorkspace(train: false, removalExtra: $",\n \"parameters\": {{ \"{key}\": {value} }}");
        var analysis = ws.Analyze();

        var error = Assert.Throws<EngineException>(() => UnlearnSettings.From(analysis.Workspace.Removals["forget-3"], analysis.Workspace.Settings, null));

        Assert.Equal("FUL4102", error.Code);
        Assert.Contains($"'{key}' is {value}; it must be {range}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_method_in_a_manifest_is_a_manifest_error()
    {
        using var ws = new UnlearningWorkspace(train: false, removalExtra: ", \"method\": \"nope\"");

        var analysis = ws.Analyze();

        Assert.Contains(analysis.Diagnostics, d => d.Code == "FUL1024" && d.Location.File.EndsWith("forget-3.removal.json", StringComparison.Ordinal));
    }
}
