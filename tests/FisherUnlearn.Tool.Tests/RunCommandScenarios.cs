using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

/// <summary>run/verify train small models and seed libtorch's process-global RNG: run them alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunCommandCollection
{
    public const string Name = "run and verify commands (TorchSharp)";
}

/// <summary>A chain a (digits 0-3) -> b (finetune, 0, 1, 2, 4) on the sample MNIST data, MLP 784-16-10, one epoch each;
/// removal forget-3 with targets.</summary>
internal static class DigitsChain
{
    public static TempWorkspace Create(string targets = """, "targets": { "maxForgetAccuracy": 0.05, "maxRetainDrop": 0.05 }""")
    {
        var ws = new TempWorkspace("fiun-run");
        var data = Path.Combine(RepoPaths.Root, "samples", "digits", "data");
        foreach (var file in Directory.GetFiles(data, "*.gz"))
        {
            ws.WriteBytes("data/" + Path.GetFileName(file), File.ReadAllBytes(file));
        }

        ws.Write("mnist.dataset.json", """
            { "schemaVersion": 1, "id": "mnist", "format": "idx", "classes": 10,
              "train": { "images": "data/train-images-idx3-ubyte.gz", "labels": "data/train-labels-idx1-ubyte.gz" },
              "test": { "images": "data/test-images-idx3-ubyte.gz", "labels": "data/test-labels-idx1-ubyte.gz" } }
            """);
        foreach (var (id, labels, parent) in new[] { ("a", "[0, 1, 2, 3]", ""), ("b", "[0, 1, 2, 4]", """, "parents": [ { "id": "a", "relation": "finetune" } ]""") })
        {
            ws.Write($"{id}/{id}.lineage.json", $$"""
                { "schemaVersion": 1, "id": "{{id}}", "checkpoint": "bin/{{id}}.safetensors",
                  "architecture": { "kind": "mlp", "inputs": 784, "hidden": [16], "classes": 10 }{{parent}},
                  "data": [ { "dataset": "mnist", "labels": {{labels}} } ],
                  "training": { "epochs": 1, "batchSize": 64, "optimizer": "adam", "learningRate": 0.003, "seed": 1 } }
                """);
        }

        ws.Write("forget-3.removal.json", $$"""{ "schemaVersion": 1, "id": "forget-3", "forget": { "labels": [3] }{{targets}} }""");
        return ws;
    }

}

