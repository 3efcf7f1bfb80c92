using System.Xml.Linq;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Rendering;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Lineage.Tests.Rendering;

/// <summary>Text a drawing quotes from a manifest (a custom architecture's type, which validate also refuses when it is no
/// class name) never breaks the format it is drawn in: a Markdown fence around a Mermaid diagram, DOT, SVG.</summary>
public sealed class HostileTextRules
{
    private const string Hostile = "T\n```\n\n# Injected heading\t\u0007\u202e\"<b>";

    private static LineageDiagram Diagram() => LineageDiagram.From(new WorkspaceBuilder()
        .Dataset("mnist")
        .Model("odd", data: ["mnist:0,1"], architecture: new ArchitectureSpec { Kind = ArchitectureSpec.Custom, Classes = 10, Assembly = "bin/x.dll", Type = Hostile })
        .Build(), null);

    [Fact]
    public void A_mermaid_label_stays_on_its_line_inside_its_fence()
    {
        var mermaid = GraphRenderer.Mermaid(Diagram());
        var label = mermaid.Split('\n').Single(l => l.Contains("odd<br/>", StringComparison.Ordinal));

        Assert.DoesNotContain("`", mermaid, StringComparison.Ordinal);
        Assert.DoesNotContain("\n# Injected", mermaid, StringComparison.Ordinal);
        Assert.Contains("# Injected heading", label, StringComparison.Ordinal);
        Assert.Contains("\\u0007\\u202e", label, StringComparison.Ordinal);
        Assert.DoesNotContain('\u0007', mermaid);
        Assert.DoesNotContain("<b>", mermaid, StringComparison.Ordinal);
    }

    [Fact]
    public void An_architectures_arrow_is_drawn_as_it_is_in_a_mermaid_label_not_as_an_entity()
    {
        var mermaid = GraphRenderer.Mermaid(LineageDiagram.From(new WorkspaceBuilder().Dataset("mnist")
            .Model("net", data: ["mnist"], architecture: WorkspaceBuilder.Cnn()).Build(), null));

        Assert.Contains("<small>cnn 1x28x28->10</small>", mermaid, StringComparison.Ordinal);
        Assert.DoesNotContain("#gt;", mermaid, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dot_label_has_no_raw_control_character_and_keeps_its_one_line_break()
    {
        var dot = GraphRenderer.Dot(new WorkspaceBuilder()
            .Dataset("mnist")
            .Model("odd", data: ["mnist:0,1"], architecture: new ArchitectureSpec { Kind = ArchitectureSpec.Custom, Classes = 10, Assembly = "bin/x.dll", Type = Hostile })
            .Build());
        var node = dot.Split('\n').Single(l => l.TrimStart().StartsWith("\"odd\" [label=", StringComparison.Ordinal));

        Assert.DoesNotContain(dot, c => char.IsControl(c) && c is not ('\n' or '\r'));
        Assert.Contains("\\\\u0007\\\\u202e", node, StringComparison.Ordinal);
        Assert.Contains("\\\"<b>", node, StringComparison.Ordinal);
    }

    [Fact]
    public void An_svg_with_such_text_is_well_formed_xml_showing_it_escaped()
    {
        var svg = XDocument.Parse(SvgGraphRenderer.Render(Diagram()));

        Assert.Contains(svg.DescendantNodes().OfType<XText>(), t => t.Value.Contains("\\u0007\\u202e", StringComparison.Ordinal));
    }
}
