using FisherUnlearn.Engine.Tests.Support;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Testing;
using static FisherUnlearn.Engine.Tests.Training.TrainingFixtures;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class ReferenceRetrainerTests
{
    /// <summary>base (0-4) -> plus-5 -> plus-6, and fed = aggregate(plus-6, side (7-9)) trained on 5; forget-3 hits base.</summary>
    private static (WorkspaceAnalysis Analysis, RemovalPlan Plan) Network(TempWorkspace folder)
    {
        var workspace = new WorkspaceBuilder().Dataset("mnist")
            .Model("base", data: ["mnist:0-4"], architecture: Mlp32, training: Recipe(epochs: 2, seed: 1))
            .Model("plus-5", data: ["mnist:5"], parents: ["base"], architecture: Mlp32, training: Recipe(epochs: 1, seed: 2, learningRate: 0.001))
            .Model("plus-6", data: ["mnist:6"], parents: ["plus-5"], architecture: Mlp32, training: Recipe(epochs: 1, seed: 3, learningRate: 0.001))
            .Model("side", data: ["mnist:7-9"], architecture: Mlp32, training: Recipe(epochs: 2, seed: 4))
            .Model("fed", data: ["mnist:5-9"], parents: ["plus-6", "side"], relation: Relation.Aggregate, architecture: Mlp32, training: Recipe(epochs: 1, seed: 5, learningRate: 0.001))
            .Removal("forget-3", labels: [3])
            .WriteTo(folder.Root);
        var graph = LineageGraph.Build(workspace);
        var analysis = new WorkspaceAnalysis(workspace, graph, []);
        return (analysis, Planner.Plan(workspace, graph, workspace.Removals["forget-3"]));
    }

    private static void TrainSide(WorkspaceAnalysis analysis)
    {
        var side = analysis.Workspace.Models["side"];
        using var result = new ModelTrainer(analysis.Workspace, Options()).Train(side, new Dictionary<string, IReadOnlyDictionary<string, Tensor>>(), cancellationToken: TestContext.Current.CancellationToken);
        result.Save(side.CheckpointPath);
    }

    [Fact]
    public void Retraining_without_a_label_forgets_it_at_every_depth_and_keeps_the_rest()
    {
        using var folder = new TempWorkspace();
        var (analysis, plan) = Network(folder);
        TrainSide(analysis);
        var sideBytes = File.ReadAllBytes(analysis.Workspace.Models["side"].CheckpointPath);

        using var result = ReferenceRetrainer.Retrain(analysis, plan, analysis.Workspace.Removals["forget-3"], new RetrainOptions { LoadData = LoadData }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(["base", "plus-5", "plus-6", "fed"], result.Models.Select(m => m.Id));
        var forget = TestSplit.WhereLabelIn([3]);
        foreach (var retrained in result.Models)
        {
            var manifest = analysis.Workspace.Models[retrained.Id];
            using var module = Engine.Models.ModelFactory.Create(manifest.Architecture);
            StateDicts.LoadInto(module, retrained.State, retrained.Id, manifest.Architecture.ToString());
            Assert.True(Accuracy(module, forget) <= 0.01, $"{retrained.Id}: forget accuracy {Accuracy(module, forget)}");
            Assert.False(retrained.Reused);
            Assert.Null(retrained.CheckpointPath);
            Assert.True(retrained.Seconds > 0);
        }

        Assert.Equal(TrainSplit.WhereLabelIn([0, 1, 2, 4]).Count, result["base"].Stats.Samples);
        using (var baseModel = Engine.Models.ModelFactory.Create(Mlp32))
        {
            StateDicts.LoadInto(baseModel, result["base"].State, "base", "mlp");
            Assert.True(Accuracy(baseModel, TestSplit.WhereLabelIn([0, 1, 2, 4])) > 0.85);
        }

        Assert.Equal(sideBytes, File.ReadAllBytes(analysis.Workspace.Models["side"].CheckpointPath));
        Assert.All(plan.Affected, a => Assert.False(File.Exists(analysis.Workspace.Models[a.Id].CheckpointPath)));
    }

    [Fact]
    public void Written_references_go_to_the_output_folder_and_are_reused_when_up_to_date()
    {
        using var folder = new TempWorkspace();
        var (analysis, plan) = Network(folder);
        TrainSide(analysis);
        var output = folder.PathOf("artifacts/retrain/forget-3");
        var options = new RetrainOptions { LoadData = LoadData, OutputDirectory = output, Only = ["plus-5"] };

        using (var first = ReferenceRetrainer.Retrain(analysis, plan, analysis.Workspace.Removals["forget-3"], options, cancellationToken: TestContext.Current.CancellationToken))
        {
            Assert.Equal(["base", "plus-5"], first.Models.Select(m => m.Id));
            Assert.Equal(Path.Combine(output, "plus-5.safetensors"), first["plus-5"].CheckpointPath);
            // The ancestor Only needs is retrained in memory: its file in the folder may be another method's output.
            Assert.Null(first["base"].CheckpointPath);
            Assert.False(File.Exists(Path.Combine(output, "base.safetensors")));
            var metadata = TrainingInputs.ReadMetadata(first["plus-5"].CheckpointPath!)!;
            Assert.Equal(first["plus-5"].InputsHash, metadata[TrainingInputs.InputsKey]);
            Assert.Equal("forget-3", metadata[TrainingInputs.RemovalKey]);
        }

        var bytes = File.ReadAllBytes(Path.Combine(output, "plus-5.safetensors"));
        using var second = ReferenceRetrainer.Retrain(analysis, plan, analysis.Workspace.Removals["forget-3"], options, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(second["plus-5"].Reused); // its inputs (the ancestor's retrained weights, seeded) are the same
        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(output, "plus-5.safetensors")));
        Assert.False(File.Exists(analysis.Workspace.Models["base"].CheckpointPath));
    }

    [Fact]
    public void An_output_folder_holding_an_original_checkpoint_is_refused()
    {
        using var folder = new TempWorkspace();
        var (analysis, plan) = Network(folder);
        var baseCheckpoint = analysis.Workspace.Models["base"].CheckpointPath;

        EngineAssert.Fails("FUL4065", () => ReferenceRetrainer.Retrain(analysis, plan, analysis.Workspace.Removals["forget-3"],
            new RetrainOptions { LoadData = LoadData, OutputDirectory = Path.GetDirectoryName(baseCheckpoint) }, cancellationToken: TestContext.Current.CancellationToken));
    }
}
