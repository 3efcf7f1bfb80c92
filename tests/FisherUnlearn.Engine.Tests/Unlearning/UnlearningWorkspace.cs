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

    /// <param name="train">Train every model (else the checkpoints are missing).</param>
    /// <param name="removalExtra">JSON members appended to <c>forget-3</c>'s manifest.</param>
    /// <param name="extend">Writes more of the workspace (datasets, models, removals) before anything is trained.</param>
    public UnlearningWorkspace(bool train = true, string removalExtra = "", Action<UnlearningWorkspace>? extend = null)
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
        extend?.Invoke(this);
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

    /// <summary>The train indices of <paramref name="labels"/> in the order model <paramref name="id"/> classifies them,
    /// lowest loss (easiest) first, ties by index.</summary>
    public IReadOnlyList<int> TrainIndicesByLoss(string id, params int[] labels)
    {
        var workspace = Analyze().Workspace;
        var manifest = workspace.Models[id];
        var train = Engine.Data.DatasetLoader.Load(workspace.Datasets["mnist"], "train").WhereLabelIn(labels);
        using var module = Engine.Models.ModelFactory.Create(manifest.Architecture, manifest.ManifestDirectory);
        Engine.Checkpoints.CheckpointStore.LoadInto(module, manifest.CheckpointPath, manifest.Architecture.ToString());
        var outputs = Engine.Verification.ModelEvaluator.Evaluate(module, [train]);
        return [.. Enumerable.Range(0, train.Count).OrderBy(i => outputs.Losses[i]).ThenBy(i => i).Select(i => train.SourceIndices[i])];
    }

    /// <summary>A small MLP (784-32-10) trained on <paramref name="labels"/> of <paramref name="dataset"/> (all its labels
    /// when null), a finetune of <paramref name="parent"/> when given.</summary>
    public void Model(string id, string? labels, string? parent, int seed, string dataset = "mnist", int epochs = 1)
    {
        var parents = parent is null ? string.Empty : $$""", "parents": [ { "id": "{{parent}}", "relation": "finetune" } ]""";
        var only = labels is null ? string.Empty : $$""", "labels": {{labels}}""";
        folder.Write($"{id}/{id}.lineage.json", $$"""
            { "schemaVersion": 1, "id": "{{id}}", "checkpoint": "bin/{{id}}.safetensors",
              "architecture": { "kind": "mlp", "inputs": 784, "hidden": [32], "classes": 10 }{{parents}},
              "data": [ { "dataset": "{{dataset}}"{{only}} } ],
              "training": { "epochs": {{epochs}}, "batchSize": 64, "optimizer": "adam", "learningRate": 0.003, "seed": {{seed}} } }
            """);
    }

    /// <summary>A dataset <paramref name="id"/> of <paramref name="count"/> train digits of the sample, from
    /// <paramref name="start"/> on (the sample's own test split), so that a model can train on few digits it memorises.</summary>
    public void DigitsSlice(string id, int start, int count)
    {
        foreach (var (name, header) in new[] { ("train-images-idx3-ubyte.gz", 16), ("train-labels-idx1-ubyte.gz", 8) })
        {
            using var input = new System.IO.Compression.GZipStream(File.OpenRead(PathOf("data/" + name)), System.IO.Compression.CompressionMode.Decompress);
            using var buffer = new MemoryStream();
            input.CopyTo(buffer);
            var bytes = buffer.ToArray();
            var total = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
            var size = (bytes.Length - header) / total;
            var slice = new byte[header + (count * size)];
            bytes.AsSpan(0, header).CopyTo(slice);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(slice.AsSpan(4), count);
            bytes.AsSpan(header + (start * size), count * size).CopyTo(slice.AsSpan(header));
            folder.WriteBytes($"data/{id}-{name}", Support.IdxBuilder.Gzip(slice));
        }

        folder.Write($"{id}.dataset.json", $$"""
            { "schemaVersion": 1, "id": "{{id}}", "format": "idx", "classes": 10,
              "train": { "images": "data/{{id}}-train-images-idx3-ubyte.gz", "labels": "data/{{id}}-train-labels-idx1-ubyte.gz" },
              "test": { "images": "data/test-images-idx3-ubyte.gz", "labels": "data/test-labels-idx1-ubyte.gz" } }
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
