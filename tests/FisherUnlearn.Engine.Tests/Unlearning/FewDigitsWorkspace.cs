using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Engine.Verification;

namespace FisherUnlearn.Engine.Tests.Unlearning;

/// <summary>
/// A model that fits few digits closely: an MLP (784-256-128-10) trained 40 epochs on the sample's first 500 train digits,
/// and <c>forget-first</c>, a request for the first 150 of them, which are cleaner than most (the retrained model scores
/// them well above unseen digits). Its training loss ends near zero, as a memorising model's does.
/// </summary>
internal static class FewDigitsWorkspace
{
    public static UnlearningWorkspace Create() => new(extend: w =>
    {
        w.DigitsSlice("first", 0, 500);
        w.Write("p/p.lineage.json", """
            { "schemaVersion": 1, "id": "p", "checkpoint": "bin/p.safetensors",
              "architecture": { "kind": "mlp", "inputs": 784, "hidden": [256, 128], "classes": 10 },
              "data": [ { "dataset": "first" } ],
              "training": { "epochs": 40, "batchSize": 32, "optimizer": "adam", "learningRate": 0.001, "seed": 1 } }
            """);
        w.Write("forget-first.removal.json", $$"""
            { "schemaVersion": 1, "id": "forget-first", "forget": { "samples": [ { "dataset": "first", "split": "train", "indices": [{{string.Join(", ", Enumerable.Range(0, 150))}}] } ] },
              "targets": { "maxForgetAccuracy": 0.01, "maxRetainDrop": 0.02 } }
            """);
    });

    /// <summary><c>run</c> then <c>verify --reference retrain</c> of <c>forget-first</c> with <paramref name="parameters"/>
    /// in <c>unlearn.json</c>, into <paramref name="folder"/>: model <c>p</c>'s outcome and verification.</summary>
    public static (ModelOutcome Run, ModelVerification Verified) RunAndVerify(UnlearningWorkspace ws, string parameters, string folder)
    {
        var token = TestContext.Current.CancellationToken;
        ws.Write("unlearn.json", $$"""{ "parameters": { {{parameters}} } }""");
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-first"];
        var run = RemovalRunner.Run(analysis, removal, new RunOptions { Threads = 1, OutputDirectory = ws.PathOf(folder) }, token);
        Assert.True(run.Succeeded, string.Join("\n", run.Models.Select(m => m.Error?.ToString())));
        var verified = Verifier.Verify(ws.Analyze(), removal, new VerifyOptions { Threads = 1, Reference = true, OutputDirectory = ws.PathOf(folder) }, token);
        return (run.Models.Single(m => m.Id == "p"), verified.Models.Single(m => m.Id == "p"));
    }
}
