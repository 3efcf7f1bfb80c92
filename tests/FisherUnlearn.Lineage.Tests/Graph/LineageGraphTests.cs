using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Lineage.Tests.Graph;

public sealed class LineageGraphTests
{
    [Fact]
    public void Ids_are_in_ordinal_order_with_parents_and_children()
    {
        var workspace = new WorkspaceBuilder()
            .Dataset("mnist")
            .Model("b-base", data: ["mnist"])
            .Model("a-head", data: ["mnist:1"], parents: ["b-base"], relation: Relation.Transfer)
            .Model("C-fed", parents: ["b-base", "a-head"], relation: Relation.Aggregate)
            .Build();

        var graph = LineageGraph.Build(workspace);

        Assert.Equal(["C-fed", "a-head", "b-base"], graph.Ids);
        Assert.Equal(["a-head", "b-base"], graph.Parents("C-fed"));
        Assert.Equal(["C-fed", "a-head"], graph.Children("b-base"));
        Assert.Equal(Relation.Transfer, graph.RelationBetween(graph.IndexOf("b-base"), graph.IndexOf("a-head")));
        Assert.Null(graph.RelationBetween(graph.IndexOf("a-head"), graph.IndexOf("b-base")));
        Assert.Equal(-1, graph.IndexOf("missing"));
    }

    [Fact]
    public void Topological_order_puts_parents_first_and_breaks_ties_by_ordinal_id()
    {
        var workspace = new WorkspaceBuilder()
            .Dataset("mnist")
            .Model("z", data: ["mnist"])
            .Model("y", data: ["mnist"], parents: ["z"])
            .Model("a", data: ["mnist"])
            .Model("m", parents: ["a", "y"])
            .Model("b", data: ["mnist"], parents: ["a"])
            .Build();

        var graph = LineageGraph.Build(workspace);

        Assert.Equal(["a", "b", "z", "y", "m"], graph.TopologicalOrder);
        Assert.False(graph.HasCycles);
        Assert.Empty(graph.Cycles);
    }

    [Fact]
    public void Ancestors_and_descendants_are_transitive_and_ordinal()
    {
        var workspace = new WorkspaceBuilder()
            .Dataset("mnist")
            .Model("root", data: ["mnist"])
            .Model("left", data: ["mnist"], parents: ["root"])
            .Model("right", data: ["mnist"], parents: ["root"])
            .Model("join", parents: ["left", "right"], relation: Relation.Merge)
            .Model("leaf", data: ["mnist"], parents: ["join"])
            .Model("alone", data: ["mnist"])
            .Build();

        var graph = LineageGraph.Build(workspace);

        Assert.Equal(["join", "left", "right", "root"], graph.Ancestors("leaf"));
        Assert.Equal(["join", "leaf", "left", "right"], graph.Descendants("root"));
        Assert.Empty(graph.Ancestors("alone"));
        Assert.Empty(graph.Descendants("alone"));
        // Of several models at once: the union of their ancestors, leaving out the given ones (left is one of leaf's
        // ancestors, but it is given).
        Assert.Equal(["join", "right", "root"], graph.Ancestors(["leaf", "left", "leaf"]));
        Assert.Empty(graph.Ancestors(["alone", "root"]));
    }

    [Fact]
    public void Unknown_self_and_duplicate_parent_links_are_tolerated()
    {
        var workspace = new WorkspaceBuilder()
            .Dataset("mnist")
            .Model("a", data: ["mnist"])
            .Model("b", data: ["mnist"], parents: ["a", "a", "b", "ghost"])
            .Build();

        var graph = LineageGraph.Build(workspace);

        Assert.Equal(["a"], graph.Parents("b"));
        Assert.Equal(["b"], graph.Children("a"));
        Assert.Equal(["a", "b"], graph.TopologicalOrder);
    }

    [Fact]
    public void A_graph_with_cycles_is_built_and_marked()
    {
        var workspace = new WorkspaceBuilder()
            .Dataset("mnist")
            .Model("base", data: ["mnist"])
            .Model("c", data: ["mnist"], parents: ["b"])
            .Model("b", data: ["mnist"], parents: ["a"])
            .Model("a", parents: ["base", "c"], relation: Relation.Aggregate)
            .Model("after", data: ["mnist"], parents: ["c"])
            .Build();

        var graph = LineageGraph.Build(workspace);

        Assert.True(graph.HasCycles);
        Assert.Equal(["base", "a", "after", "b", "c"], graph.TopologicalOrder);
        Assert.Equal(["a", "after", "b", "c"], graph.UnorderedModels);
        var cycle = Assert.Single(graph.Cycles);
        Assert.Equal(["a", "b", "c"], cycle);
    }

    [Fact]
    public void A_chain_of_ten_thousand_models_does_not_overflow_the_stack()
    {
        var builder = new WorkspaceBuilder().Dataset("mnist").Model("m00000", data: ["mnist"]);
        for (var i = 1; i < 10_000; i++)
        {
            builder.Model($"m{i:D5}", data: ["mnist:1"], parents: [$"m{i - 1:D5}"]);
        }

        var graph = LineageGraph.Build(builder.Build());

        Assert.Equal(graph.Ids, graph.TopologicalOrder);
        Assert.Equal(9_999, graph.Descendants("m00000").Count);
        Assert.Equal(9_999, graph.Ancestors("m09999").Count);
    }

    [Fact]
    public void A_cycle_of_ten_thousand_models_is_found_without_recursion()
    {
        var builder = new WorkspaceBuilder().Dataset("mnist");
        for (var i = 0; i < 10_000; i++)
        {
            builder.Model($"m{i:D5}", data: ["mnist"], parents: [$"m{(i + 9_999) % 10_000:D5}"]);
        }

        var graph = LineageGraph.Build(builder.Build());

        Assert.True(graph.HasCycles);
        var cycle = Assert.Single(graph.Cycles);
        Assert.Equal(10_000, cycle.Count);
        Assert.Equal("m00000", cycle[0]);
        Assert.Equal("m09999", cycle[^1]);
    }
}
