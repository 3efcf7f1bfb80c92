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
        ToyChain.Write(Files, trainRows: 60, testRows: 20);
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

    public static string Csv(int rows, int seed) => ToyChain.Csv(rows, seed);

    public void Dispose() => Files.Dispose();
}
