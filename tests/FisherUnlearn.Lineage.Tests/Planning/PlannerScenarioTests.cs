using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Lineage.Tests.Planning;

public sealed class PlannerScenarioTests
{
    internal static RemovalPlan PlanOf(Workspace workspace, string removalId) =>
        Planner.Plan(workspace, LineageGraph.Build(workspace), workspace.Removals[removalId]);

    /// <summary>Everything a plan says, as text, to compare plans.</summary>
    internal static string Snapshot(RemovalPlan plan) =>
        string.Join('\n', new[]
        {
            $"removal {plan.RemovalId}",
            $"roots {string.Join(",", plan.Roots)}",
            $"unaffected {string.Join(",", plan.Unaffected)}",
            $"waves {string.Join(" | ", plan.Waves.Select(w => string.Join(",", w)))}",
        }.Concat(plan.Affected.Select(a =>
            $"{a.Id} {a.Role} wave={a.Wave} up=[{string.Join(",", a.UpstreamRoots)}] path=[{string.Join(",", a.Path)}] " +
            $"labels=[{string.Join(";", a.ForgottenLabels.Select(l => $"{l.Dataset}:{string.Join(",", l.Labels)}"))}] " +
            $"samples={a.SampleHits.Count} reason={a.Reason}")));

    internal static string WavesOf(RemovalPlan plan) => string.Join(" | ", plan.Waves.Select(w => string.Join(",", w)));

    private static WorkspaceBuilder Chain(string labelsOfA = "mnist:0-6", string labelsOfB = "mnist:7", string labelsOfC = "mnist:8", string labelsOfD = "mnist:9") =>
        new WorkspaceBuilder()
            .Dataset("mnist")
            .Model("a", data: [labelsOfA])
            .Model("b", data: [labelsOfB], parents: ["a"])
            .Model("c", data: [labelsOfC], parents: ["b"])
            .Model("d", data: [labelsOfD], parents: ["c"]);

    [Fact]
    public void Chain_with_the_root_at_the_top_affects_everything_in_order()
    {
        var workspace = Chain().Removal("forget-3", labels: [3]).Build();

        var plan = PlanOf(workspace, "forget-3");

        Assert.Equal(["a"], plan.Roots);
        Assert.Equal(["a", "b", "c", "d"], plan.Affected.Select(m => m.Id));
        Assert.Empty(plan.Unaffected);
        Assert.Equal("a | b | c | d", WavesOf(plan));
        var a = plan.Affected[0];
        Assert.Equal(ModelRole.Root, a.Role);
        Assert.Equal(["a"], a.Path);
        Assert.Equal("trains on label 3 of mnist", a.Reason);
        var forgotten = Assert.Single(a.ForgottenLabels);
        Assert.Equal("mnist", forgotten.Dataset);
        Assert.Equal([3], forgotten.Labels);
        var d = plan.Affected[3];
        Assert.Equal(ModelRole.Descendant, d.Role);
        Assert.Equal(["a"], d.UpstreamRoots);
        Assert.Equal(["a", "b", "c", "d"], d.Path);
        Assert.Equal("inherits from root 'a' via a -> b -> c -> d (finetune)", d.Reason);
        Assert.Equal(3, d.Wave);
        Assert.False(plan.IsEmpty);
    }

    [Fact]
    public void Chain_with_the_root_in_the_middle_leaves_the_top_unaffected()
    {
        var workspace = Chain(labelsOfA: "mnist:0-2", labelsOfC: "mnist:3,8").Removal("forget-3", labels: [3]).Build();

        var plan = PlanOf(workspace, "forget-3");

        Assert.Equal(["c"], plan.Roots);
        Assert.Equal(["c", "d"], plan.Affected.Select(m => m.Id));
        Assert.Equal(["a", "b"], plan.Unaffected);
        Assert.Equal("c | d", WavesOf(plan));
        Assert.Equal(["c", "d"], plan.Find("d")!.Path);
    }

    [Fact]
    public void Transfer_star_from_a_root_hub_affects_every_head()
    {
        var builder = new WorkspaceBuilder().Dataset("mnist").Model("hub", data: ["mnist"]);
        for (var h = 1; h <= 5; h++)
        {
            builder.Model($"head{h}", data: [$"mnist:{h}"], parents: ["hub"], relation: Relation.Transfer);
        }

        var plan = PlanOf(builder.Removal("forget-7", labels: [7]).Build(), "forget-7");

        Assert.Equal(["hub"], plan.Roots);
        Assert.Equal(["hub", "head1", "head2", "head3", "head4", "head5"], plan.Affected.Select(m => m.Id));
        Assert.Equal("hub | head1,head2,head3,head4,head5", WavesOf(plan));
        Assert.Equal("inherits from root 'hub' via hub -> head2 (transfer)", plan.Find("head2")!.Reason);
    }

