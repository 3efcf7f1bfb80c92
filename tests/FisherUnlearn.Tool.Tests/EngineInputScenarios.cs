using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

/// <summary>Inputs that passed one command's checks and failed deep in another (found in QA): each is now a FUL line at a
/// useful place, exit 2 (or, for a model that learned nothing the removal forgets, its original weights).</summary>
public sealed class EngineInputScenarios
{
    private static TempWorkspace Workspace() => SampleWorkspaces.ChainWithData();

    [Fact]
    public async Task A_test_split_whose_samples_do_not_fit_the_model_is_FUL4068_for_run_and_verify_not_a_crash()
    {
        using var ws = Workspace();
        // Safetensors splits: csv splits whose columns differ are refused before any model sees them (FUL4008).
        ws.Write("toy.dataset.json", """
            { "schemaVersion": 1, "id": "toy", "format": "safetensors", "classes": 4,
              "train": { "path": "data/train.safetensors" }, "test": { "path": "data/test.safetensors" } }
            """);
        WriteSplit(ws, "data/train.safetensors", 40, 4);
        WriteSplit(ws, "data/test.safetensors", 12, 4);
        var run = await CliRun.InvokeAsync(ws.Root, "run", "forget-1", "--parallel", "1");
        Assert.True(run.ExitCode == 0, run.Error);
        // Three features per test sample where the train split, and the models, have four.
        WriteSplit(ws, "data/test.safetensors", 12, 3);

        var verify = await CliRun.InvokeAsync(ws.Root, "verify", "forget-1", "--json");
        var again = await CliRun.InvokeAsync(ws.Root, "run", "forget-1", "--force", "--parallel", "1");

        Assert.Equal(2, verify.ExitCode);
        Assert.Contains(verify.Json["diagnostics"]!, d => (string?)d["code"] == "FUL4068" && ((string?)d["message"])!.Contains("the test split of 'toy'", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", verify.Error, StringComparison.Ordinal);
        Assert.Contains("FUL4068", again.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", again.Error, StringComparison.Ordinal);
    }

    // Seeded features in 0..1 and labels 0..3 in turn.
    private static void WriteSplit(TempWorkspace ws, string path, int rows, int features)
    {
        var random = new Random(rows * 10 + features);
        var x = Enumerable.Range(0, rows * features).Select(_ => (float)random.NextDouble()).ToArray();
        var y = Enumerable.Range(0, rows).Select(i => (long)(i % 4)).ToArray();
        SafetensorsFile.Write(ws.PathOf(path), new Dictionary<string, SafetensorsTensor>
        {
            ["x"] = SafetensorsTensor.FromFloats([rows, features], x),
            ["y"] = new(SafetensorsDType.I64, [rows], System.Runtime.InteropServices.MemoryMarshal.AsBytes(y.AsSpan()).ToArray()),
        });
    }

    [Fact]
    public async Task A_train_split_without_samples_is_FUL4062_for_harvest_not_an_empty_harvest()
    {
        using var ws = Workspace();
        ws.Write("data/train.csv", "f0,f1,f2,f3,label\n");

        var harvest = await CliRun.InvokeAsync(ws.Root, "harvest", "--no-plans", "--json");

        Assert.Equal(2, harvest.ExitCode);
        Assert.Contains("error FUL4062", harvest.Error, StringComparison.Ordinal);
        Assert.Contains("holds no sample", harvest.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("FUL4082", harvest.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fiun")]
    [InlineData("ssd")]
    public async Task A_forgotten_label_the_manifest_lists_but_the_data_holds_no_sample_of_leaves_the_model_as_it_was(string method)
    {
        using var ws = Workspace();
        // a lists label 3, but no train row has it: a never learned a 3.
        ws.Write("a/a.lineage.json", ws.ReadText("a/a.lineage.json").Replace("\"labels\": [0, 1]", "\"labels\": [0, 1, 3]", StringComparison.Ordinal));
        ws.Write("data/train.csv", string.Join('\n', ToyChain.Csv(40, seed: 1).Split('\n').Where(l => !l.EndsWith(",3", StringComparison.Ordinal))));

        var run = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--method", method, "--parallel", "1", "--json");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("unchanged: a (its data holds no training sample of what the removal forgets)", run.Error, StringComparison.Ordinal);
        var original = SafetensorsFile.Read(ws.PathOf("a/bin/a.safetensors")).Tensors;
        var output = SafetensorsFile.Read(ws.PathOf("artifacts/unlearn/forget-3/a.safetensors")).Tensors;
        Assert.Equal(original.Keys, output.Keys);
        Assert.All(original, t => Assert.Equal(t.Value.Data, output[t.Key].Data));
    }

    [Fact]
    public async Task A_sample_index_outside_a_split_no_model_trains_on_is_FUL2013_not_nothing_to_do()
    {
        using var ws = Workspace();
        ws.Write("forget-test.removal.json", """{ "schemaVersion": 1, "id": "forget-test", "forget": { "samples": [ { "dataset": "toy", "split": "test", "indices": [12] } ] } }""");
        ws.Write("forget-test-ok.removal.json", """{ "schemaVersion": 1, "id": "forget-test-ok", "forget": { "samples": [ { "dataset": "toy", "split": "test", "indices": [11] } ] } }""");

        var bad = await CliRun.InvokeAsync(ws.Root, "run", "forget-test");
        var fine = await CliRun.InvokeAsync(ws.Root, "run", "forget-test-ok");
        var verifyBad = await CliRun.InvokeAsync(ws.Root, "verify", "forget-test");
        var verifyFine = await CliRun.InvokeAsync(ws.Root, "verify", "forget-test-ok");

        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("error FUL2013: Sample index 12 is outside the test split of 'toy' (12 samples)", bad.Error, StringComparison.Ordinal);
        Assert.Equal(0, fine.ExitCode);
        Assert.Contains("FUL2012", fine.Error, StringComparison.Ordinal);
        // verify agrees with run (plan and validate read no data: a split's 'count' lets validate check, docs/manifests.md).
        Assert.Equal(2, verifyBad.ExitCode);
        Assert.Contains("error FUL2013: Sample index 12 is outside the test split of 'toy' (12 samples)", verifyBad.Error, StringComparison.Ordinal);
        Assert.Equal(0, verifyFine.ExitCode);
        Assert.Contains("FUL2012", verifyFine.Error, StringComparison.Ordinal);
    }

    /// <summary>A removal edited where no output depends on it (its reason): the outputs stay done and are the bytes a
    /// fresh run writes (they record what the removal asks, not its file), and the reports, which quote the manifest, are
    /// written again.</summary>
    [Fact]
    public async Task After_a_reason_edit_outputs_are_what_a_fresh_run_writes_and_the_reports_quote_the_new_manifest()
    {
        using var ws = Workspace();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-1", "--parallel", "1")).ExitCode);
        ws.Write("forget-1.removal.json", """{ "schemaVersion": 1, "id": "forget-1", "reason": "Ticket 7", "forget": { "labels": [1] } }""");

        var again = await CliRun.InvokeAsync(ws.Root, "run", "forget-1", "--parallel", "1");
        var fresh = await CliRun.InvokeAsync(ws.Root, "run", "forget-1", "--parallel", "1", "--out", "fresh");

        Assert.Equal(0, again.ExitCode);
        Assert.Contains("nothing to do", again.Error, StringComparison.Ordinal);
        Assert.Equal(0, fresh.ExitCode);
        foreach (var model in new[] { "a", "b" })
        {
            Assert.Equal(File.ReadAllBytes(ws.PathOf($"fresh/forget-1/{model}.safetensors")), File.ReadAllBytes(ws.PathOf($"artifacts/unlearn/forget-1/{model}.safetensors")));
        }

        Assert.Equal("Ticket 7", (string?)Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("artifacts/unlearn/forget-1/report.json"))["reason"]);
        Assert.Contains("Ticket 7", ws.ReadText("artifacts/unlearn/forget-1/report.md"), StringComparison.Ordinal);
    }
}
