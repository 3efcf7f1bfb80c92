using System.Globalization;
using System.Text;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Discovery;
using FisherUnlearn.Testing;
using TorchSharp;

namespace FisherUnlearn.Engine.Tests.Harvest;

/// <summary>
/// A tiny workspace for harvest tests: dataset <c>toy</c> (csv, 4 features, 4 classes, 60 train rows); model
/// <c>a</c> (mlp 4-8-4, labels 0 and 1) and its fine-tuned child <c>b</c> (label 2), with seeded random checkpoints.
/// </summary>
internal sealed class HarvestWorkspace : IDisposable
{
    public HarvestWorkspace(bool withCheckpoints = true)
    {
        Files = new TempWorkspace("fiun-harvest");
        Files.Write("toy.dataset.json", """
            { "schemaVersion": 1, "id": "toy", "format": "csv", "classes": 4,
              "train": { "path": "data/train.csv", "labelColumn": "label" },
              "test": { "path": "data/test.csv", "labelColumn": "label" } }
            """);
        Files.Write("data/train.csv", Csv(60, seed: 1));
        Files.Write("data/test.csv", Csv(20, seed: 2));
        Files.Write("a/a.lineage.json", """
            { "schemaVersion": 1, "id": "a", "checkpoint": "bin/a.safetensors",
              "architecture": { "kind": "mlp", "inputs": 4, "hidden": [8], "classes": 4 },
              "data": [ { "dataset": "toy", "labels": [0, 1] } ] }
            """);
        Files.Write("b/b.lineage.json", """
            { "schemaVersion": 1, "id": "b", "checkpoint": "bin/b.safetensors",
              "architecture": { "kind": "mlp", "inputs": 4, "hidden": [8], "classes": 4 },
              "parents": [ { "id": "a", "relation": "finetune" } ],
              "data": [ { "dataset": "toy", "labels": [2] } ] }
            """);
        if (withCheckpoints)
        {
            WriteCheckpoint("a", seed: 3);
            WriteCheckpoint("b", seed: 4);
        }
    }

    public TempWorkspace Files { get; }

    public string Root => Files.Root;

    public Workspace Load() => WorkspaceLoader.Load(Root);

    public string CheckpointOf(string model) => Files.PathOf($"{model}/bin/{model}.safetensors");

    public void WriteCheckpoint(string model, int seed)
    {
        torch.manual_seed(seed);
        using var module = new Mlp(4, [8], 4);
        CheckpointStore.Save(CheckpointOf(model), module);
    }

    public static string Csv(int rows, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder("f0,f1,f2,f3,label\n");
        for (var i = 0; i < rows; i++)
        {
            var label = i % 4;
            for (var f = 0; f < 4; f++)
            {
                var value = (f == label ? 1.0 : 0.0) + (random.NextDouble() * 0.5);
                text.Append(value.ToString("0.####", CultureInfo.InvariantCulture)).Append(',');
            }

            text.Append(label.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return text.ToString();
    }

    public void Dispose() => Files.Dispose();
}
