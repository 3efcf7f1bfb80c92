using FisherUnlearn.Lineage.Diagnostics;
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
        // Not the removal's file: what of it outputs depend on counts by content (RequestHash, RemovalSettings).
        Assert.DoesNotContain(workspace.Removals["forget-3"].ManifestPath, files);
        foreach (var id in new[] { "base", "side", "fed" })
        {
            Assert.Contains(workspace.Models[id].CheckpointPath, files);
            Assert.Contains(workspace.Models[id].ManifestPath, files);
        }

        Assert.DoesNotContain(workspace.Models["unrelated"].CheckpointPath, files);
        Assert.Contains(workspace.Datasets["other"].ManifestPath, files);
        Assert.Contains(workspace.Datasets["mnist"].Train!.Files.First(), files);
    }

    [Fact]
    public void Of_unlearn_json_only_the_method_and_the_parameters_count_and_x_extensions_do_not()
    {
        var baseline = new WorkspaceSettings { Method = "fiun", Parameters = Parameters(("alpha", "2")) };
        var key = JobInputs.OutputSettings(baseline);

        Assert.Equal(key, JobInputs.OutputSettings(baseline with { Threads = 8, Parallelism = 4, PlanLabels = 1, MaxPlans = 5, Output = "elsewhere", Exclude = ["**/x/**"] }));
        Assert.Equal(key, JobInputs.OutputSettings(baseline with { Parameters = Parameters(("x-note", "\"why\""), ("alpha", "2")) }));
        Assert.NotEqual(key, JobInputs.OutputSettings(baseline with { Parameters = Parameters(("alpha", "3")) }));
        Assert.NotEqual(key, JobInputs.OutputSettings(baseline with { Method = "ssd" }));
        Assert.NotEqual(key, JobInputs.OutputSettings(baseline with { Parameters = Parameters(("alpha", "2"), ("seed", "1")) }));
    }

    [Fact]
    public void The_module_assemblies_of_custom_architectures_in_the_lineage_are_inputs()
    {
        using var ws = new TempWorkspace();
        ToyChain.Write(ws);
        ws.Write("a/a.lineage.json", """
            { "schemaVersion": 1, "id": "a", "checkpoint": "bin/a.safetensors",
              "architecture": { "kind": "custom", "assembly": "bin/Models.dll", "type": "Models.Net", "classes": 4 },
              "data": [ { "dataset": "toy", "labels": [0, 1] } ] }
            """);
        ws.Write("b/b.lineage.json", ws.ReadText("b/b.lineage.json").Replace("\"finetune\"", "\"distill\"", StringComparison.Ordinal));
        ws.Write("forget-1.removal.json", """{ "schemaVersion": 1, "id": "forget-1", "forget": { "labels": [1] } }""");
        var analysis = WorkspaceAnalysis.Analyze(ws.Root, TestContext.Current.CancellationToken);
        Assert.False(analysis.HasErrors, string.Join('\n', analysis.Diagnostics));
        var workspace = analysis.Workspace;

        var inputs = JobInputs.Of(workspace, analysis.Graph, workspace.Removals["forget-1"], "b");

        Assert.Equal([("a", ws.PathOf("a/bin/Models.dll"))], inputs.Assemblies());
        Assert.Contains(ws.PathOf("a/bin/Models.dll"), inputs.Files());
    }

    private static SortedDictionary<string, string> Parameters(params (string Name, string Value)[] values) =>
        new(values.ToDictionary(v => v.Name, v => v.Value), StringComparer.Ordinal);

    [Fact]
    public void A_removal_s_labels_and_samples_count_as_sets_in_any_order_or_grouping()
    {
        var at = new SourceLocation("/w/r.removal.json");
        var removal = new RemovalManifest
        {
            Id = "r", ManifestPath = "/w/r.removal.json", Location = at, Labels = [3, 7],
            Samples = [new SampleSelection("mnist", "train", [10, 11, 12, 13], at), new SampleSelection("extra", "train", [1], at)],
        };
        var key = JobInputs.RequestHash(removal);

        Assert.Equal(key, JobInputs.RequestHash(removal with { Labels = [7, 3] }));
        Assert.Equal(key, JobInputs.RequestHash(removal with
        {
            Samples = [new SampleSelection("extra", "train", [1], at), new SampleSelection("mnist", "train", [13, 12], at), new SampleSelection("mnist", "train", [11, 10], at)],
        }));
        // Other sets are other requests: a sample of another split, one index more, one label less.
        Assert.NotEqual(key, JobInputs.RequestHash(removal with
        {
            Samples = [new SampleSelection("mnist", "test", [10, 11, 12, 13], at), new SampleSelection("extra", "train", [1], at)],
        }));
        Assert.NotEqual(key, JobInputs.RequestHash(removal with
        {
            Samples = [new SampleSelection("mnist", "train", [10, 11, 12, 13, 14], at), new SampleSelection("extra", "train", [1], at)],
        }));
        Assert.NotEqual(key, JobInputs.RequestHash(removal with { Labels = [3] }));
    }

    [Fact]
    public void A_data_entry_s_labels_count_as_a_set_and_the_entries_in_their_order()
    {
        var at = new SourceLocation("/w/m/m.lineage.json");
        var model = new ModelManifest
        {
            Id = "m", ManifestPath = "/w/m/m.lineage.json", CheckpointPath = "/w/m/m.safetensors", Location = at,
            Architecture = new ArchitectureSpec { Kind = "mlp", Inputs = 4, Hidden = [3], Classes = 10 },
            Data = [new DataUse("mnist", [0, 1, 2, 4, 5], at), new DataUse("extra", null, at)],
        };
        var content = ModelContent.Of(model);

        Assert.Equal(content, ModelContent.Of(model with { Data = [new DataUse("mnist", [5, 4, 2, 1, 0], at), new DataUse("extra", null, at)] }));
        // Training reads the entries in their order, so that order is part of the model.
        Assert.NotEqual(content, ModelContent.Of(model with { Data = [new DataUse("extra", null, at), new DataUse("mnist", [0, 1, 2, 4, 5], at)] }));
        Assert.NotEqual(content, ModelContent.Of(model with { Data = [new DataUse("mnist", [0, 1, 2, 4], at), new DataUse("extra", null, at)] }));
    }

    [Fact]
    public void A_removal_counts_by_what_it_asks_and_its_method_settings_not_by_its_reason()
    {
        var removal = new RemovalManifest
        {
            Id = "r", ManifestPath = "/w/r.removal.json", Location = new SourceLocation("/w/r.removal.json"), Labels = [3],
            Reason = "Ticket 1", Targets = new RemovalTargets { MaxForgetAccuracy = 0.01, MaxRetainDrop = 0.02 },
        };

        var reworded = removal with { Reason = "Ticket 2", RequestedAt = "2026-11-27", Targets = new RemovalTargets { MaxForgetAccuracy = 0.01, MaxRetainDrop = 0.05 } };

        Assert.Equal(JobInputs.RequestHash(removal), JobInputs.RequestHash(reworded));
        // The default forget target written out or not is the same request; a sample request does not aim at it at all.
        Assert.Equal(JobInputs.RequestHash(removal), JobInputs.RequestHash(removal with { Targets = null }));
        var samples = removal with { Labels = [], Samples = [new SampleSelection("mnist", "train", [1, 2], removal.Location)] };
        Assert.Equal(JobInputs.RequestHash(samples), JobInputs.RequestHash(samples with { Targets = new RemovalTargets { MaxForgetAccuracy = 0.5 } }));
        Assert.Equal(JobInputs.RemovalSettings(removal), JobInputs.RemovalSettings(reworded));
        Assert.NotEqual(JobInputs.RequestHash(removal), JobInputs.RequestHash(removal with { Labels = [3, 4] }));
        Assert.NotEqual(JobInputs.RequestHash(removal), JobInputs.RequestHash(removal with { Targets = new RemovalTargets { MaxForgetAccuracy = 0.05 } }));
        Assert.NotEqual(JobInputs.RequestHash(removal),
            JobInputs.RequestHash(removal with { Samples = [new SampleSelection("mnist", "train", [1, 2], removal.Location)] }));
        Assert.NotEqual(JobInputs.RemovalSettings(removal), JobInputs.RemovalSettings(removal with { Method = "ssd" }));
        Assert.NotEqual(JobInputs.RemovalSettings(removal),
            JobInputs.RemovalSettings(removal with { Parameters = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["seed"] = "5" } }));
        Assert.Equal(JobInputs.RemovalSettings(removal),
            JobInputs.RemovalSettings(removal with { Parameters = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["x-note"] = "\"why\"" } }));
    }
}
