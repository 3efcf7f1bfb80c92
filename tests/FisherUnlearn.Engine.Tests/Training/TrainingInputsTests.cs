using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Testing;
using TorchSharp;

namespace FisherUnlearn.Engine.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class TrainingInputsTests
{
    private static Workspace Chain(TempWorkspace folder, TrainingRecipe? childRecipe = null)
    {
        var workspace = new WorkspaceBuilder().Dataset("toy", 4, format: "csv")
            .Model("a", data: ["toy:0,1"], architecture: WorkspaceBuilder.Mlp(4, 2, 4))
            .Model("b", data: ["toy:2"], parents: ["a"], architecture: WorkspaceBuilder.Mlp(4, 2, 4), training: childRecipe)
            .WriteTo(folder.Root);
        folder.Write("data/toy/train.csv", "x1,x2,label\n0,0,0\n1,1,1\n2,2,2\n");
        return workspace;
    }

    [Fact]
    public void The_hash_changes_with_the_parent_checkpoint_recipe_data_and_filter_only()
    {
        using var folder = new TempWorkspace();
        var workspace = Chain(folder);
        var b = workspace.Models["b"];

        var hash = TrainingInputs.Compute(workspace, b, ["parent-1"]);

        Assert.Equal(hash, TrainingInputs.Compute(workspace, b, ["parent-1"]));
        Assert.NotEqual(hash, TrainingInputs.Compute(workspace, b, ["parent-2"]));
        Assert.NotEqual(hash, TrainingInputs.Compute(workspace, b with { Training = b.Training! with { Seed = 99 } }, ["parent-1"]));
        Assert.NotEqual(hash, TrainingInputs.Compute(workspace, b, ["parent-1"], new DataFilter([2], [])));
        folder.Write("data/toy/train.csv", "x1,x2,label\n0,0,0\n1,1,1\n2,2,3\n");
        Assert.NotEqual(hash, TrainingInputs.Compute(workspace, b, ["parent-1"]));
    }

    /// <summary>Found in QA: moving a checkpoint, or a setting training does not read, retrained the model and, through its
    /// checkpoint's new metadata, every descendant. What shapes the weights still counts.</summary>
    [Fact]
    public void The_hash_ignores_where_the_checkpoint_lies_and_settings_training_does_not_read()
    {
        using var folder = new TempWorkspace();
        var workspace = Chain(folder);
        var b = workspace.Models["b"];
        var hash = TrainingInputs.Compute(workspace, b, ["parent-1"]);
        var manifestChanged = workspace with { ManifestHashes = new Dictionary<string, string>(workspace.ManifestHashes) { [b.ManifestPath] = "another bytes" } };

        Assert.Equal(hash, TrainingInputs.Compute(manifestChanged, b, ["parent-1"]));
        Assert.Equal(hash, TrainingInputs.Compute(workspace, b with { CheckpointPath = folder.PathOf("elsewhere/b.safetensors") }, ["parent-1"]));
        Assert.Equal(hash, TrainingInputs.Compute(workspace, b with { Training = b.Training! with { Temperature = 7 } }, ["parent-1"])); // not a student
        Assert.Equal(hash, TrainingInputs.Compute(workspace, b with { Training = b.Training! with { Optimizer = "adam", Momentum = 0.9 } }, ["parent-1"]));
        var sgd = TrainingInputs.Compute(workspace, b with { Training = b.Training! with { Optimizer = "sgd" } }, ["parent-1"]);
        Assert.NotEqual(sgd, TrainingInputs.Compute(workspace, b with { Training = b.Training! with { Optimizer = "sgd", Momentum = 0.9 } }, ["parent-1"]));
        var student = b with { Parents = [new ParentLink("a", Relation.Distill, b.Location)] };
        Assert.NotEqual(TrainingInputs.Compute(workspace, student, ["parent-1"]),
            TrainingInputs.Compute(workspace, student with { Training = b.Training! with { Temperature = 7 } }, ["parent-1"]));
        Assert.NotEqual(hash, TrainingInputs.Compute(workspace, b with { Architecture = WorkspaceBuilder.Mlp(4, 3, 4) }, ["parent-1"]));
        Assert.NotEqual(hash, TrainingInputs.Compute(workspace, b with { Architecture = b.Architecture with { Hidden = [5] } }, ["parent-1"]));
    }

