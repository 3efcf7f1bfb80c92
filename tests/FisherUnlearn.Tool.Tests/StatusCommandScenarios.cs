using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Running;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

/// <summary><c>status</c> on the chain a -> b (removals forget-1: a and b; forget-2: b; forget-3: nothing), with
/// stand-in checkpoints and outputs written directly (no training).</summary>
public sealed class StatusCommandScenarios
{
    private static TempWorkspace ChainWithCheckpoints()
    {
        var ws = SampleWorkspaces.Chain();
        WriteCheckpoint(ws.PathOf("a/bin/a.safetensors"), 1f);
        WriteCheckpoint(ws.PathOf("b/bin/b.safetensors"), 2f);
        return ws;
    }

    private static void WriteCheckpoint(string path, float value, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SafetensorsFile.Write(path, new Dictionary<string, SafetensorsTensor> { ["w"] = SafetensorsTensor.FromFloats([1], [value]) }, metadata);
    }

    /// <summary>An output as <c>run</c> leaves it: the checkpoint and its job record with the current job key.</summary>
    private static void WriteOutput(TempWorkspace ws, string removalId, string modelId, string method = "fiun")
    {
        var analysis = WorkspaceAnalysis.Analyze(ws.Root);
        var plan = Planner.Plan(analysis.Workspace, analysis.Graph, analysis.Workspace.Removals[removalId]);
        var directory = ws.PathOf($"artifacts/unlearn/{removalId}");
        var output = UnlearningJob.OutputPathOf(directory, modelId);
        WriteCheckpoint(output, 0f);
        var outcome = new ModelOutcome { Id = modelId, Role = plan.Find(modelId)!.Role, Method = method, OutputPath = output, OutputSha256 = ContentHash.OfFile(output) };
        new JobRecord(JobKey.Compute(analysis, plan, modelId, method), outcome).Write(directory, ws.Root);
    }

    private static async Task<Newtonsoft.Json.Linq.JToken> Removal(TempWorkspace ws, string id)
    {
        var run = await CliRun.InvokeAsync(ws.Root, "status", "--json");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(1, (int)run.Json["schemaVersion"]!);
        return run.Json["removals"]!.Single(r => (string?)r["id"] == id);
    }

    // Found in QA: moving a checkpoint (the file and its 'checkpoint' path), or a setting training ignores, made every output
    // of the lineage stale, though no weight and no input changed.
    [Fact]
    public async Task Moving_a_checkpoint_keeps_outputs_done_and_a_change_to_the_lineage_makes_them_stale()
    {
        using var ws = ChainWithCheckpoints();
        WriteOutput(ws, "forget-1", "a");
        WriteOutput(ws, "forget-1", "b");
        Assert.Equal("done", (string?)(await Removal(ws, "forget-1"))["state"]);

        Directory.CreateDirectory(ws.PathOf("a/models"));
        File.Move(ws.PathOf("a/bin/a.safetensors"), ws.PathOf("a/models/a.safetensors"));
        ws.Write("a/a.lineage.json", ws.ReadText("a/a.lineage.json").Replace("bin/a.safetensors", "models/a.safetensors", StringComparison.Ordinal));
        Assert.Equal("done", (string?)(await Removal(ws, "forget-1"))["state"]);

        ws.Write("b/b.lineage.json", ws.ReadText("b/b.lineage.json").Replace("\"finetune\"", "\"distill\"", StringComparison.Ordinal));
        var changed = await Removal(ws, "forget-1");
        Assert.Equal("stale", (string?)changed["state"]);
        Assert.Equal("done", (string?)changed["models"]!.Single(m => (string?)m["id"] == "a")!["state"]);
    }

    [Fact]
    public async Task Reformatting_unlearn_json_keeps_outputs_done_and_changing_a_value_makes_them_stale()
    {
        using var ws = ChainWithCheckpoints();
        ws.Write("unlearn.json", """{ "output": "artifacts/unlearn", "method": "fiun" }""");
        WriteOutput(ws, "forget-2", "b");
        Assert.Equal("done", (string?)(await Removal(ws, "forget-2"))["state"]);

        ws.Write("unlearn.json", "{\n    \"method\": \"fiun\",\n\n    \"output\": \"artifacts/unlearn\"\n}\n\n");
        Assert.Equal("done", (string?)(await Removal(ws, "forget-2"))["state"]);

        ws.Write("unlearn.json", """{ "output": "artifacts/unlearn", "method": "ssd" }""");
        Assert.Equal("stale", (string?)(await Removal(ws, "forget-2"))["state"]);
    }

