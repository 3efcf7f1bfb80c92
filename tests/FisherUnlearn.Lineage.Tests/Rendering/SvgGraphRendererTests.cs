using System.Globalization;
using System.Xml.Linq;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Rendering;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Lineage.Tests.Rendering;

public sealed class SvgGraphRendererTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    // base -> plus (finetune) -> fed (aggregate, with other); base -> head (transfer); other has no parent.
    private static Workspace Network() => new WorkspaceBuilder()
        .Dataset("mnist")
        .Model("base", data: ["mnist:0,1,2,3"])
        .Model("plus", data: ["mnist:4"], parents: ["base"])
        .Model("head", data: ["mnist:7"], parents: ["base"], relation: Relation.Transfer)
        .Model("other", data: ["mnist:5"])
        .Model("fed", data: ["mnist:6"], parents: ["plus", "other"], relation: Relation.Aggregate)
        .Build();

    private static GraphHighlight Highlight() => new(new HashSet<string> { "base" }, new HashSet<string> { "base", "plus", "head", "fed" });

    private static XDocument Render(LineageDiagram diagram, SvgGraphOptions? options = null) => XDocument.Parse(SvgGraphRenderer.Render(diagram, options));

    private static Dictionary<string, XElement> Nodes(XDocument svg, string kind) => svg.Descendants(Svg + "g")
        .Where(g => ((string?)g.Attribute("class"))?.Split(' ') is { } c && c.Contains("node") && c.Contains(kind))
        .ToDictionary(g => (string)g.Attribute("data-id")!);

    private static double Y(XElement node) => double.Parse((string)node.Element(Svg + "rect")!.Attribute("y")!, CultureInfo.InvariantCulture);

    [Fact]
    public void Draws_every_model_and_dataset_once_as_well_formed_svg_with_marked_roots_and_affected_models()
    {
        var svg = Render(LineageDiagram.From(Network(), Highlight()));

        Assert.Equal(Svg + "svg", svg.Root!.Name);
        var models = Nodes(svg, "model");
        Assert.Equal(["base", "fed", "head", "other", "plus"], models.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["mnist"], Nodes(svg, "dataset").Keys);
        Assert.Contains("root", ((string)models["base"].Attribute("class")!).Split(' '));
        Assert.Contains("affected", ((string)models["fed"].Attribute("class")!).Split(' '));
        Assert.Contains("unaffected", ((string)models["other"].Attribute("class")!).Split(' '));
        Assert.Equal("#c92a2a", (string?)models["base"].Element(Svg + "rect")!.Attribute("stroke"));
        Assert.Equal("#e8590c", (string?)models["plus"].Element(Svg + "rect")!.Attribute("stroke"));
        Assert.Equal("#adb5bd", (string?)models["other"].Element(Svg + "rect")!.Attribute("stroke"));
        Assert.NotNull(svg.Descendants(Svg + "g").SingleOrDefault(g => (string?)g.Attribute("class") == "legend"));
        // A white ground of its own, first under everything drawn: legible on a dark page too.
        var ground = svg.Root.Elements().First(e => e.Name != Svg + "title" && e.Name != Svg + "defs");
        Assert.Equal(("rect", "100%", "#ffffff"), (ground.Name.LocalName, (string?)ground.Attribute("width"), (string?)ground.Attribute("fill")));
    }

    [Fact]
    public void Places_each_model_below_all_its_parents_and_labels_edges_with_their_relation()
    {
        var svg = Render(LineageDiagram.From(Network(), Highlight()));
        var models = Nodes(svg, "model");
        var dataset = Nodes(svg, "dataset")["mnist"];

        Assert.True(Y(dataset) < Y(models["base"]));
        Assert.Equal(Y(models["base"]), Y(models["other"]));
        Assert.True(Y(models["base"]) < Y(models["plus"]));
        Assert.Equal(Y(models["plus"]), Y(models["head"]));
        Assert.True(Y(models["plus"]) < Y(models["fed"]));

        var edges = svg.Descendants(Svg + "path").Where(p => ((string?)p.Attribute("class"))?.StartsWith("edge", StringComparison.Ordinal) == true).ToList();
        Assert.Equal(5 + 4, edges.Count); // 5 data edges, 4 parent edges
        var labels = svg.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "edge-label").Select(g => g.Value).ToList();
        Assert.Contains("finetune", labels);
        Assert.Contains("transfer", labels);
        Assert.Equal(2, labels.Count(l => l == "aggregate"));
        Assert.Contains("labels 0-3", labels);
    }

    [Fact]
    public void Datasets_are_optional_and_ids_are_escaped()
    {
        var diagram = new LineageDiagram(
            [new DiagramNode("d<1>", DiagramNodeKind.Dataset, "csv, 2 classes")],
            [new DiagramNode("a&b", DiagramNodeKind.Model, "mlp 4-2"), new DiagramNode("c\"d", DiagramNodeKind.Model, "mlp 4-2")],
            [new DiagramEdge("d<1>", "a&b", "all labels", DiagramNodeKind.Dataset), new DiagramEdge("a&b", "c\"d", "merge")]);

        var with = Render(diagram);
        var without = Render(diagram, new SvgGraphOptions { IncludeDatasets = false, Legend = false });

        Assert.Equal(["a&b", "c\"d"], Nodes(with, "model").Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["d<1>"], Nodes(with, "dataset").Keys);
        Assert.Empty(Nodes(without, "dataset"));
        Assert.Single(without.Descendants(Svg + "path"), p => ((string?)p.Attribute("class"))?.StartsWith("edge", StringComparison.Ordinal) == true);
        Assert.DoesNotContain(without.Descendants(Svg + "g"), g => (string?)g.Attribute("class") == "legend");
    }

    [Fact]
    public void Output_is_deterministic_and_has_no_external_references()
    {
        var first = SvgGraphRenderer.Render(LineageDiagram.From(Network(), Highlight()));
        var second = SvgGraphRenderer.Render(LineageDiagram.From(Network(), Highlight()));

        Assert.Equal(first, second);
        Assert.DoesNotContain("<script", first, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("href", first, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<image", first, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_cycle_in_an_invalid_lineage_still_renders()
    {
        var diagram = new LineageDiagram([],
            [new DiagramNode("a", DiagramNodeKind.Model, "x"), new DiagramNode("b", DiagramNodeKind.Model, "x")],
            [new DiagramEdge("a", "b", "finetune"), new DiagramEdge("b", "a", "finetune")]);

        var svg = Render(diagram);

        Assert.Equal(2, Nodes(svg, "model").Count);
    }

    [Fact]
    public void Mermaid_of_the_diagram_equals_mermaid_of_the_workspace()
    {
        var workspace = Network();

        Assert.Equal(GraphRenderer.Mermaid(workspace, Highlight()), GraphRenderer.Mermaid(LineageDiagram.From(workspace, Highlight())));
        Assert.Equal(GraphRenderer.Mermaid(workspace), GraphRenderer.Mermaid(LineageDiagram.From(workspace)));
    }
}
