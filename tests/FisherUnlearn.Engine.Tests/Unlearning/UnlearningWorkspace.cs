using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Tests.Support;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Lineage;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Engine.Tests.Unlearning;

/// <summary>Unlearning tests train small models and seed libtorch's process-global RNG: run them alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class UnlearningCollection
{
    public const string Name = "Unlearning (TorchSharp)";
}

/// <summary>
/// A trained chain on the sample MNIST digits (8,000 train / 2,000 test): <c>a</c> (digits 0-3) -> <c>b</c> (finetune,
/// 0, 1, 2, 4) -> <c>c</c> (finetune, 0, 1, 2, 5), small MLPs (784-32-10), one epoch each; removal <c>forget-3</c>
/// (root a, descendants b and c) with targets, and <c>never</c> (label 9: nothing affected).
/// </summary>
internal sealed class UnlearningWorkspace : IDisposable
{
    private readonly TempWorkspace folder = new("fiun-unlearn");

    public UnlearningWorkspace(bool train = true, string removalExtra = "")
    {
        foreach (var file in new[] { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "test-images-idx3-ubyte.gz", "test-labels-idx1-ubyte.gz" })
        {
            folder.WriteBytes("data/" + file, File.ReadAllBytes(RepoPaths.PathOf("samples/digits/data/" + file)));
        }

        folder.Write("mnist.dataset.json", """
            { "schemaVersion": 1, "id": "mnist", "format": "idx", "classes": 10,
              "train": { "images": "data/train-images-idx3-ubyte.gz", "labels": "data/train-labels-idx1-ubyte.gz" },
              "test": { "images": "data/test-images-idx3-ubyte.gz", "labels": "data/test-labels-idx1-ubyte.gz" } }
            """);
        Model("a", "[0, 1, 2, 3]", null, 1);
        Model("b", "[0, 1, 2, 4]", "a", 2);
        Model("c", "[0, 1, 2, 5]", "b", 3);
        folder.Write("forget-3.removal.json", $$"""
            { "schemaVersion": 1, "id": "forget-3", "forget": { "labels": [3] },
              "targets": { "maxForgetAccuracy": 0.05, "maxRetainDrop": 0.05 }{{removalExtra}} }
            """);
        if (train)
        {
            Train();
        }
    }

    public string Root => folder.Root;

    public string PathOf(string relative) => folder.PathOf(relative);

    public void Write(string relative, string content) => folder.Write(relative, content);

    public WorkspaceAnalysis Analyze() => WorkspaceAnalysis.Analyze(Root, TestContext.Current.CancellationToken);

    public string Checkpoint(string id) => PathOf($"{id}/bin/{id}.safetensors");

    private void Model(string id, string labels, string? parent, int seed)
    {
        var parents = parent is null ? string.Empty : $$""", "parents": [ { "id": "{{parent}}", "relation": "finetune" } ]""";
        folder.Write($"{id}/{id}.lineage.json", $$"""
            { "schemaVersion": 1, "id": "{{id}}", "checkpoint": "bin/{{id}}.safetensors",
              "architecture": { "kind": "mlp", "inputs": 784, "hidden": [32], "classes": 10 }{{parents}},
              "data": [ { "dataset": "mnist", "labels": {{labels}} } ],
              "training": { "epochs": 1, "batchSize": 64, "optimizer": "adam", "learningRate": 0.003, "seed": {{seed}} } }
            """);
    }

    private void Train()
    {
        TorchRuntime.Configure(1);
        var analysis = Analyze();
        Assert.False(analysis.HasErrors, string.Join("\n", analysis.Diagnostics));
        var trainer = new ModelTrainer(analysis.Workspace, new TrainingOptions { Threads = 1 });
        foreach (var id in analysis.Graph.TopologicalOrder)
        {
            using var result = trainer.Train(analysis.Workspace.Models[id], cancellationToken: TestContext.Current.CancellationToken);
            result.Save(analysis.Workspace.Models[id].CheckpointPath);
        }
    }

    public void Dispose() => folder.Dispose();
}
