using System.Globalization;
using System.Text;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Tests.Support;
using Newtonsoft.Json.Linq;
using TorchSharp;

namespace FisherUnlearn.Tool.Tests;

/// <summary>Training tests seed libtorch's process-global RNG: run them alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainCommandCollection
{
    public const string Name = "train command (TorchSharp)";
}

[Collection(TrainCommandCollection.Name)]
public sealed class TrainCommandScenarios
{
    /// <summary>Dataset <c>blobs</c> (3 well-separated classes, 4 features, 180 rows); a (labels 0, 1) -> b (label 2, finetune).</summary>
    private static TempWorkspace Chain(string bExtra = "", string aCheckpoint = "bin/a.safetensors")
    {
        var ws = new TempWorkspace("fiun-train");
        var csv = new StringBuilder("f1,f2,f3,f4,label\n");
        var random = new Random(3);
        for (var i = 0; i < 180; i++)
        {
            var label = i % 3;
            var values = Enumerable.Range(0, 4).Select(f => (f == label ? 3.0 : 0.0) + (random.NextDouble() - 0.5));
            csv.AppendJoin(',', values.Select(v => v.ToString("0.###", CultureInfo.InvariantCulture))).Append(',').Append(label).Append('\n');
        }

        ws.Write("data/train.csv", csv.ToString());
        ws.Write("blobs.dataset.json", """
            { "schemaVersion": 1, "id": "blobs", "format": "csv", "classes": 3,
              "train": { "path": "data/train.csv", "labelColumn": "label" } }
            """);
        ws.Write("a/a.lineage.json", $$"""
            { "schemaVersion": 1, "id": "a", "checkpoint": "{{aCheckpoint}}",
              "architecture": { "kind": "mlp", "inputs": 4, "hidden": [8], "classes": 3 },
              "data": [ { "dataset": "blobs", "labels": [0, 1] } ],
              "training": { "epochs": 3, "batchSize": 16, "optimizer": "adam", "learningRate": 0.01, "seed": 1 } }
            """);
        ws.Write("b/b.lineage.json", $$"""
            { "schemaVersion": 1, "id": "b", "checkpoint": "bin/b.safetensors",
              "architecture": { "kind": "mlp", "inputs": 4, "hidden": [8], "classes": 3 },
              "parents": [ { "id": "a", "relation": "finetune" } ],
              "data": [ { "dataset": "blobs", "labels": [2] } ]{{bExtra}} }
            """);
        return ws;
    }

    private const string BRecipe = """, "training": { "epochs": 2, "batchSize": 16, "optimizer": "sgd", "learningRate": 0.05, "momentum": 0.9, "seed": 2 }""";

    private static (string Bytes, DateTime Written) Snapshot(string path) => (Convert.ToHexString(File.ReadAllBytes(path)), File.GetLastWriteTimeUtc(path));

