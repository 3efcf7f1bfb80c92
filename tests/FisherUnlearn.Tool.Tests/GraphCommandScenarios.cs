using System.Xml.Linq;
using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

public sealed class GraphCommandScenarios
{
    [Fact]
    public async Task Mermaid_draws_every_model_and_edge_and_marks_a_removals_roots()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "graph", "--workspace", "samples/digits", "--removal", "forget-3");

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("flowchart TD\n", run.Out, StringComparison.Ordinal);
        foreach (var id in new[] { "digits-base", "digits-plus-5", "digits-plus-6", "digits-head-7", "clinic-north", "digits-federated", "digits-student" })
        {
            Assert.Contains($"[\"{id}<br/>", run.Out, StringComparison.Ordinal);
        }

        Assert.Contains("-->|aggregate|", run.Out, StringComparison.Ordinal);
        Assert.Contains("-->|distill|", run.Out, StringComparison.Ordinal);
        Assert.Matches(@"class m\d+ root\n", run.Out);
        Assert.Matches(@"class (m\d+,){4}m\d+ affected\n", run.Out);
        Assert.Matches(@"class m\d+ unaffected", run.Out);
    }

    [Fact]
    public async Task A_removal_that_affects_nothing_marks_every_model_unaffected()
    {
        using var ws = SampleWorkspaces.Chain(); // its forget-3 touches no model

        var mermaid = await CliRun.InvokeAsync(ws.Root, "graph", "--removal", "forget-3");
        var json = await CliRun.InvokeAsync(ws.Root, "graph", "--removal", "forget-3", "--json");

        Assert.Equal(0, mermaid.ExitCode);
        Assert.Matches(@"class (m\d+,)*m\d+ unaffected", mermaid.Out);
        Assert.DoesNotMatch(@" (root|affected)\n", mermaid.Out.Replace(" unaffected\n", string.Empty, StringComparison.Ordinal));
        var models = json.Json["lineage"]!["models"]!.ToList();
        Assert.NotEmpty(models);
        Assert.All(models, m => Assert.Equal("unaffected", (string?)m["class"]));
    }

    [Fact]
    public async Task Dot_output_is_a_digraph_with_labelled_edges()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "graph", "--workspace", "samples/digits", "--format", "dot");

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("digraph lineage {", run.Out, StringComparison.Ordinal);
        Assert.Contains("\"digits-base\" -> \"digits-plus-5\" [label=\"finetune\"];", run.Out, StringComparison.Ordinal);
        Assert.EndsWith("}\n", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Output_dash_is_stdout_not_a_file_named_dash()
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, "graph", "--format", "dot", "--output", "-");

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("digraph lineage {", run.Out, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(ws.Root, "-")));
    }

    [Fact]
    public async Task Svg_output_is_one_standalone_picture_with_the_datasets_and_the_removals_marks()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "graph", "--workspace", "samples/digits", "--removal", "forget-3", "--format", "svg");

        Assert.Equal(0, run.ExitCode);
        var svg = XDocument.Parse(run.Out);
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(ns + "svg", svg.Root!.Name);
        var nodes = svg.Descendants(ns + "g").Where(g => ((string?)g.Attribute("class"))?.StartsWith("node ", StringComparison.Ordinal) == true)
            .ToDictionary(g => (string)g.Attribute("data-id")!, g => (string)g.Attribute("class")!);
        Assert.Equal(8, nodes.Count); // 7 models and the mnist dataset
        Assert.Equal("node dataset", nodes["mnist"]);
        Assert.Equal("node model root", nodes["digits-base"]);
        Assert.Equal("node model unaffected", nodes["clinic-north"]);
        Assert.Equal(5, nodes.Values.Count(c => c == "node model affected"));
    }

    [Fact]
    public async Task Html_output_is_a_self_contained_page_with_the_graph_and_each_models_role_and_why()
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, "graph", "--removal", "forget-1", "--format", "html", "--output", "lineage.html");

        Assert.Equal(0, run.ExitCode);
        Assert.Empty(run.Out);
        var html = await File.ReadAllTextAsync(Path.Combine(ws.Root, "lineage.html"), TestContext.Current.CancellationToken);
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Single(html.Split("<svg ").Skip(1));
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.Contains("<tr class=\"root\" data-id=\"a\"><td class=\"id\"><code>a</code>", html, StringComparison.Ordinal);
        Assert.Contains("<tr class=\"descendant\" data-id=\"b\"><td class=\"id\"><code>b</code>", html, StringComparison.Ordinal);
        Assert.Contains("a (finetune)", html, StringComparison.Ordinal);
        Assert.Contains("<div class=\"k\">Forget</div><div class=\"v\">label 1</div>", html, StringComparison.Ordinal); // not "forget label 1" (QA)
        Assert.Matches("<svg [^>]* style=\"min-width: \\d+px\">", html); // a wide lineage scrolls rather than shrinking out of sight
        Assert.Contains("@media print", html, StringComparison.Ordinal);

        Assert.Contains("<th>why</th>", html, StringComparison.Ordinal);
        Assert.Contains("<ol class=\"waves\" id=\"waves\">", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Html_output_without_a_removal_lists_the_models_without_roles()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "graph", "--workspace", "samples/digits", "--format", "html");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("<h1>Lineage of <code>digits</code></h1>", run.Out, StringComparison.Ordinal);
        Assert.Contains("<tr data-id=\"digits-student\">", run.Out, StringComparison.Ordinal);
        Assert.Contains("<span class=\"joints\">digits-<wbr>federated (distill)</span>", run.Out, StringComparison.Ordinal); // longer than 24: breaks at its joints
        Assert.DoesNotContain("<th>why</th>", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"waves\"", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_format_is_a_usage_error()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "graph", "--workspace", "samples/digits", "--format", "png");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("FUL3005", run.Error, StringComparison.Ordinal);
        // The choices on the error's one line, not as escaped line breaks.
        Assert.Contains("Must be one of: 'mermaid', 'dot', 'svg', 'html'", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("\\n", run.Error, StringComparison.Ordinal);

        var notANumber = await CliRun.InvokeAsync(RepoPaths.Root, "plan", "forget-3", "--workspace", "samples/digits", "--matrix", "--max-jobs", "x");
        Assert.Equal(2, notANumber.ExitCode);
        Assert.Contains("error FUL3005: 'x' is not a whole number: --max-jobs takes a whole number.", notANumber.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", notANumber.Error, StringComparison.Ordinal);
        var tooLarge = await CliRun.InvokeAsync(RepoPaths.Root, "plan", "forget-3", "--workspace", "samples/digits", "--matrix", "--max-jobs", "99999999999");
        Assert.Equal(2, tooLarge.ExitCode);
        Assert.Contains("error FUL3005: '99999999999' is too large a number for --max-jobs.", tooLarge.Error, StringComparison.Ordinal); // QA: "is not a whole number"
    }

    [Fact]
    public async Task Output_to_a_file_writes_the_whole_picture()
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, "graph", "--output", "out/lineage.mmd");

        Assert.Equal(0, run.ExitCode);
        var text = await File.ReadAllTextAsync(Path.Combine(ws.Root, "out", "lineage.mmd"), TestContext.Current.CancellationToken);
        Assert.Contains("-->|finetune|", text, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(ws.Root, "out"), ".*tmp*"));
    }

    [Theory]
    [InlineData("lineage.svg", null, "<svg")]
    [InlineData("lineage.SVG", null, "<svg")]
    [InlineData("lineage.gv", null, "digraph")]
    [InlineData("lineage.html", null, "<!DOCTYPE html>")]
    [InlineData("lineage.txt", null, "flowchart")]
    [InlineData("lineage.svg", "mermaid", "flowchart")] // --format says
    [InlineData("lineage.md", null, "```mermaid\nflowchart")] // fenced, so GitHub draws it (QA: bare Mermaid in a .md)
    [InlineData("lineage.png", "mermaid", "flowchart")] // asked for by name
    public async Task Without_a_format_the_output_files_extension_chooses_it(string file, string? format, string starts)
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, ["graph", "-o", file, .. format is null ? Array.Empty<string>() : ["--format", format]]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains(starts, ws.ReadText(file)[..Math.Min(400, ws.ReadText(file).Length)], StringComparison.Ordinal);
    }

    // Found in QA: '-o lineage.png' wrote Mermaid text into a .png, and '--json --format dot' ignored the format.
    [Theory]
    [InlineData("graph", "-o", "lineage.png")]
    [InlineData("graph", "-o", "lineage.json")]
    [InlineData("graph", "--json", "--format", "dot")]
    public async Task A_format_graph_cannot_honour_is_a_usage_error_not_a_wrong_file(params string[] args)
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, args);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error FUL3005: ", run.Error, StringComparison.Ordinal);
        Assert.False(ws.Exists("lineage.png") || ws.Exists("lineage.json"));
    }

    [Fact]
    public async Task An_output_path_under_a_file_names_that_file()
    {
        using var ws = SampleWorkspaces.Chain();
        ws.Write("notes", "a file");

        var run = await CliRun.InvokeAsync(ws.Root, "graph", "-o", "notes/lineage.svg");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error FUL3005: 'notes' is a file, so 'notes/lineage.svg' cannot be written under it", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_output_path_that_is_a_folder_or_empty_is_exit_2_with_a_code_and_no_stack_trace()
    {
        using var ws = SampleWorkspaces.Chain();
        Directory.CreateDirectory(Path.Combine(ws.Root, "taken"));

        var folder = await CliRun.InvokeAsync(ws.Root, "graph", "--output", "taken");
        var empty = await CliRun.InvokeAsync(ws.Root, "graph", "--output", "");

        Assert.Equal(2, folder.ExitCode);
        Assert.Contains("error FUL3005: 'taken' is a folder: --output takes a file name, such as taken/lineage.html.", folder.Error.Replace('\\', '/'), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", folder.Error, StringComparison.Ordinal);
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("error FUL3005: --output is given an empty value (an unset variable?)", empty.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(ws.Root, "*.tmp*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_lineage_past_mermaids_500_edges_is_drawn_without_datasets_with_a_warning_where_mermaid_is_written()
    {
        using var ws = new TempWorkspace();
        ws.Write("d.dataset.json", """{ "schemaVersion": 1, "id": "d", "format": "csv", "classes": 2, "train": { "path": "t.csv", "labelColumn": "y" } }""");
        for (var i = 0; i < 260; i++) // 259 relations and 260 data edges
        {
            var parent = i == 0 ? string.Empty : $$""", "parents": [ { "id": "m{{i - 1}}", "relation": "finetune" } ]""";
            ws.Write($"m{i}/m{i}.lineage.json", $$"""
                { "schemaVersion": 1, "id": "m{{i}}", "checkpoint": "m.safetensors", "architecture": { "kind": "mlp", "inputs": 2, "hidden": [2], "classes": 2 }{{parent}},
                  "data": [ { "dataset": "d" } ] }
                """);
        }

        var mermaid = await CliRun.InvokeAsync(ws.Root, "graph");
        var data = await CliRun.InvokeAsync(ws.Root, "graph", "--json");

        Assert.True(mermaid.ExitCode == 0, mermaid.Error);
        Assert.Contains("warning: with its datasets the graph has more than the 500 edges Mermaid draws, so they are left out", mermaid.Error, StringComparison.Ordinal);
        Assert.Equal(259, mermaid.Out.Split('\n').Count(l => l.Contains("-->", StringComparison.Ordinal)));
        Assert.Equal(0, data.ExitCode);
        Assert.DoesNotContain("Mermaid", data.Error, StringComparison.Ordinal); // the data keeps the datasets
    }
}