[Collection(RunCommandCollection.Name)]
public sealed class RunCommandScenarios
{
    [Fact]
    public async Task Run_without_checkpoints_says_to_train_first()
    {
        using var ws = DigitsChain.Create();

        var run = await CliRun.InvokeAsync(ws.Root, "run", "forget-3");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("FUL4104", run.Error, StringComparison.Ordinal);
        Assert.Contains("dotnet unlearn train", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_json_lists_every_affected_model_writes_the_report_and_never_touches_the_checkpoints()
    {
        using var ws = DigitsChain.Create();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        var a = ws.ReadBytes("a/bin/a.safetensors");
        var b = ws.ReadBytes("b/bin/b.safetensors");

        var run = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--json", "--threads", "1");

        Assert.Equal(0, run.ExitCode);
        var json = run.Json;
        Assert.Equal(1, (int)json["schemaVersion"]!);
        Assert.Equal("forget-3", (string?)json["removal"]);
        Assert.True((double)json["seconds"]! > 0);
        Assert.Equal(["a", "b"], json["models"]!.Select(m => (string)m["id"]!));
        Assert.All(json["models"]!, m => Assert.Equal("fiun", (string?)m["method"]));
        Assert.Equal(["root", "descendant"], json["models"]!.Select(m => (string)m["role"]!));
        Assert.True(ws.Exists("artifacts/unlearn/forget-3/a.safetensors"));
        Assert.True(ws.Exists("artifacts/unlearn/forget-3/b.safetensors"));
        var report = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("artifacts/unlearn/forget-3/report.json"));
        Assert.Equal(1, (int)report["schemaVersion"]!);
        Assert.Equal(64, ((string)report["removalSha256"]!).Length);
        Assert.All(report["models"]!, m => Assert.Equal(64, ((string)m["inputSha256"]!).Length));
        Assert.All(report["models"]!, m => Assert.NotNull(m["parameters"]!["headShift"]));
        Assert.All(report["models"]!, m => Assert.InRange((double)m["metrics"]!["after"]!["forgetAccuracy"]!, 0, 1));
        Assert.Equal(a, ws.ReadBytes("a/bin/a.safetensors"));
        Assert.Equal(b, ws.ReadBytes("b/bin/b.safetensors"));

        var only = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--only", "b", "--method", "ssd", "--out", "other", "--json");

        Assert.Equal(0, only.ExitCode);
        Assert.Equal(["b"], only.Json["models"]!.Select(m => (string)m["id"]!));
        Assert.True(ws.Exists("other/forget-3/b.safetensors"));
    }

    [Fact]
    public async Task After_harvest_a_one_label_run_uses_the_forget_plans_and_writes_the_same_bytes()
    {
        using var ws = DigitsChain.Create();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--out", "calibrated", "--threads", "1")).ExitCode);

        var harvest = await CliRun.InvokeAsync(ws.Root, "harvest", "--json");
        var run = await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--threads", "1");

        Assert.Equal(0, harvest.ExitCode);
        Assert.All(harvest.Json["models"]!, m => Assert.True((int)m["plans"]!["labels"]! > 0));
        Assert.Equal(0, run.ExitCode);
        var report = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("artifacts/unlearn/forget-3/report.json"));
        Assert.All(report["models"]!, m => Assert.True((bool)m["parameters"]!["calibrationPlanned"]!));
        Assert.Contains("from the harvest's forget plan", ws.ReadText("artifacts/unlearn/forget-3/report.md"), StringComparison.Ordinal);
        Assert.DoesNotContain("forget plan", ws.ReadText("calibrated/forget-3/report.md"), StringComparison.Ordinal);
        var calibrated = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("calibrated/forget-3/report.json"));
        Assert.All(calibrated["models"]!, m => Assert.False((bool)m["parameters"]!["calibrationPlanned"]!));
        Assert.Equal(ws.ReadBytes("calibrated/forget-3/a.safetensors"), ws.ReadBytes("artifacts/unlearn/forget-3/a.safetensors"));
        Assert.Equal(ws.ReadBytes("calibrated/forget-3/b.safetensors"), ws.ReadBytes("artifacts/unlearn/forget-3/b.safetensors"));

        // At a terminal: the live table of the models, then the summary line after it.
        var live = await CliRun.InvokeInTerminalAsync(ws.Root, "run", "forget-3", "--out", "live", "--threads", "1");
        var again = await CliRun.InvokeInTerminalAsync(ws.Root, "run", "forget-3", "--out", "live", "--threads", "1");
        Assert.Equal(0, live.ExitCode);
        Assert.Matches(@"a\s*│\s*✓ done\s*│\s*fiun\s*│\s*[0-9.]+ s", live.LastLiveFrame);
        Assert.Matches(@"b\s*│\s*✓ done\s*│\s*fiun", live.LastLiveFrame);
        Assert.Contains(live.LinesAfterLiveTable, l => l.Contains("unlearned (fiun)", StringComparison.Ordinal));
        Assert.Matches(@"a\s*│\s*✓ up to date\s*│\s*fiun\s*│\s*│", again.LastLiveFrame);
    }

    [Fact]
    public async Task Unknown_removal_method_or_model_is_exit_2()
    {
        using var ws = DigitsChain.Create();

        Assert.Equal(2, (await CliRun.InvokeAsync(ws.Root, "run", "forget-4")).ExitCode);
        Assert.Equal(2, (await CliRun.InvokeAsync(ws.Root, "run", "forget-3", "--only", "zzz")).ExitCode);
    }
}