    [Fact]
    public void Transfer_star_with_the_label_in_one_head_affects_only_that_head()
    {
        var builder = new WorkspaceBuilder().Dataset("mnist").Model("hub", data: ["mnist:0-2"]);
        for (var h = 3; h <= 6; h++)
        {
            builder.Model($"head{h}", data: [$"mnist:{h}"], parents: ["hub"], relation: Relation.Transfer);
        }

        var plan = PlanOf(builder.Removal("forget-5", labels: [5]).Build(), "forget-5");

        Assert.Equal(["head5"], plan.Roots);
        Assert.Equal(["head5"], plan.Affected.Select(m => m.Id));
        Assert.Equal(["head3", "head4", "head6", "hub"], plan.Unaffected);
    }

    [Fact]
    public void Federated_DAG_with_several_roots_lists_every_upstream_root()
    {
        var workspace = new WorkspaceBuilder()
            .Dataset("mnist")
            .Model("global", data: ["mnist:0-1"])
            .Model("client2", data: ["mnist:3,4"], parents: ["global"])
            .Model("client1", data: ["mnist:2,3"], parents: ["global"])
            .Model("client3", data: ["mnist:5"], parents: ["global"])
            .Model("round1", parents: ["client1", "client2", "client3"], relation: Relation.Aggregate)
            .Model("tuned", data: ["mnist:6"], parents: ["round1"])
            .Removal("forget-3", labels: [3])
            .Build();

        var plan = PlanOf(workspace, "forget-3");

        Assert.Equal(["client1", "client2"], plan.Roots);
        Assert.Equal(["client1", "client2", "round1", "tuned"], plan.Affected.Select(m => m.Id));
        Assert.Equal(["client3", "global"], plan.Unaffected);
        var round1 = plan.Find("round1")!;
        Assert.Equal(["client1", "client2"], round1.UpstreamRoots);
        Assert.Equal(["client1", "round1"], round1.Path);
        Assert.Equal("inherits from roots 'client1' and 'client2'; nearest via client1 -> round1 (aggregate)", round1.Reason);
        Assert.Equal(["client1", "client2"], plan.Find("tuned")!.UpstreamRoots);
        Assert.Equal(["client1", "round1", "tuned"], plan.Find("tuned")!.Path);
        Assert.Equal("client1,client2 | round1 | tuned", WavesOf(plan));
    }

    [Fact]
    public void A_descendant_that_trains_on_the_label_is_a_root_too()
    {
        var workspace = Chain(labelsOfA: "mnist:0-3", labelsOfC: "mnist:3").Removal("forget-3", labels: [3]).Build();

        var plan = PlanOf(workspace, "forget-3");

        Assert.Equal(["a", "c"], plan.Roots);
        var c = plan.Find("c")!;
        Assert.Equal(ModelRole.Root, c.Role);
        Assert.Equal(["a", "c"], c.UpstreamRoots);
        Assert.Equal(["c"], c.Path);
        Assert.Equal(2, c.Wave);
        Assert.Equal("trains on label 3 of mnist; it also inherits from root 'a'", c.Reason);
        Assert.Equal(["c", "d"], plan.Find("d")!.Path);
        Assert.Equal(["a", "c"], plan.Find("d")!.UpstreamRoots);
    }