    [Fact]
    public async Task Settings_of_unlearn_json_that_change_no_output_byte_keep_outputs_done_and_a_parameter_or_the_method_makes_them_stale()
    {
        using var ws = ChainWithCheckpoints();
        ws.Write("unlearn.json", """{ "method": "fiun", "threads": 1, "parallelism": 1, "parameters": { "alpha": 2 } }""");
        WriteOutput(ws, "forget-2", "b");
        Assert.Equal("done", (string?)(await Removal(ws, "forget-2"))["state"]);

        // Thread counts (outputs are the same bytes with any), where outputs go, the harvest's plan limits, extensions.
        ws.Write("unlearn.json", """
            { "method": "fiun", "threads": 8, "parallelism": 4, "planLabels": 1, "maxPlans": 7, "output": "artifacts/unlearn",
              "exclude": ["**/notes/**"], "x-owner": "ml-team", "parameters": { "x-why": "tuned", "alpha": 2 } }
            """);
        Assert.Equal("done", (string?)(await Removal(ws, "forget-2"))["state"]);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "plan", "forget-2", "--check")).ExitCode);

        ws.Write("unlearn.json", """{ "method": "fiun", "threads": 8, "parameters": { "alpha": 3 } }""");
        Assert.Equal("stale", (string?)(await Removal(ws, "forget-2"))["state"]);
        Assert.Equal(3, (await CliRun.InvokeAsync(ws.Root, "plan", "forget-2", "--check")).ExitCode);
    }

    /// <summary>A removal counts by what it asks and the settings the method resolves from it, not by its bytes: an
    /// erasure ticket's reason, a verify-only target, the default forget target (0.01) or a parameter written out, 0.50 for
    /// 0.5 change no output; what it forgets, a parameter's value and the forget accuracy it aims at do.</summary>
    [Fact]
    public async Task A_removals_reason_and_parameters_written_as_their_defaults_keep_outputs_done_and_what_it_asks_makes_them_stale()
    {
        using var ws = ChainWithCheckpoints();
        ws.Write("forget-2.removal.json", """{ "schemaVersion": 1, "id": "forget-2", "forget": { "labels": [2] }, "parameters": { "alphas": "0.5, 2" } }""");
        WriteOutput(ws, "forget-2", "b");
        Assert.Equal("done", (string?)(await Removal(ws, "forget-2"))["state"]);

        ws.Write("forget-2.removal.json", """
            { "schemaVersion": 1, "id": "forget-2", "reason": "Erasure request 42", "requestedAt": "2026-11-27",
              "forget": { "labels": [2] }, "targets": { "maxForgetAccuracy": 0.01, "maxRetainDrop": 0.05 }, "x-ticket": "GDPR-42",
              "parameters": { "alphas": "0.50,2.0", "headTolerance": 0.01, "seed": 0, "rootDivisor": 3 } }
            """);
        Assert.Equal("done", (string?)(await Removal(ws, "forget-2"))["state"]);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "plan", "forget-2", "--check")).ExitCode);

        foreach (var changed in new[]
        {
            """{ "schemaVersion": 1, "id": "forget-2", "forget": { "labels": [2] }, "parameters": { "alphas": "0.5, 4" } }""",
            """{ "schemaVersion": 1, "id": "forget-2", "forget": { "labels": [2] }, "parameters": { "alphas": "0.5, 2", "headTolerance": 0.02 } }""",
            """{ "schemaVersion": 1, "id": "forget-2", "forget": { "labels": [2] }, "parameters": { "alphas": "0.5, 2" }, "targets": { "maxForgetAccuracy": 0.05 } }""",
            """{ "schemaVersion": 1, "id": "forget-2", "forget": { "labels": [1, 2] }, "parameters": { "alphas": "0.5, 2" } }""",
        })
        {
            ws.Write("forget-2.removal.json", changed);
            Assert.Equal("stale", (string?)(await Removal(ws, "forget-2"))["models"]!.Single(m => (string?)m["id"] == "b")!["state"]);
        }
    }

    /// <summary>A custom architecture's module assembly is code the unlearning runs (its forward pass gives the Fisher
    /// importance and the calibration): rebuilding it with other code makes the output stale.</summary>
    [Fact]
    public async Task A_change_to_a_custom_models_assembly_makes_its_outputs_and_its_descendants_stale()
    {
        using var ws = ChainWithCheckpoints();
        ws.Write("a/a.lineage.json", """
            { "schemaVersion": 1, "id": "a", "checkpoint": "bin/a.safetensors",
              "architecture": { "kind": "custom", "assembly": "bin/Models.dll", "type": "Models.Net", "classes": 4 },
              "data": [ { "dataset": "toy", "labels": [0, 1] } ] }
            """);
        // b (an mlp) is a's student: its output depends on a's assembly as on a's checkpoint.
        ws.Write("b/b.lineage.json", ws.ReadText("b/b.lineage.json").Replace("\"finetune\"", "\"distill\"", StringComparison.Ordinal));
        ws.Write("a/bin/Models.dll", "version 1");
        WriteOutput(ws, "forget-1", "a");
        WriteOutput(ws, "forget-1", "b");
        Assert.Equal("done", (string?)(await Removal(ws, "forget-1"))["state"]);

        ws.Write("a/bin/Models.dll", "version 2");

        var removal = await Removal(ws, "forget-1");
        Assert.Equal("stale", (string?)removal["state"]);
        Assert.All(removal["models"]!, m => Assert.Equal("stale", (string?)m["state"]));
    }

    /// <summary>A checkpoint deleted after the run: its output is stale, but 'run' would stop at the missing checkpoint
    /// (FUL4104), so status sends the user to 'train' first and names the model.</summary>
    [Fact]
    public async Task A_deleted_checkpoint_is_named_and_status_says_to_train_before_running()
    {
        using var ws = ChainWithCheckpoints();
        WriteOutput(ws, "forget-1", "a");
        WriteOutput(ws, "forget-1", "b");
        Assert.Empty((await Removal(ws, "forget-1"))["missingCheckpoints"]!);

        File.Delete(ws.PathOf("a/bin/a.safetensors"));

        var removal = await Removal(ws, "forget-1");
        Assert.Equal("stale", (string?)removal["state"]);
        Assert.Equal(["a"], removal["missingCheckpoints"]!.Select(m => (string)m!));
        // forget-2 affects only b, whose lineage holds a: its run needs a's checkpoint too (b's ancestor).
        Assert.Equal(["a"], (await Removal(ws, "forget-2"))["missingCheckpoints"]!.Select(m => (string)m!));
        var text = await CliRun.InvokeAsync(ws.Root, "status");
        Assert.Equal(0, text.ExitCode);
        // a has no training recipe: only the user can put its file back.
        Assert.Contains("forget-1: a (stale), b (stale); checkpoint missing for a: put the file back, or fix 'checkpoint' in the manifest ('a' has no training recipe, so 'dotnet unlearn train' cannot make it), then 'dotnet unlearn run forget-1'.", text.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("forget-3:", text.Out, StringComparison.Ordinal);
        // plan --check, the CI gate, says the same: train first (a plain 'run' would stop at FUL4104).
        var check = await CliRun.InvokeAsync(ws.Root, "plan", "forget-2", "--check");
        var checkJson = await CliRun.InvokeAsync(ws.Root, "plan", "forget-2", "--check", "--json");
        Assert.Equal(3, check.ExitCode);
        Assert.Contains("checkpoint missing for a: put the file back, or fix 'checkpoint' in the manifest ('a' has no training recipe, so 'dotnet unlearn train' cannot make it), then 'dotnet unlearn run forget-2'.", check.Error, StringComparison.Ordinal);
        // With a recipe, 'train' makes it again.
        ws.Write("a/a.lineage.json", ws.ReadText("a/a.lineage.json").Replace("\"data\":", "\"training\": { \"epochs\": 1, \"batchSize\": 8, \"optimizer\": \"adam\", \"learningRate\": 0.01, \"seed\": 1 }, \"data\":", StringComparison.Ordinal));
        Assert.Contains("checkpoint missing for a: run 'dotnet unlearn train' (or fix 'checkpoint' in its manifest), then 'dotnet unlearn run forget-2'.",
            (await CliRun.InvokeAsync(ws.Root, "plan", "forget-2", "--check")).Error, StringComparison.Ordinal);
        Assert.Equal(["a"], checkJson.Json["missingCheckpoints"]!.Select(m => (string)m!));
        Assert.Empty(checkJson.Json["unreadableCheckpoints"]!);
    }

    /// <summary>A checkpoint cut short after the run: 'run' fails on it (FUL4021) however often it is run, so status and
    /// plan --check name it, with why, and send the user to 'train' first (QA: both said only "run").</summary>
    [Fact]
    public async Task A_checkpoint_that_cannot_be_read_is_named_with_why_and_status_says_to_train_before_running()
    {
        using var ws = ChainWithCheckpoints();
        WriteOutput(ws, "forget-1", "a");
        WriteOutput(ws, "forget-1", "b");
        var path = ws.PathOf("a/bin/a.safetensors");
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..20]);

        var removal = await Removal(ws, "forget-1");
        var text = await CliRun.InvokeAsync(ws.Root, "status");
        var check = await CliRun.InvokeAsync(ws.Root, "plan", "forget-2", "--check", "--json");

        Assert.Empty(removal["missingCheckpoints"]!);
        var unreadable = Assert.Single(removal["unreadableCheckpoints"]!);
        Assert.Equal("a", (string?)unreadable["id"]);
        Assert.Contains("the header claims", (string?)unreadable["reason"], StringComparison.Ordinal);
        Assert.Contains("forget-1: a (stale), b (stale); checkpoint of 'a' cannot be read (the header claims", text.Out, StringComparison.Ordinal);
        Assert.Contains("): put the file back, or fix 'checkpoint' in the manifest ('a' has no training recipe, so 'dotnet unlearn train' cannot make it), then 'dotnet unlearn run forget-1'.", text.Out, StringComparison.Ordinal);
        Assert.Equal(3, check.ExitCode);
        Assert.Equal("a", (string?)Assert.Single(check.Json["unreadableCheckpoints"]!)["id"]);
        Assert.Contains("checkpoint of 'a' cannot be read", check.Error, StringComparison.Ordinal);
    }

    /// <summary>A trained model's checkpoint replaced by a Git LFS pointer: train leaves it as it is without --force
    /// (FUL4070), so status does not send the user to plain 'train' (QA: it did, and train then refused).</summary>
    [Fact]
    public async Task A_checkpoint_train_would_leave_as_it_is_is_to_be_fetched_or_trained_over_with_force()
    {
        using var ws = DigitsChain.Create();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        ws.Write("b/bin/b.safetensors", "version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 103344\n");

        var text = await CliRun.InvokeAsync(ws.Root, "status");
        var train = await CliRun.InvokeAsync(ws.Root, "train");

        Assert.Contains("checkpoint of 'b' cannot be read (", text.Out, StringComparison.Ordinal);
        Assert.Contains("): restore or fetch the file of 'b', or train over it with 'dotnet unlearn train --force --model b', then 'dotnet unlearn run forget-3'.", text.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("run 'dotnet unlearn train' (", text.Out, StringComparison.Ordinal);
        Assert.Equal(2, train.ExitCode); // what status said: plain 'train' leaves it
        Assert.Contains("error FUL4070", train.Error, StringComparison.Ordinal);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train", "--force", "--model", "b")).ExitCode);
    }

    /// <summary>A PyTorch checkpoint has no header to check: status reads it as run would (QA: a broken .pt passed for
    /// "stale", and run then refused it).</summary>
    [Fact]
    public async Task A_pytorch_checkpoint_that_cannot_be_read_is_named_too()
    {
        using var ws = ChainWithCheckpoints();
        ws.Write("a/a.lineage.json", ws.ReadText("a/a.lineage.json").Replace("bin/a.safetensors", "bin/a.pt", StringComparison.Ordinal));
        ws.Write("a/bin/a.pt", "version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 103344\n");

        var removal = await Removal(ws, "forget-1");

        var unreadable = Assert.Single(removal["unreadableCheckpoints"]!);
        Assert.Equal("a", (string?)unreadable["id"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)unreadable["reason"]));
        Assert.DoesNotContain(ws.Root, (string?)unreadable["reason"], StringComparison.Ordinal); // the file as the user names it (QA)
        Assert.Empty(removal["missingCheckpoints"]!);
        // 'train' never writes a .pt file, recipe or not: the user puts it back (QA: it said "run 'dotnet unlearn train'").
        Assert.Contains("('a' has no training recipe, so 'dotnet unlearn train' cannot make it)", (await CliRun.InvokeAsync(ws.Root, "status")).Out, StringComparison.Ordinal);
        ws.Write("a/a.lineage.json", ws.ReadText("a/a.lineage.json").Replace("\"data\":", "\"training\": { \"epochs\": 1, \"batchSize\": 8, \"optimizer\": \"adam\", \"learningRate\": 0.01, \"seed\": 1 }, \"data\":", StringComparison.Ordinal));
        Assert.Contains(": put the file back, or fix 'checkpoint' in the manifest ('a' has a .pt checkpoint, which 'train' never writes, so 'dotnet unlearn train' cannot make it), then 'dotnet unlearn run forget-1'.",
            (await CliRun.InvokeAsync(ws.Root, "status")).Out, StringComparison.Ordinal);
    }

    /// <summary>A merge has no recipe, yet 'train' makes it from its parents: a missing one is sent to 'train'.</summary>
    [Fact]
    public async Task A_missing_merge_checkpoint_is_sent_to_train_which_averages_its_parents()
    {
        using var ws = ChainWithCheckpoints();
        ws.Write("m/m.lineage.json", """
            { "schemaVersion": 1, "id": "m", "checkpoint": "bin/m.safetensors",
              "architecture": { "kind": "mlp", "inputs": 4, "hidden": [8], "classes": 4 },
              "parents": [ { "id": "a", "relation": "merge" }, { "id": "b", "relation": "merge" } ] }
            """);

        var status = await CliRun.InvokeAsync(ws.Root, "status");

        Assert.Equal(0, status.ExitCode);
        Assert.Contains("checkpoint missing for m: run 'dotnet unlearn train' (or fix 'checkpoint' in its manifest), then 'dotnet unlearn run forget-1'.", status.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_outputs_every_affected_removal_is_pending_and_one_that_affects_nothing_is_done()
    {
        using var ws = ChainWithCheckpoints();

        var run = await CliRun.InvokeAsync(ws.Root, "status", "--json");

        Assert.Equal(0, run.ExitCode);
        var removals = run.Json["removals"]!;
        Assert.Equal(["forget-1", "forget-2", "forget-3"], removals.Select(r => (string)r["id"]!));
        var first = removals[0]!;
        Assert.Equal("pending", (string?)first["state"]);
        Assert.Equal(2, (int)first["affected"]!);
        Assert.Equal(0, (int)first["done"]!);
        Assert.Equal(0, (int)first["stale"]!);
        Assert.Equal(2, (int)first["missing"]!);
        Assert.Equal("done", (string?)removals[2]!["state"]);
        Assert.Equal(0, (int)removals[2]!["affected"]!);
    }

    [Fact]
    public async Task Outputs_with_the_current_inputs_are_done_and_a_changed_input_makes_them_stale()
    {
        using var ws = ChainWithCheckpoints();
        WriteOutput(ws, "forget-1", "a");

        Assert.Equal("pending", (string?)(await Removal(ws, "forget-1"))["state"]);

        WriteOutput(ws, "forget-1", "b");
        var done = await Removal(ws, "forget-1");
        Assert.Equal("done", (string?)done["state"]);
        Assert.Equal(2, (int)done["done"]!);

        // b's manifest gains an extension field and a schema reference: they change no result, so nothing is stale.
        ws.Write("b/b.lineage.json", ws.ReadText("b/b.lineage.json")
            .Replace("\"labels\": [2]", "\"labels\": [2], \"x-note\": \"retrained\"", StringComparison.Ordinal)
            .Replace("\"schemaVersion\"", "\"$schema\": \"https://example.org/lineage.json\", \"x-owner\": \"ml\", \"schemaVersion\"", StringComparison.Ordinal));
        Assert.Equal("done", (string?)(await Removal(ws, "forget-1"))["state"]);

        // b's manifest changes what b learns: only b's output is stale.
        ws.Write("b/b.lineage.json", ws.ReadText("b/b.lineage.json").Replace("\"labels\": [2]", "\"labels\": [2, 3]", StringComparison.Ordinal));
        var stale = await Removal(ws, "forget-1");
        Assert.Equal("stale", (string?)stale["state"]);
        Assert.Equal(1, (int)stale["stale"]!);
        Assert.Equal(["done", "stale"], stale["models"]!.Select(m => (string)m["state"]!));

        // a's checkpoint changes: a's output is stale, and so is b's (a is b's ancestor).
        WriteOutput(ws, "forget-1", "b");
        WriteCheckpoint(ws.PathOf("a/bin/a.safetensors"), 5f);
        Assert.Equal(2, (int)(await Removal(ws, "forget-1"))["stale"]!);

        // The removal's method settings change.
        WriteOutput(ws, "forget-2", "b");
        Assert.Equal("done", (string?)(await Removal(ws, "forget-2"))["state"]);
        ws.Write("forget-2.removal.json", """{ "schemaVersion": 1, "id": "forget-2", "forget": { "labels": [2] }, "parameters": { "seed": 3 } }""");
        Assert.Equal("stale", (string?)(await Removal(ws, "forget-2"))["state"]);
    }

    [Fact]
    public async Task An_output_without_its_record_counts_as_missing_and_one_changed_since_as_stale()
    {
        using var ws = ChainWithCheckpoints();
        WriteCheckpoint(ws.PathOf("artifacts/unlearn/forget-2/b.safetensors"), 0f);

        Assert.Equal("pending", (string?)(await Removal(ws, "forget-2"))["state"]);

        WriteOutput(ws, "forget-2", "b");
        Assert.Equal("done", (string?)(await Removal(ws, "forget-2"))["state"]);
        WriteCheckpoint(ws.PathOf("artifacts/unlearn/forget-2/b.safetensors"), 7f);
        var changed = await Removal(ws, "forget-2");
        Assert.Equal((1, 0), ((int)changed["stale"]!, (int)changed["missing"]!)); // the file is there, but not what was computed
    }

    // QA: a folder of ssd outputs was judged by the workspace's method, and status suggested a run that would replace them.
    [Fact]
    public async Task Status_judges_outputs_by_the_method_it_is_given_and_suggests_a_run_of_that_method()
    {
        using var ws = ChainWithCheckpoints();
        WriteOutput(ws, "forget-2", "b", method: "retrain");

        var plain = await Removal(ws, "forget-2");
        var asRetrain = await CliRun.InvokeAsync(ws.Root, "status", "--method", "retrain", "--json");
        var asSsd = await CliRun.InvokeAsync(ws.Root, "status", "--method", "ssd");
        var typo = await CliRun.InvokeAsync(ws.Root, "status", "--method", "retrian");
        var blank = await CliRun.InvokeAsync(ws.Root, "status", "--method", " ");

        Assert.Equal("stale", (string?)plain["state"]);
        Assert.Equal("done", (string?)asRetrain.Json["removals"]!.Single(r => (string?)r["id"] == "forget-2")["state"]);
        Assert.Contains("forget-2: b (stale); run 'dotnet unlearn run forget-2 --method ssd'.", asSsd.Out, StringComparison.Ordinal);
        Assert.Equal(2, typo.ExitCode);
        Assert.Contains("did you mean 'retrain'", typo.Error, StringComparison.Ordinal);
        Assert.Equal(2, blank.ExitCode);
        Assert.Single(blank.ErrorLines, l => l.Contains("error FUL", StringComparison.Ordinal)); // once, not per removal
    }

    [Fact]
    public async Task A_check_of_outputs_made_with_another_method_says_which_and_how_to_check_them()
    {
        using var ws = ChainWithCheckpoints();
        WriteOutput(ws, "forget-2", "b", method: "retrain");

        var check = await CliRun.InvokeAsync(ws.Root, "plan", "forget-2", "--check");
        var told = await CliRun.InvokeAsync(ws.Root, "plan", "forget-2", "--check", "--method", "retrain");

        Assert.Equal(3, check.ExitCode);
        Assert.Contains("1 of 1 outputs are missing or stale (they were made with 'retrain': add '--method retrain' to check those); run 'dotnet unlearn run forget-2'.", check.Error, StringComparison.Ordinal);
        Assert.Equal(0, told.ExitCode);
        // And the other way round: checked as another method than the one that made them (QA: said only "stale").
        var other = await CliRun.InvokeAsync(ws.Root, "plan", "forget-2", "--check", "--method", "ssd");
        Assert.Equal(3, other.ExitCode);
        Assert.Contains("(they were made with 'retrain': '--method retrain' checks those); run 'dotnet unlearn run forget-2 --method ssd'.", other.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Text_table_lists_each_removal_and_what_to_run()
    {
        using var ws = ChainWithCheckpoints();
        WriteOutput(ws, "forget-2", "b");

        var run = await CliRun.InvokeAsync(ws.Root, "status");

        Assert.Equal(0, run.ExitCode);
        var lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToList();
        Assert.Matches("^REMOVAL +STATE +AFFECTED +DONE +STALE +MISSING$", lines[0]);
        Assert.Matches("^forget-1 +pending +2 +0 +0 +2$", lines[2]);
        Assert.Matches("^forget-2 +done +1 +1 +0 +0$", lines[3]);
        Assert.Contains("forget-1: a (missing), b (missing); run 'dotnet unlearn run forget-1'.", lines);

        // Asked about another output folder, it says to run into that one.
        var other = await CliRun.InvokeAsync(ws.Root, "status", "--out", "elsewhere");
        Assert.Contains("forget-2: b (missing); run 'dotnet unlearn run forget-2 --out elsewhere'.", other.Out, StringComparison.Ordinal);
        var check = await CliRun.InvokeAsync(ws.Root, "plan", "forget-2", "--check", "--method", "ssd", "--out", "elsewhere");
        Assert.Equal(3, check.ExitCode);
        Assert.Contains("run 'dotnet unlearn run forget-2 --method ssd --out elsewhere'", check.Error, StringComparison.Ordinal);
        var spaced = await CliRun.InvokeAsync(ws.Root, "status", "--out", "my outputs");
        Assert.Contains("run 'dotnet unlearn run forget-2 --out \"my outputs\"'.", spaced.Out, StringComparison.Ordinal); // pastes as one word
    }

    [Fact]
    public async Task A_bad_workspace_is_exit_2()
    {
        using var ws = ChainWithCheckpoints();
        ws.Write("b/b.lineage.json", "{ not json");

        Assert.Equal(2, (await CliRun.InvokeAsync(ws.Root, "status")).ExitCode);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("run forget-1")]
    [InlineData("verify forget-1")]
    [InlineData("plan forget-1 --check")]
    public async Task An_output_root_that_is_a_file_is_one_usage_error_in_every_command_that_takes_it(string command)
    {
        using var ws = ChainWithCheckpoints();
        ws.Write("not-a-folder", "x");

        var result = await CliRun.InvokeAsync(ws.Root, [.. command.Split(' '), "--out", "not-a-folder"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("error FUL3005: 'not-a-folder' is a file: --out takes the output folder", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("pending", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("missing", result.Out, StringComparison.Ordinal);
        Assert.Equal("x", ws.ReadText("not-a-folder"));

        var under = await CliRun.InvokeAsync(ws.Root, [.. command.Split(' '), "--out", "not-a-folder/deeper"]);

        Assert.Equal(2, under.ExitCode);
        Assert.Contains("error FUL3005: 'not-a-folder' is a file, so no folder 'not-a-folder/deeper' can be made under it", under.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Could not find a part of the path", under.Error, StringComparison.Ordinal);
    }
}