    /// <summary>Found in QA: a module whose layer sizes come from a helper library of its solution (a project reference,
    /// copied beside it by the build) kept its inputs hash when only the helper was rebuilt.</summary>
    [Fact]
    public void A_custom_modules_inputs_include_the_assemblies_it_references_beside_it_and_no_others()
    {
        using var folder = new TempWorkspace();
        var workspace = new WorkspaceBuilder().Dataset("toy", 4, format: "csv")
            .Model("m", data: ["toy:0,1"], architecture: new ArchitectureSpec { Kind = ArchitectureSpec.Custom, Assembly = "lib/module.dll", Type = "M", Classes = 4 })
            .WriteTo(folder.Root);
        folder.Write("data/toy/train.csv", "x1,x2,label\n0,0,0\n1,1,1\n");
        // A real assembly as the module (this test assembly) and one it references (the engine) beside it.
        var lib = folder.CreateDirectory("m/lib");
        File.Copy(typeof(TrainingInputsTests).Assembly.Location, Path.Combine(lib, "module.dll"));
        File.Copy(typeof(TrainingInputs).Assembly.Location, Path.Combine(lib, "FisherUnlearn.Engine.dll"));
        File.WriteAllText(Path.Combine(lib, "unrelated.dll"), "not referenced by the module");
        var model = workspace.Models["m"];
        var hash = TrainingInputs.Compute(workspace, model, []);

        File.AppendAllText(Path.Combine(lib, "unrelated.dll"), " changed");
        Assert.Equal(hash, TrainingInputs.Compute(workspace, model, []));

        File.AppendAllText(Path.Combine(lib, "FisherUnlearn.Engine.dll"), "rebuilt");
        Assert.NotEqual(hash, TrainingInputs.Compute(workspace, model, []));
        Assert.Equal([Path.Combine(lib, "module.dll"), Path.Combine(lib, "FisherUnlearn.Engine.dll")], Lineage.IO.ModuleAssemblyFiles.Of(Path.Combine(lib, "module.dll")));
    }

    [Fact]
    public void Check_tells_missing_up_to_date_stale_foreign_unreadable_and_user_checkpoints_apart()
    {
        using var folder = new TempWorkspace();
        var model = Chain(folder).Models["a"];
        var path = model.CheckpointPath;
        using var tensor = torch.zeros(2, 2);
        var state = new Dictionary<string, torch.Tensor> { ["w"] = tensor };

        Assert.Equal(CheckpointState.Missing, TrainingInputs.Check(path, "h1"));
        CheckpointStore.Save(path, state, TrainingInputs.Metadata(model, "h1"));
        Assert.Equal(CheckpointState.UpToDate, TrainingInputs.Check(path, "h1"));
        Assert.Equal(CheckpointState.Stale, TrainingInputs.Check(path, "h2"));
        Assert.Equal("a", TrainingInputs.ReadMetadata(path)![TrainingInputs.ModelKey]);
        Assert.Equal("mlp 2-4-4", TrainingInputs.ReadMetadata(path)![TrainingInputs.ArchitectureKey]);
        CheckpointStore.Save(path, state);
        Assert.Equal(CheckpointState.Foreign, TrainingInputs.Check(path, "h1"));
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Equal(CheckpointState.Unreadable, TrainingInputs.Check(path, "h1"));
        var pt = Path.ChangeExtension(path, ".pt");
        CheckpointStore.Save(pt, state);
        Assert.Equal(CheckpointState.UserFormat, TrainingInputs.Check(pt, "h1"));
    }
}