    [Fact]
    public void A_request_touching_nothing_gives_an_empty_plan_and_an_info()
    {
        var workspace = Chain(labelsOfA: "mnist:0-2").Removal("forget-5", labels: [5]).Build();

        var result = Planner.Plan(workspace, "forget-5");

        Assert.True(result.Succeeded);
        var plan = result.Value!;
        Assert.True(plan.IsEmpty);
        Assert.Empty(plan.Roots);
        Assert.Empty(plan.Waves);
        Assert.Equal(["a", "b", "c", "d"], plan.Unaffected);
        var info = Assert.Single(result.Diagnostics);
        Assert.Equal("FUL2012", info.Code);
        Assert.Contains("'forget-5'", info.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_label_of_a_small_dataset_does_not_hold_a_larger_label()
    {
        var workspace = new WorkspaceBuilder()
            .Dataset("mnist")
            .Dataset("coins", classes: 4)
            .Model("coin-model", data: ["coins"], architecture: WorkspaceBuilder.Mlp(10))
            .Model("digit-model", data: ["mnist"])
            .Removal("forget-7", labels: [7])
            .Build();

        var plan = PlanOf(workspace, "forget-7");

        Assert.Equal(["digit-model"], plan.Roots);
        Assert.Equal(["coin-model"], plan.Unaffected);
    }

    [Fact]
    public void Sample_request_roots_are_the_models_training_on_that_split()
    {
        var workspace = new WorkspaceBuilder()
            .Dataset("mnist")
            .Dataset("feedback", classes: 10, format: "csv", trainCount: 500)
            .Model("base", data: ["mnist"])
            .Model("tuned", data: ["feedback:1,2"], parents: ["base"])
            .Model("other", data: ["mnist:1"], parents: ["base"])
            .Model("mixed", data: ["mnist:2", "feedback"])
            .Model("downstream", data: ["mnist:4"], parents: ["tuned"])
            .Removal("erase", samples: [WorkspaceBuilder.Samples("feedback", 10, 11), WorkspaceBuilder.Samples("mnist", 5, 6, 7, 8) with { Split = "test" }])
            .Build();

        var plan = PlanOf(workspace, "erase");

        Assert.Equal(["mixed", "tuned"], plan.Roots);
        Assert.Equal(["mixed", "tuned", "downstream"], plan.Affected.Select(m => m.Id));
        Assert.Equal(["base", "other"], plan.Unaffected);
        var tuned = plan.Find("tuned")!;
        var hit = Assert.Single(tuned.SampleHits);
        Assert.Same(workspace.Removals["erase"].Samples[0], hit);
        Assert.Equal("trains on the train split of feedback, which 2 selected samples come from", tuned.Reason);
        Assert.Empty(plan.Find("downstream")!.SampleHits);
    }

    [Fact]
    public void Unknown_removal_fails_with_the_known_ids()
    {
        var workspace = Chain().Removal("forget-3", labels: [3]).Removal("forget-4", labels: [4]).Build();

        var result = Planner.Plan(workspace, "forget-33");

        Assert.False(result.Succeeded);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("FUL2006", d.Code);
        Assert.Contains("'forget-33'", d.Message, StringComparison.Ordinal);
        Assert.Contains("'forget-3', 'forget-4'", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Planning_a_cyclic_lineage_by_id_fails_with_the_cycle()
    {
        var workspace = new WorkspaceBuilder()
            .Dataset("mnist")
            .Model("a", data: ["mnist"], parents: ["b"])
            .Model("b", data: ["mnist"], parents: ["a"])
            .Removal("forget-3", labels: [3])
            .Build();

        var result = Planner.Plan(workspace, "forget-3");

        Assert.False(result.Succeeded);
        Assert.Equal("FUL2003", Assert.Single(result.Diagnostics).Code);
        Assert.Equal(2, PlanOf(workspace, "forget-3").Affected.Count);
    }

    [Fact]
    public void Explain_says_why_a_model_is_or_is_not_affected()
    {
        var workspace = Chain(labelsOfA: "mnist:0-2", labelsOfC: "mnist:3,8")
            .Model("side", data: ["mnist:0-2", "mnist:4"], parents: ["a"])
            .Removal("forget-3", labels: [3])
            .Build();
        var plan = PlanOf(workspace, "forget-3");

        var root = Planner.Explain(plan, "c");
        var descendant = Planner.Explain(plan, "d");
        var unaffected = Planner.Explain(plan, "side");

        Assert.StartsWith("Model 'c' is a root of removal 'forget-3': it trains on label 3 of mnist.", root, StringComparison.Ordinal);
        Assert.Contains("Path: c\n", root, StringComparison.Ordinal);
        Assert.StartsWith("Model 'd' is affected by removal 'forget-3' as a descendant: it inherits from root 'c' via c -> d (finetune).", descendant, StringComparison.Ordinal);
        Assert.Contains("Upstream roots: c\n", descendant, StringComparison.Ordinal);
        Assert.Equal(
            "Model 'side' is not affected by removal 'forget-3', which forgets label 3.\n" +
            "Own data: labels 0-2 of mnist and label 4 of mnist; none of it holds what the request forgets.\n" +
            "Ancestors: 'a'; none is affected.",
            unaffected);
        Assert.Throws<ArgumentException>(() => Planner.Explain(plan, "sid"));
    }

    [Fact]
    public void The_same_request_gives_the_same_plan_whatever_the_input_order()
    {
        static WorkspaceBuilder Build(IEnumerable<int> order)
        {
            var builder = new WorkspaceBuilder().Dataset("mnist").Dataset("feedback", format: "csv");
            var models = new (string Id, DataSpec[] Data, ParentSpec[] Parents)[]
            {
                ("g", ["mnist:0-2"], []),
                ("c1", ["mnist:3"], ["g"]),
                ("c2", ["mnist:3,4", "feedback"], ["g"]),
                ("c3", ["mnist:5"], ["g"]),
                ("agg", [], ["c1:aggregate", "c2:aggregate", "c3:aggregate"]),
                ("x", ["mnist:6"], ["agg"]),
                ("y", ["mnist:3"], ["x"]),
                ("z", ["mnist"], []),
            };
            foreach (var k in order)
            {
                builder.Model(models[k].Id, data: models[k].Data, parents: models[k].Parents);
            }

            return builder.Removal("r", labels: [3], samples: [WorkspaceBuilder.Samples("feedback", 1)]);
        }

        var reference = Snapshot(PlanOf(Build(Enumerable.Range(0, 8)).Build(), "r"));
        var again = Snapshot(PlanOf(Build(Enumerable.Range(0, 8)).Build(), "r"));
        var shuffled = Snapshot(PlanOf(Build([7, 3, 5, 0, 6, 2, 4, 1]).Build(), "r"));

        Assert.Equal(reference, again);
        Assert.Equal(reference, shuffled);
        Assert.Contains("c2 Root wave=0 up=[c2] path=[c2] labels=[mnist:3;feedback:3] samples=1 reason=trains on label 3 of mnist, label 3 of feedback and the train split of feedback, which 1 selected sample comes from", reference, StringComparison.Ordinal);
    }
}
