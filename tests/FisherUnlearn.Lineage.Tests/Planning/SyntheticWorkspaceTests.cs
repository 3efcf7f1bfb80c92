using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Lineage.Tests.Planning;

public sealed class SyntheticWorkspaceTests
{
    [Fact]
    public void Ten_thousand_synthetic_models_are_valid_and_plannable()
    {
        var workspace = SyntheticWorkspace.Create(10_000, seed: 7).Build();
        var graph = LineageGraph.Build(workspace);

        var diagnostics = GraphValidator.Validate(workspace, graph);
        var labels = Planner.Plan(workspace, graph, workspace.Removals[SyntheticWorkspace.LabelRemovalId]);
        var samples = Planner.Plan(workspace, graph, workspace.Removals[SyntheticWorkspace.SampleRemovalId]);

        Assert.Empty(diagnostics);
        Assert.Equal(10_000, workspace.Models.Count);
        Assert.False(graph.HasCycles);
        Assert.InRange(labels.Affected.Count, 1, 9_999);
        Assert.InRange(samples.Affected.Count, 1, 9_999);
        var parents = workspace.Models.Values.Select(m => m.Parents.Count).ToList();
        Assert.Contains(parents, p => p >= 3);
        foreach (var relation in Enum.GetValues<Relation>())
        {
            Assert.Contains(workspace.Models.Values, m => m.Relation == relation);
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_files()
    {
        var first = Directory.CreateTempSubdirectory("fiun-synthetic-");
        var second = Directory.CreateTempSubdirectory("fiun-synthetic-");
        try
        {
            SyntheticWorkspace.Write(first.FullName, 300, seed: 3);
            SyntheticWorkspace.Write(second.FullName, 300, seed: 3);

            var files = Directory.GetFiles(first.FullName, "*.json", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(first.FullName, f)).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(300, files.Count(f => f.EndsWith(".lineage.json", StringComparison.Ordinal)));
            Assert.Equal(2, files.Count(f => f.EndsWith(".removal.json", StringComparison.Ordinal)));
            foreach (var file in files)
            {
                Assert.Equal(File.ReadAllText(Path.Combine(first.FullName, file)), File.ReadAllText(Path.Combine(second.FullName, file)));
            }
        }
        finally
        {
            first.Delete(recursive: true);
            second.Delete(recursive: true);
        }
    }

    [Fact]
    public void Written_locations_point_at_the_elements()
    {
        var folder = Directory.CreateTempSubdirectory("fiun-builder-");
        try
        {
            var workspace = new WorkspaceBuilder()
                .Dataset("mnist")
                .Model("base", data: ["mnist:0-6"])
                .Model("fed", data: ["mnist:7", "mnist:8"], parents: ["base", "base:aggregate"], relation: Relation.Aggregate)
                .Removal("erase", labels: [3], samples: [WorkspaceBuilder.Samples("mnist", 4)])
                .WriteTo(folder.FullName);

            var fed = workspace.Models["fed"];
            var lines = File.ReadAllLines(fed.ManifestPath);
            Assert.StartsWith("    { \"id\": \"base\"", lines[fed.Parents[1].Location.Line - 1], StringComparison.Ordinal);
            Assert.StartsWith("    { \"dataset\": \"mnist\", \"labels\": [8] }", lines[fed.Data[1].Location.Line - 1], StringComparison.Ordinal);
            var selection = workspace.Removals["erase"].Samples[0];
            Assert.Contains("\"indices\": [4]", File.ReadAllLines(workspace.Removals["erase"].ManifestPath)[selection.Location.Line - 1], StringComparison.Ordinal);
            Assert.Equal(7, selection.Location.Column);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Written_manifests_load_back_as_the_same_workspace()
    {
        var folder = Directory.CreateTempSubdirectory("fiun-builder-");
        try
        {
            var built = SyntheticWorkspace.Create(200, seed: 5).WriteTo(folder.FullName);

            var loaded = FisherUnlearn.Lineage.Discovery.WorkspaceLoader.Load(folder.FullName, TestContext.Current.CancellationToken);

            Assert.Empty(loaded.Diagnostics);
            Assert.Equal(built.Models.Keys, loaded.Models.Keys);
            Assert.Equal(built.Datasets.Keys, loaded.Datasets.Keys);
            Assert.Equal(built.Removals.Keys, loaded.Removals.Keys);
            foreach (var (id, model) in built.Models)
            {
                var other = loaded.Models[id];
                Assert.Equal(model.ManifestPath, other.ManifestPath);
                Assert.Equal(model.Parents, other.Parents);
                Assert.Equal(model.Data.Select(d => (d.Dataset, d.Labels is null ? "*" : string.Join(",", d.Labels), d.Location)),
                    other.Data.Select(d => (d.Dataset, d.Labels is null ? "*" : string.Join(",", d.Labels), d.Location)));
                Assert.True(model.Architecture.StructurallyEquals(other.Architecture));
            }

            var samples = built.Removals[SyntheticWorkspace.SampleRemovalId].Samples[0];
            var loadedSamples = loaded.Removals[SyntheticWorkspace.SampleRemovalId].Samples[0];
            Assert.Equal(samples.Location, loadedSamples.Location);
            Assert.Equal(samples.Indices, loadedSamples.Indices);
            Assert.Equal(
                PlannerScenarioTests.Snapshot(PlannerScenarioTests.PlanOf(built, SyntheticWorkspace.LabelRemovalId)),
                PlannerScenarioTests.Snapshot(PlannerScenarioTests.PlanOf(loaded, SyntheticWorkspace.LabelRemovalId)));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