    [Fact]
    public async Task At_a_terminal_a_live_table_shows_each_model_and_the_lines_follow_it()
    {
        using var ws = Chain(BRecipe);

        var run = await CliRun.InvokeInTerminalAsync(ws.Root, "train");
        var again = await CliRun.InvokeInTerminalAsync(ws.Root, "train");

        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"a\s*│\s*✓ done\s*│\s*[0-9]+ epochs?, loss [0-9.]+\s*│\s*[0-9.]+ s", run.LastLiveFrame);
        Assert.Matches(@"b\s*│\s*✓ done\s*│\s*[0-9]+ epochs?, loss", run.LastLiveFrame);
        Assert.Contains(run.LinesAfterLiveTable, l => l.StartsWith("dotnet-unlearn: trained a in ", StringComparison.Ordinal));
        Assert.StartsWith("dotnet-unlearn: 2 trained", run.LinesAfterLiveTable.Last(), StringComparison.Ordinal);
        Assert.Matches(@"a\s*│\s*✓ up to date\s*│", again.LastLiveFrame);
        Assert.Contains("dotnet-unlearn: up to date: b", again.LinesAfterLiveTable);
    }

    [Fact]
    public async Task A_terminal_that_cannot_move_the_cursor_gets_one_line_per_model_not_a_table_drawn_again_and_again()
    {
        using var ws = Chain(BRecipe);

        var run = await CliRun.InvokeInTerminalAsync(ws.Root, new Dictionary<string, string> { ["TERM"] = "dumb" }, "train");

        Assert.Equal(0, run.ExitCode);
        Assert.DoesNotContain("│", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", run.Error, StringComparison.Ordinal);
        Assert.Contains(run.ErrorLines, l => l.StartsWith("dotnet-unlearn: trained a in ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task At_a_terminal_a_failed_model_is_marked_in_the_table_and_its_error_follows_it()
    {
        using var ws = Chain(); // b has no training recipe

        var run = await CliRun.InvokeInTerminalAsync(ws.Root, "train");

        Assert.Equal(2, run.ExitCode);
        var code = System.Text.RegularExpressions.Regex.Match(run.LastLiveFrame, @"b\s*│\s*✗ failed \((FUL\d{4})\)").Groups[1].Value;
        Assert.StartsWith("FUL", code, StringComparison.Ordinal);
        Assert.Matches(@"a\s*│\s*✓ done", run.LastLiveFrame);
        Assert.Contains(run.LinesAfterLiveTable, l => l.Contains(code, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_train_while_one_is_training_stops_at_once_with_FUL3007_and_writes_nothing()
    {
        using var ws = Chain(BRecipe);
        var output = ws.PathOf("artifacts/unlearn");

        using (var held = FisherUnlearn.Lineage.IO.OutputLock.TryAcquire(output, out _, "train"))
        {
            Assert.NotNull(held);
            var second = await CliRun.InvokeAsync(ws.Root, "train", "--json");

            Assert.Equal(1, second.ExitCode);
            Assert.Contains("error FUL3007: Another dotnet-unlearn process (pid ", second.Error, StringComparison.Ordinal);
            Assert.Contains($"is writing to '{Path.GetFullPath(ws.Root)}'", second.Error, StringComparison.Ordinal); // not '.'
            Assert.Equal("FUL3007", (string?)second.Json["error"]?["code"] ?? (string?)second.Json["diagnostics"]?[0]?["code"]);
            Assert.False(ws.Exists("a/bin/a.safetensors"));
        }

        // Released when its holder ends: the next train goes on, and leaves no lock behind.
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        Assert.True(ws.Exists("b/bin/b.safetensors"));
        Assert.Empty(Directory.EnumerateFiles(output, ".unlearn-train.lock*"));
    }

    [Fact]
    public async Task Train_trains_parents_first_then_a_second_run_trains_nothing_and_rewrites_nothing()
    {
        using var ws = Chain(BRecipe);

        var first = await CliRun.InvokeAsync(ws.Root, "train");

        Assert.Equal(0, first.ExitCode);
        var lines = first.ErrorLines.ToList();
        var trainedA = lines.FindIndex(l => l.Contains("trained a in ", StringComparison.Ordinal));
        var trainedB = lines.FindIndex(l => l.Contains("trained b in ", StringComparison.Ordinal));
        Assert.True(trainedA >= 0 && trainedB > trainedA, first.Error);
        Assert.Matches(@"trained a in \d+\.\d s \(3 epochs, loss \d", first.Error);
        var a = Snapshot(ws.PathOf("a/bin/a.safetensors"));
        var b = Snapshot(ws.PathOf("b/bin/b.safetensors"));
        Assert.Equal("a", TrainingInputs.ReadMetadata(ws.PathOf("a/bin/a.safetensors"))![TrainingInputs.ModelKey]);
        Assert.Equal("mlp 4-8-3", TrainingInputs.ReadMetadata(ws.PathOf("a/bin/a.safetensors"))![TrainingInputs.ArchitectureKey]);
        await Task.Delay(20, TestContext.Current.CancellationToken);

        var second = await CliRun.InvokeAsync(ws.Root, "train", "--json");

        Assert.Equal(0, second.ExitCode);
        Assert.Contains("up to date: a", second.Error, StringComparison.Ordinal);
        Assert.Contains("up to date: b", second.Error, StringComparison.Ordinal);
        var doc = second.Json;
        Assert.Equal(1, (int)doc["schemaVersion"]!);
        Assert.Equal(["a", "b"], doc["models"]!.Select(m => (string)m["id"]!));
        Assert.All(doc["models"]!, m => Assert.Equal("up-to-date", (string)m["status"]!));
        Assert.NotNull(doc["seconds"]);
        Assert.Equal(a, Snapshot(ws.PathOf("a/bin/a.safetensors")));
        Assert.Equal(b, Snapshot(ws.PathOf("b/bin/b.safetensors")));
    }

    [Fact]
    public async Task An_extension_field_added_to_a_manifest_retrains_nothing_and_a_recipe_change_retrains_that_model()
    {
        using var ws = Chain(BRecipe);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        var a = Snapshot(ws.PathOf("a/bin/a.safetensors"));
        ws.Write("a/a.lineage.json", ws.ReadText("a/a.lineage.json").Replace("\"schemaVersion\"", "\"x-owner\": \"vision team\", \"schemaVersion\"", StringComparison.Ordinal));
        ws.Write("blobs.dataset.json", ws.ReadText("blobs.dataset.json").Replace("\"format\"", "\"x-source\": \"synthetic\", \"format\"", StringComparison.Ordinal));

        var annotated = await CliRun.InvokeAsync(ws.Root, "train");

        Assert.Equal(0, annotated.ExitCode);
        Assert.Contains("up to date: a", annotated.Error, StringComparison.Ordinal);
        Assert.Contains("up to date: b", annotated.Error, StringComparison.Ordinal);
        Assert.Equal(a, Snapshot(ws.PathOf("a/bin/a.safetensors")));

        ws.Write("b/b.lineage.json", ws.ReadText("b/b.lineage.json").Replace("\"seed\": ", "\"seed\": 1", StringComparison.Ordinal));
        var changed = await CliRun.InvokeAsync(ws.Root, "train");

        Assert.Contains("up to date: a", changed.Error, StringComparison.Ordinal);
        Assert.Contains("trained b in ", changed.Error, StringComparison.Ordinal);
    }

    // Found in QA: moving a checkpoint, or a setting training does not read (FUL1026), retrained the model and, through its
    // checkpoint's new metadata, every descendant.
    [Fact]
    public async Task Moving_a_checkpoint_or_adding_a_setting_training_ignores_retrains_nothing()
    {
        using var ws = Chain(BRecipe);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        var b = Snapshot(ws.PathOf("b/bin/b.safetensors"));
        Directory.CreateDirectory(ws.PathOf("a/models"));
        File.Move(ws.PathOf("a/bin/a.safetensors"), ws.PathOf("a/models/a.safetensors"));
        ws.Write("a/a.lineage.json", ws.ReadText("a/a.lineage.json")
            .Replace("\"bin/a.safetensors\"", "\"models/a.safetensors\"", StringComparison.Ordinal)
            .Replace("\"seed\": 1", "\"seed\": 1, \"momentum\": 0.5, \"temperature\": 3", StringComparison.Ordinal)); // adam, a root

        var moved = await CliRun.InvokeAsync(ws.Root, "train");

        Assert.Equal(0, moved.ExitCode);
        Assert.Contains("up to date: a", moved.Error, StringComparison.Ordinal);
        Assert.Contains("up to date: b", moved.Error, StringComparison.Ordinal);
        Assert.Contains("FUL1026", moved.Error, StringComparison.Ordinal); // each ignored setting is still said
        Assert.Equal(b, Snapshot(ws.PathOf("b/bin/b.safetensors")));
    }

    // Found in review: a dataset manifest counted by its bytes, so moving the data files (and their paths in the manifest)
    // retrained every model that trains on them, and made every output of the lineage stale.
    [Fact]
    public async Task Moving_the_data_files_retrains_nothing_and_keeps_outputs_up_to_date()
    {
        using var ws = Chain(BRecipe);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        var b = Snapshot(ws.PathOf("b/bin/b.safetensors"));
        ws.Write("forget-2.removal.json", """{ "schemaVersion": 1, "id": "forget-2", "forget": { "labels": [2] } }""");
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-2", "--no-progress")).ExitCode);
        Directory.CreateDirectory(ws.PathOf("datasets/blobs"));
        File.Move(ws.PathOf("data/train.csv"), ws.PathOf("datasets/blobs/train.csv"));
        ws.Delete("blobs.dataset.json");
        ws.Write("datasets/blobs.dataset.json", """
            { "schemaVersion": 1, "id": "blobs", "format": "csv", "classes": 3, "x-source": "moved",
              "train": { "path": "blobs/train.csv", "labelColumn": "label", "count": 180 } }
            """);

        var moved = await CliRun.InvokeAsync(ws.Root, "train");
        var check = await CliRun.InvokeAsync(ws.Root, "plan", "forget-2", "--check");
        var rerun = await CliRun.InvokeAsync(ws.Root, "run", "forget-2", "--no-progress");

        Assert.Equal(0, moved.ExitCode);
        Assert.Contains("up to date: a", moved.Error, StringComparison.Ordinal);
        Assert.Contains("up to date: b", moved.Error, StringComparison.Ordinal);
        Assert.Equal(b, Snapshot(ws.PathOf("b/bin/b.safetensors")));
        Assert.True(check.ExitCode == 0, check.Error); // the request's outputs are up to date too
        Assert.Contains("nothing to do: every output is up to date", rerun.Error, StringComparison.Ordinal);
        // ...and the report, rewritten without redoing them, names the manifest where it is now (QA: it kept the old path).
        var manifests = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("artifacts/unlearn/forget-2/report.json"))["manifests"]!;
        Assert.Contains(manifests, m => (string?)m["kind"] == "dataset" && (string?)m["path"] == "datasets/blobs.dataset.json");
    }

    // Found in QA: after a recipe changed, 'run' warned that 'train' comes first (FUL4069), while status and plan --check
    // said every output was done, with nothing about the checkpoints.
    [Fact]
    public async Task Status_and_plan_check_name_checkpoints_train_would_make_again()
    {
        using var ws = Chain(BRecipe);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        ws.Write("forget-2.removal.json", """{ "schemaVersion": 1, "id": "forget-2", "forget": { "labels": [2] } }""");
        ws.Write("b/b.lineage.json", ws.ReadText("b/b.lineage.json").Replace("\"seed\": ", "\"seed\": 1", StringComparison.Ordinal));
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-2", "--no-progress")).ExitCode); // the checkpoint as it is

        var status = await CliRun.InvokeAsync(ws.Root, "status");
        var json = await CliRun.InvokeAsync(ws.Root, "status", "--json");
        var check = await CliRun.InvokeAsync(ws.Root, "plan", "forget-2", "--check", "--json");

        Assert.Contains("forget-2: every output is up to date with the checkpoints as they are, but 'dotnet unlearn train' would make the checkpoint of b again (changed since trained): run it first, then 'dotnet unlearn run forget-2'", status.Out, StringComparison.Ordinal);
        Assert.Equal(["b"], json.Json["removals"]!.Single(r => (string?)r["id"] == "forget-2")!["untrainedCheckpoints"]!.Select(t => (string)t!));
        Assert.Equal(0, check.ExitCode); // the outputs are those of the checkpoints as they are
        Assert.Equal(["b"], check.Json["untrainedCheckpoints"]!.Select(t => (string)t!));
        Assert.Contains("would make the checkpoint of b again", check.Error, StringComparison.Ordinal);

        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        var trained = await CliRun.InvokeAsync(ws.Root, "status", "--json");
        Assert.Empty(trained.Json["removals"]!.Single(r => (string?)r["id"] == "forget-2")!["untrainedCheckpoints"]!);
    }

    // Found in QA: 'run --only b --method retrain' (as FUL5003's hint suggests for one model) wrote a's retrained weights
    // over a's fiun output, whose job record then called it stale.
    [Fact]
    public async Task Retraining_one_model_with_only_leaves_its_ancestors_outputs_as_they_are()
    {
        using var ws = Chain(BRecipe);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        ws.Write("forget-0.removal.json", """{ "schemaVersion": 1, "id": "forget-0", "forget": { "labels": [0] } }""");
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-0", "--no-progress")).ExitCode);
        var a = File.ReadAllBytes(ws.PathOf("artifacts/unlearn/forget-0/a.safetensors"));

        var only = await CliRun.InvokeAsync(ws.Root, "run", "forget-0", "--only", "b", "--method", "retrain", "--no-progress", "--json");
        var status = await CliRun.InvokeAsync(ws.Root, "status", "--json");

        Assert.True(only.ExitCode == 0, only.Error);
        Assert.Equal(["b"], only.Json["models"]!.Select(m => (string)m["id"]!));
        Assert.Equal(a, File.ReadAllBytes(ws.PathOf("artifacts/unlearn/forget-0/a.safetensors"))); // a's fiun output untouched
        var models = status.Json["removals"]!.Single(r => (string?)r["id"] == "forget-0")!["models"]!;
        Assert.Equal("done", (string?)models.Single(m => (string?)m["id"] == "a")!["state"]);

        // A whole retrain run still writes every model's retrained output, a first and b reusing it.
        var all = await CliRun.InvokeAsync(ws.Root, "run", "forget-0", "--method", "retrain", "--no-progress", "--json");
        Assert.True(all.ExitCode == 0, all.Error);
        Assert.NotEqual(a, File.ReadAllBytes(ws.PathOf("artifacts/unlearn/forget-0/a.safetensors")));
    }

    [Fact]
    public async Task After_the_train_data_is_deleted_the_checkpoints_are_kept_as_they_are_not_a_failure()
    {
        using var ws = Chain(BRecipe);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        var a = Snapshot(ws.PathOf("a/bin/a.safetensors"));
        var train = ws.PathOf("data/train.csv");
        var kept = File.ReadAllBytes(train);
        File.Delete(train); // an erasure: the harvest lets label requests run without it

        var again = await CliRun.InvokeAsync(ws.Root, "train", "--json");
        var forced = await CliRun.InvokeAsync(ws.Root, "train", "--force");
        File.WriteAllBytes(train, kept);
        var restored = await CliRun.InvokeAsync(ws.Root, "train");

        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Equal(["kept", "kept"], again.Json["models"]!.Select(m => (string)m["status"]!));
        Assert.Contains("cannot be trained again: its train data is gone (data/train.csv)", again.Error, StringComparison.Ordinal);
        Assert.Equal(a, Snapshot(ws.PathOf("a/bin/a.safetensors")));
        Assert.Equal(2, forced.ExitCode); // asked to train: the missing file is the error
        Assert.Contains("FUL4001", forced.Error, StringComparison.Ordinal);
        Assert.Contains("up to date: a", restored.Error, StringComparison.Ordinal);
        Assert.Contains("up to date: b", restored.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_reports_each_trained_model_with_its_loss_and_the_same_seed_gives_the_same_bytes()
    {
        using var ws = Chain(BRecipe);

        var run = await CliRun.InvokeAsync(ws.Root, "train", "--json");
        var bytes = File.ReadAllBytes(ws.PathOf("b/bin/b.safetensors"));
        var forced = await CliRun.InvokeAsync(ws.Root, "train", "--force", "--json");

        Assert.Equal(0, run.ExitCode);
        foreach (var model in run.Json["models"]!)
        {
            Assert.Equal("trained", (string)model["status"]!);
            Assert.True((double)model["seconds"]! > 0);
            Assert.InRange((double)model["finalLoss"]!, 0, 1.5);
        }

        Assert.Equal(0, forced.ExitCode);
        Assert.All(forced.Json["models"]!, m => Assert.Equal("trained", (string)m["status"]!));
        Assert.Equal(bytes, File.ReadAllBytes(ws.PathOf("b/bin/b.safetensors")));
    }

    [Fact]
    public async Task Json_gives_the_model_whose_data_file_is_missing_its_error_as_run_json_does()
    {
        using var ws = Chain(BRecipe);
        File.Delete(ws.PathOf("data/train.csv"));

        var run = await CliRun.InvokeAsync(ws.Root, "train", "--json");

        Assert.Equal(2, run.ExitCode); // bad input
        var doc = run.Json; // stdout is the one document
        var failed = Assert.Single(doc["models"]!, m => (string)m["status"]! == "failed");
        Assert.Equal("a", (string)failed["id"]!);
        var error = failed["error"]!;
        Assert.Equal("FUL4001", (string)error["code"]!);
        Assert.Equal("error", (string)error["severity"]!);
        Assert.Contains("data/train.csv", (string)error["message"]!, StringComparison.Ordinal);
        // At the line of the dataset manifest that names it: an annotation on a file that is not there shows nowhere.
        Assert.Equal("blobs.dataset.json", (string)error["file"]!);
        Assert.Equal((2, 22), ((int)error["line"]!, (int)error["column"]!));
        Assert.Contains("FUL4001", doc["diagnostics"]!.Select(d => (string)d["code"]!));
        Assert.Contains(run.ErrorLines, l => l.StartsWith("blobs.dataset.json(2,22): error FUL4001: The data file '", StringComparison.Ordinal)
            && l.Contains("data/train.csv' does not exist.", StringComparison.Ordinal)); // still on stderr for people
    }

    [Fact]
    public async Task Json_gives_every_model_that_did_not_fail_a_null_error()
    {
        using var ws = Chain(); // b has no training recipe: a trains, b fails

        var run = await CliRun.InvokeAsync(ws.Root, "train", "--json");

        Assert.Equal(2, run.ExitCode);
        var models = run.Json["models"]!.ToDictionary(m => (string)m["id"]!);
        Assert.Equal("trained", (string)models["a"]["status"]!);
        Assert.Equal(JTokenType.Null, models["a"]["error"]!.Type);
        Assert.Equal("failed", (string)models["b"]["status"]!);
        Assert.Equal("FUL4060", (string)models["b"]["error"]!["code"]!);
        Assert.Equal(1, (int)models["b"]["error"]!["line"]!);
        Assert.EndsWith("b/b.lineage.json", (string)models["b"]["error"]!["file"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Data_that_do_not_fit_the_architecture_are_FUL4068_with_no_native_stack_trace()
    {
        using var ws = DigitsChain.Create();
        foreach (var manifest in new[] { "a/a.lineage.json", "b/b.lineage.json" })
        {
            ws.Write(manifest, ws.ReadText(manifest).Replace("\"inputs\": 784", "\"inputs\": 100", StringComparison.Ordinal));
        }

        var run = await CliRun.InvokeAsync(ws.Root, "train");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error FUL4068: Model 'a' (mlp 100-16-10) cannot take samples of shape [28, 28] from the train split of 'mnist': its 'inputs' 100 takes 100 values per sample, and these have 784.", run.Error, StringComparison.Ordinal);
        // Reported where the architecture is written, not at the top of the manifest.
        Assert.Contains($"a/a.lineage.json{ValueAt(ws.ReadText("a/a.lineage.json"), "\"architecture\": ")}: error FUL4068", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("frame #", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("c10::", run.Error, StringComparison.Ordinal);
        Assert.False(ws.Exists("a/bin/a.safetensors"));
    }

    /// <summary>Cuts the last 100 bytes off a trained checkpoint (its header intact, its data short) and returns its whole
    /// bytes.</summary>
    private static byte[] CutShort(string path)
    {
        var whole = File.ReadAllBytes(path);
        File.WriteAllBytes(path, whole[..(whole.Length - 100)]);
        return whole;
    }

    [Fact]
    public async Task A_checkpoint_cut_short_after_training_is_trained_again_not_called_up_to_date()
    {
        using var ws = Chain(BRecipe);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        var path = ws.PathOf("b/bin/b.safetensors");
        var whole = CutShort(path); // header and metadata intact, data short
        ws.Write("forget-2.removal.json", """{ "schemaVersion": 1, "id": "forget-2", "forget": { "labels": [2] } }""");

        // 'run' says the file is damaged, not that its inputs changed (they did not: FUL4069 would send the user looking).
        var unlearn = await CliRun.InvokeAsync(ws.Root, "run", "forget-2", "--no-progress");
        var run = await CliRun.InvokeAsync(ws.Root, "train", "--json");

        Assert.Contains("FUL4021", unlearn.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("FUL4069", unlearn.Error, StringComparison.Ordinal);
        // The file is named as the location names it, relative to where the user is, not by the engine's full path.
        Assert.Contains("b/bin/b.safetensors: error FUL4021: 'b/bin/b.safetensors' is truncated", unlearn.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(ws.Root, unlearn.Error, StringComparison.Ordinal);
        Assert.Contains("FUL4021: 'b/bin/b.safetensors' is truncated", ws.ReadText("artifacts/unlearn/forget-2/report.md"), StringComparison.Ordinal); // an artifact: no runner's folders

        Assert.Equal(0, run.ExitCode);
        var statuses = run.Json["models"]!.ToDictionary(m => (string)m["id"]!, m => (string)m["status"]!);
        Assert.Equal("up-to-date", statuses["a"]);
        Assert.Equal("trained", statuses["b"]);
        Assert.Equal(whole, File.ReadAllBytes(path)); // seeded: the same bytes as before the damage
    }

    [Fact]
    public async Task A_parent_damaged_after_training_makes_no_child_look_made_from_other_inputs()
    {
        using var ws = Chain(BRecipe);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        var path = ws.PathOf("a/bin/a.safetensors");
        var whole = CutShort(path); // a's header intact, data short; b untouched
        ws.Write("forget-0.removal.json", """{ "schemaVersion": 1, "id": "forget-0", "forget": { "labels": [0] } }""");

        var unlearn = await CliRun.InvokeAsync(ws.Root, "run", "forget-0", "--no-progress");
        var train = await CliRun.InvokeAsync(ws.Root, "train", "--json");

        Assert.Contains("FUL4021", unlearn.Error, StringComparison.Ordinal);
        // b's own inputs did not change: not "made from other inputs", but that it cannot be told until a is made again.
        Assert.DoesNotContain("FUL4069", unlearn.Error, StringComparison.Ordinal);
        Assert.Contains("warning FUL4071: The checkpoint of model 'b' descends from 'a', whose checkpoint cannot be read", unlearn.Error, StringComparison.Ordinal);
        var statuses = train.Json["models"]!.ToDictionary(m => (string)m["id"]!, m => (string)m["status"]!);
        Assert.Equal(("trained", "up-to-date"), (statuses["a"], statuses["b"])); // as train then finds

        // With b's own recipe changed as well, b is still named (QA: the first fix dropped that warning).
        File.WriteAllBytes(path, whole[..(whole.Length - 100)]);
        ws.Write("b/b.lineage.json", ws.ReadText("b/b.lineage.json").Replace("\"seed\": 2", "\"seed\": 22", StringComparison.Ordinal));
        var changed = await CliRun.InvokeAsync(ws.Root, "run", "forget-0", "--no-progress", "--force");
        Assert.Contains("warning FUL4071: The checkpoint of model 'b'", changed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_root_that_cannot_be_read_is_named_as_the_ancestor_not_the_readable_model_between()
    {
        using var ws = Chain(BRecipe);
        ws.Write("c/c.lineage.json", """
            { "schemaVersion": 1, "id": "c", "checkpoint": "bin/c.safetensors",
              "architecture": { "kind": "mlp", "inputs": 4, "hidden": [8], "classes": 3 },
              "parents": [ { "id": "b", "relation": "finetune" } ],
              "data": [ { "dataset": "blobs", "labels": [1] } ],
              "training": { "epochs": 1, "batchSize": 16, "optimizer": "sgd", "learningRate": 0.05, "seed": 3 } }
            """);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        ws.MakeFifo("a/bin/a.safetensors"); // there, but no checkpoint can be read from it (as one without read permission)
        ws.Write("forget-0.removal.json", """{ "schemaVersion": 1, "id": "forget-0", "forget": { "labels": [0] } }""");

        var unlearn = await CliRun.InvokeAsync(ws.Root, "run", "forget-0", "--no-progress");

        Assert.Equal(2, unlearn.ExitCode);
        // QA: c was said to descend from 'b', "whose checkpoint cannot be read": b's is readable; only its inputs hash a's.
        Assert.Contains("warning FUL4071: The checkpoint of model 'c' descends from 'a', whose checkpoint cannot be read", unlearn.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("descends from 'b'", unlearn.Error, StringComparison.Ordinal);
        Assert.Contains("warning FUL4071: The checkpoint of model 'b' descends from 'a', whose checkpoint cannot be read", unlearn.Error, StringComparison.Ordinal);
        var errors = unlearn.Error.Split('\n').Where(l => l.Contains(": error ", StringComparison.Ordinal)).ToList();
        Assert.Equal(errors.Distinct().Count(), errors.Count); // each said once
        Assert.False(Directory.Exists(ws.PathOf("artifacts/unlearn/forget-0"))); // no empty output folder left behind
    }

    [Fact]
    public async Task A_parent_deleted_after_training_makes_no_child_look_made_from_other_inputs_either()
    {
        using var ws = Chain(BRecipe);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        File.Delete(ws.PathOf("a/bin/a.safetensors"));

        var harvest = await CliRun.InvokeAsync(ws.Root, "harvest", "--no-plans");

        // QA: b was said to be "made from other inputs than its manifest now names"; its parent is what is gone.
        Assert.DoesNotContain("FUL4069", harvest.Error, StringComparison.Ordinal);
        Assert.Contains("warning FUL4071: The checkpoint of model 'b' descends from 'a', whose checkpoint is missing", harvest.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retraining_a_harvested_model_says_its_harvest_is_for_the_previous_checkpoint()
    {
        using var ws = Chain(BRecipe);
        var first = await CliRun.InvokeAsync(ws.Root, "train", "--no-progress");
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "harvest", "--no-plans", "--model", "b")).ExitCode);
        ws.Write("b/b.lineage.json", ws.ReadText("b/b.lineage.json").Replace("\"seed\": 2", "\"seed\": 22", StringComparison.Ordinal));

        var again = await CliRun.InvokeAsync(ws.Root, "train", "--no-progress", "--json");
        var upToDate = await CliRun.InvokeAsync(ws.Root, "train", "--no-progress", "--json");
        ws.Write("b/b.lineage.json", ws.ReadText("b/b.lineage.json").Replace("\"seed\": 22", "\"seed\": 2", StringComparison.Ordinal));
        var sameBytesAgain = await CliRun.InvokeAsync(ws.Root, "train", "--no-progress", "--force");

        Assert.DoesNotContain("harvest", first.Error, StringComparison.Ordinal); // nothing harvested yet: nothing to say
        Assert.Contains("the Fisher harvest of 'b' is for its previous checkpoint: 'dotnet unlearn harvest' computes it again", again.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("harvest", upToDate.Error, StringComparison.Ordinal);
        // The same in --json, for pipelines that read stdout alone.
        Assert.Equal(["b"], again.Json["harvestOutOfDate"]!.Select(t => (string)t!));
        Assert.Empty(upToDate.Json["harvestOutOfDate"]!);
        // Trained again to the bytes it was harvested from (seed 2 once more): the cached harvest is its own.
        Assert.Equal(0, sameBytesAgain.ExitCode);
        Assert.DoesNotContain("harvest", sameBytesAgain.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
        "it is a Git LFS pointer, not the checkpoint itself ('git lfs pull' fetches it)")]
    [InlineData("\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u007f", "it claims a header of")]
    public async Task An_unreadable_checkpoint_is_left_as_it_is_with_the_reason_unless_forced(string content, string reason)
    {
        using var ws = Chain(BRecipe);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        ws.WriteBytes("b/bin/b.safetensors", [.. content.Select(c => (byte)c)]);
        ws.Write("forget-2.removal.json", """{ "schemaVersion": 1, "id": "forget-2", "forget": { "labels": [2] } }""");
        var before = Snapshot(ws.PathOf("b/bin/b.safetensors"));

        var train = await CliRun.InvokeAsync(ws.Root, "train", "--no-progress");
        var run = await CliRun.InvokeAsync(ws.Root, "run", "forget-2", "--no-progress");

        Assert.Equal(2, train.ExitCode);
        Assert.Contains($"b/b.lineage.json{ValueAt(ws.ReadText("b/b.lineage.json"), "\"checkpoint\": ")}: error FUL4070: Model 'b' has a checkpoint 'b/bin/b.safetensors' that cannot be read (", train.Error, StringComparison.Ordinal);
        Assert.Contains(reason, train.Error, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(ws.PathOf("b/bin/b.safetensors")));
        Assert.Contains("FUL4022", run.Error, StringComparison.Ordinal); // run says why the file cannot be read...
        Assert.DoesNotContain("FUL4069", run.Error, StringComparison.Ordinal); // ...and not that train would remake it

        var forced = await CliRun.InvokeAsync(ws.Root, "train", "--force", "--no-progress");

        Assert.Equal(0, forced.ExitCode);
        Assert.NotEqual(before, Snapshot(ws.PathOf("b/bin/b.safetensors")));
    }

    [Fact]
    public async Task A_changed_parent_checkpoint_makes_the_child_stale()
    {
        using var ws = Chain(BRecipe);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        var parentPath = ws.PathOf("a/bin/a.safetensors");
        var metadata = TrainingInputs.ReadMetadata(parentPath)!;
        var state = CheckpointStore.Load(parentPath);
        using (var half = 0.5f.ToScalar())
        using (var one = 1.ToScalar())
        {
            state["fc1.bias"].add_(half, one);
        }

        CheckpointStore.Save(parentPath, state, metadata); // same recorded inputs, other weights
        foreach (var tensor in state.Values)
        {
            tensor.Dispose();
        }

        var run = await CliRun.InvokeAsync(ws.Root, "train", "--json");

        Assert.Equal(0, run.ExitCode);
        var statuses = run.Json["models"]!.ToDictionary(m => (string)m["id"]!, m => (string)m["status"]!);
        Assert.Equal("up-to-date", statuses["a"]);
        Assert.Equal("trained", statuses["b"]);
    }

    [Fact]
    public async Task Model_option_trains_the_model_and_its_stale_ancestors_only()
    {
        using var ws = Chain(BRecipe);

        var run = await CliRun.InvokeAsync(ws.Root, "train", "--model", "a");

        Assert.Equal(0, run.ExitCode);
        Assert.True(ws.Exists("a/bin/a.safetensors"));
        Assert.False(ws.Exists("b/bin/b.safetensors"));

        var child = await CliRun.InvokeAsync(ws.Root, "train", "--model", "b", "--json");

        Assert.Equal(["up-to-date", "trained"], child.Json["models"]!.Select(m => (string)m["status"]!));
    }

    [Fact]
    public async Task A_model_without_recipe_or_checkpoint_is_FUL4060_at_its_manifest()
    {
        using var ws = Chain();

        var run = await CliRun.InvokeAsync(ws.Root, "train");

        Assert.Equal(2, run.ExitCode);
        Assert.Matches(@"b/b\.lineage\.json\(1,\d+\): error FUL4060: Model 'b' cannot be trained", run.Error);
        Assert.True(ws.Exists("a/bin/a.safetensors"));
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_user_checkpoint_format_is_never_written()
    {
        using var ws = Chain(BRecipe, aCheckpoint: "bin/a.pt");

        var run = await CliRun.InvokeAsync(ws.Root, "train");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error FUL4064", run.Error, StringComparison.Ordinal);
        Assert.Contains($"a/a.lineage.json{ValueAt(ws.ReadText("a/a.lineage.json"), "\"checkpoint\": ")}: error FUL4064", run.Error, StringComparison.Ordinal);
        Assert.False(ws.Exists("a/bin/a.pt"));
    }

    // Found in QA: train spent the whole recipe (of every model above too) and then failed to write, FUL4028 "Is a
    // directory", exit 1, where harvest, run and verify refuse such a path at once.
    [Fact]
    public async Task A_checkpoint_path_that_is_a_folder_is_refused_before_any_model_trains()
    {
        using var ws = Chain(BRecipe);
        Directory.CreateDirectory(ws.PathOf("b/bin/b.safetensors"));

        var run = await CliRun.InvokeAsync(ws.Root, "train", "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"b/b.lineage.json{ValueAt(ws.ReadText("b/b.lineage.json"), "\"checkpoint\": ")}: error FUL4029: The checkpoint 'b/bin/b.safetensors' of model 'b' is a folder, so 'train' cannot write",
            run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("FUL4028", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
        Assert.False(ws.Exists("a/bin/a.safetensors")); // a, trained first otherwise, was not trained either
        var failed = Assert.Single(run.Json["models"]!);
        Assert.Equal(("b", "failed", "FUL4029"), ((string)failed["id"]!, (string)failed["status"]!, (string)failed["error"]!["code"]!));
    }

    // Found in QA: a file where one of the checkpoint's folders goes ('b/bin' a file) let the recipe run, then FUL4028 "The
    // file ... already exists" with advice about free space and permissions, exit 1.
    [Fact]
    public async Task A_file_where_a_folder_of_the_checkpoint_goes_is_refused_before_any_model_trains()
    {
        using var ws = Chain(BRecipe);
        ws.Write("b/bin", "not a folder");

        var run = await CliRun.InvokeAsync(ws.Root, "train", "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"b/b.lineage.json{ValueAt(ws.ReadText("b/b.lineage.json"), "\"checkpoint\": ")}: error FUL4076: The checkpoint 'b/bin/b.safetensors' of model 'b' goes into a folder, but 'b/bin' is a file",
            run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("FUL4028", run.Error, StringComparison.Ordinal);
        Assert.False(ws.Exists("a/bin/a.safetensors"));
        Assert.Equal("not a folder", ws.ReadText("b/bin"));
    }

    [Fact]
    public async Task An_existing_user_checkpoint_is_kept_and_its_children_train_from_it()
    {
        using var ws = Chain(BRecipe, aCheckpoint: "bin/a.pt");
        using (var model = Engine.Models.ModelFactory.Create(new Lineage.Manifests.ArchitectureSpec { Kind = "mlp", Inputs = 4, Hidden = [8], Classes = 3 }))
        {
            CheckpointStore.Save(ws.PathOf("a/bin/a.pt"), model);
        }

        var before = Snapshot(ws.PathOf("a/bin/a.pt"));

        var run = await CliRun.InvokeAsync(ws.Root, "train", "--json");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["kept", "trained"], run.Json["models"]!.Select(m => (string)m["status"]!));
        Assert.Equal(before, Snapshot(ws.PathOf("a/bin/a.pt")));
    }

    // "(line,column)" of the value that follows the first occurrence of field (such as "\"checkpoint\": ") in a manifest.
    private static string ValueAt(string manifest, string field)
    {
        var before = manifest[..(manifest.IndexOf(field, StringComparison.Ordinal) + field.Length)];
        return $"({before.Count(c => c == '\n') + 1},{before.Length - before.LastIndexOf('\n')})";
    }
}
