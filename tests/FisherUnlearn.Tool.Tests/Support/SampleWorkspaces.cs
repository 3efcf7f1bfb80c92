using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Testing;
using TorchSharp;

namespace FisherUnlearn.Tool.Tests.Support;

/// <summary>Small workspaces written to temporary folders for command scenarios.</summary>
internal static class SampleWorkspaces
{
    /// <summary>Dataset <c>toy</c> (4 classes); chain a (labels 0, 1) -> b (label 2, finetune); removals
    /// <c>forget-1</c> (root a), <c>forget-2</c> (root b) and <c>forget-3</c> (no model trains on label 3).</summary>
    public static TempWorkspace Chain()
    {
        var ws = new TempWorkspace();
        ToyChain.Write(ws);
        ws.Write("forget-1.removal.json", """{ "schemaVersion": 1, "id": "forget-1", "forget": { "labels": [1] } }""");
        ws.Write("forget-2.removal.json", """{ "schemaVersion": 1, "id": "forget-2", "forget": { "labels": [2] } }""");
        ws.Write("forget-3.removal.json", """{ "schemaVersion": 1, "id": "forget-3", "forget": { "labels": [3] } }""");
        return ws;
    }

    /// <summary><see cref="Chain"/> with 40 csv train rows, 12 test rows and seeded mlp 4-8-4 checkpoints for a and b
    /// (seeds 3 and 4), as the commands that read data need.</summary>
    public static TempWorkspace ChainWithData()
    {
        var ws = Chain();
        ws.Write("data/train.csv", ToyChain.Csv(40, seed: 1));
        ws.Write("data/test.csv", ToyChain.Csv(12, seed: 2));
        foreach (var (id, seed) in new[] { ("a", 3), ("b", 4) })
        {
            torch.manual_seed(seed);
            using var module = new Mlp(4, [8], 4);
            CheckpointStore.Save(ws.PathOf($"{id}/bin/{id}.safetensors"), module);
        }

        return ws;
    }
}
