using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Lineage.Tests.Planning;

/// <summary>What one affected model's output depends on: the one definition the job key and MSBuild's Inputs share.</summary>
public sealed class JobInputsRules
{
    [Fact]
    public void A_models_inputs_are_the_request_the_settings_its_whole_lineage_and_every_dataset_the_lineage_names()
    {
        var workspace = new WorkspaceBuilder()
            .Dataset("mnist", classes: 10, trainCount: 100)
            .Dataset("other", classes: 10, trainCount: 100)
            .Model("base", data: ["mnist:0-6"])
            .Model("side", data: ["other:1"])
            .Model("fed", data: ["mnist:7"], parents: ["base", "side"], relation: Relation.Aggregate)
            .Model("unrelated", data: ["other"])
            .Removal("forget-3", labels: [3])
            .Build();
        var graph = LineageGraph.Build(workspace);

        var inputs = JobInputs.Of(workspace, graph, workspace.Removals["forget-3"], "fed");

        // side never saw a 3, yet its checkpoint and manifest count: fed starts from the average of both parents.
        Assert.Equal(["base", "side"], inputs.Ancestors.Select(a => a.Id));
        Assert.Equal(["mnist", "other"], inputs.DatasetIds);
        var files = inputs.Files().ToList();
        Assert.Equal(files.Count, files.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(workspace.Removals["forget-3"].ManifestPath, files[0]);
        foreach (var id in new[] { "base", "side", "fed" })
        {
            Assert.Contains(workspace.Models[id].CheckpointPath, files);
            Assert.Contains(workspace.Models[id].ManifestPath, files);
        }

        Assert.DoesNotContain(workspace.Models["unrelated"].CheckpointPath, files);
        Assert.Contains(workspace.Datasets["other"].ManifestPath, files);
        Assert.Contains(workspace.Datasets["mnist"].Train!.Files.First(), files);
    }
}
