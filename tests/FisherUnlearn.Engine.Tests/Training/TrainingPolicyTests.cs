using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Tests.Support;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Testing;
using TorchSharp;

namespace FisherUnlearn.Engine.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class TrainingPolicyTests
{
    [Fact]
    public void Train_writes_what_is_missing_or_stale_and_keeps_what_is_current_or_the_users_own()
    {
        using var folder = new TempWorkspace();
        var workspace = new WorkspaceBuilder().Dataset("toy", 4, format: "csv")
            .Model("a", data: ["toy:0,1"], architecture: WorkspaceBuilder.Mlp(4, 2, 4))
            .WriteTo(folder.Root);
        folder.Write("data/toy/train.csv", "x1,x2,label\n0,0,0\n1,1,1\n2,2,2\n");
        var a = workspace.Models["a"];
        TrainingDecision Decide(ModelManifest model, bool force = false) => TrainingPolicy.Decide(workspace, model, force, new FileHashCache());
        using var tensor = torch.zeros(2, 2);
        var state = new Dictionary<string, torch.Tensor> { ["w"] = tensor };

        var missing = Decide(a);
        Assert.Equal((TrainingAction.Train, "no checkpoint"), (missing.Action, missing.Why));
        Assert.NotNull(missing.Inputs);

        // Written by 'train' from these inputs: up to date; forced or with another recipe: trained again.
        CheckpointStore.Save(a.CheckpointPath, state, TrainingInputs.Metadata(a, missing.Inputs!));
        Assert.Equal((TrainingAction.UpToDate, missing.Inputs), (Decide(a).Action, Decide(a).Inputs));
        Assert.Equal((TrainingAction.Train, "forced"), (Decide(a, force: true).Action, Decide(a, force: true).Why));
        var changed = Decide(a with { Training = a.Training! with { Seed = 42 } });
        Assert.Equal((TrainingAction.Train, "stale"), (changed.Action, changed.Why));
        Assert.NotEqual(missing.Inputs, changed.Inputs);

        // A safetensors file 'train' did not write is the user's: kept unless forced.
        CheckpointStore.Save(a.CheckpointPath, state);
        Assert.Equal(TrainingAction.Keep, Decide(a).Action);
        Assert.Contains("--force", Decide(a).Why, StringComparison.Ordinal);
        Assert.Equal(TrainingAction.Train, Decide(a, force: true).Action);

        // No recipe: an existing checkpoint is kept; a missing one cannot be made (FUL4060).
        var noRecipe = a with { Training = null };
        Assert.Equal(TrainingAction.Keep, Decide(noRecipe).Action);
        File.Delete(a.CheckpointPath);
        EngineAssert.Fails(DiagnosticCatalogue.TrainingRecipeMissing.Code, () => Decide(noRecipe));

        // .pt files are only read: kept when present, never written (FUL4064), even when forced.
        var pt = a with { CheckpointPath = Path.ChangeExtension(a.CheckpointPath, ".pt") };
        EngineAssert.Fails(DiagnosticCatalogue.CheckpointNotTrainable.Code, () => Decide(pt));
        CheckpointStore.Save(pt.CheckpointPath, state);
        Assert.Equal(TrainingAction.Keep, Decide(pt).Action);
        EngineAssert.Fails(DiagnosticCatalogue.CheckpointNotTrainable.Code, () => Decide(pt, force: true));
    }
}
