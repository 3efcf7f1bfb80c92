using static FisherUnlearn.Lineage.Tests.Manifests.ManifestTestKit;

namespace FisherUnlearn.Lineage.Tests.Manifests;

/// <summary>Reading <c>unlearn.json</c>: all fields optional, same strictness as manifests.</summary>
public sealed class WorkspaceSettingsValidation
{
    [Fact]
    public void Every_setting_is_read()
    {
        var json = """
            {
              "include": ["models/**/*.json", "requests/*.removal.json"],
              "exclude": ["models/legacy/**"],
              "output": "out/unlearn",
              "method": "fiun",
              "parameters": { "alpha": 0.5 },
              "parallelism": 4,
              "threads": 2,
              "planLabels": 1,
              "maxPlans": 500
            }
            """;

        var file = ReadSettings(json);

        NoDiagnostics(file);
        var settings = file.Settings!;
        Assert.Equal(["models/**/*.json", "requests/*.removal.json"], settings.Include);
        Assert.Equal(["models/legacy/**"], settings.Exclude);
        Assert.Equal(("out/unlearn", "fiun", 4, 2), (settings.Output, settings.Method, settings.Parallelism, settings.Threads));
        Assert.Equal("0.5", settings.Parameters["alpha"]);
        Assert.Equal((1, 500), (settings.PlanLabels, settings.MaxPlans));
        Assert.Equal(PathOf("unlearn.json"), settings.SettingsPath);
    }

    [Fact]
    public void Parameters_named_x_are_ignored_whatever_their_value()
    {
        var file = ReadSettings("""{ "parameters": { "alpha": 0.5, "x-foo": { "a": 1 }, "x-list": [] } }""");

        NoDiagnostics(file);
        Assert.Equal(["alpha"], file.Settings!.Parameters.Keys);
    }

    [Fact]
    public void Empty_settings_keep_the_defaults_and_need_no_schema_version()
    {
        var file = ReadSettings("{ }");

        NoDiagnostics(file);
        Assert.Equal("artifacts/unlearn", file.Settings!.Output);
        Assert.Equal(Lineage.Manifests.WorkspaceSettings.DefaultInclude, file.Settings.Include);
    }

    [Fact]
    public void Schema_version_other_than_1_is_FUL1008()
    {
        var json = """{ "schemaVersion": 3 }""";

        Only(ReadSettings(json), "FUL1008", json, "»3", "3");
    }

    [Theory]
    [InlineData("\"include\": [»\"../other/**\"]", "'../other/**'")]
    [InlineData("\"exclude\": [»\"/abs/**\"]", "'/abs/**'")]
    [InlineData("\"output\": »\"../outside\"", "'../outside'")]
    [InlineData("\"output\": »\"/var/out\"", "'/var/out'")]
    public void Glob_or_output_leaving_the_workspace_is_FUL1015(string marked, string mention)
    {
        var json = "{ " + marked.Replace("»", string.Empty, StringComparison.Ordinal) + " }";

        Only(ReadSettings(json), "FUL1015", json, marked, mention);
    }

    [Theory]
    [InlineData("\"output\": »\"out\\u0000put\"", "NUL character")]
    [InlineData("\"output\": »\"  \"", "nothing but white space")]
    public void Output_no_folder_can_have_is_FUL1034(string marked, string mention)
    {
        var json = "{ " + marked.Replace("»", string.Empty, StringComparison.Ordinal) + " }";

        Only(ReadSettings(json), "FUL1034", json, marked, "'output'", mention);
    }

    [Fact]
    public void Output_that_is_an_existing_file_is_FUL1036_not_a_later_write_error()
    {
        using var ws = new FisherUnlearn.Testing.TempWorkspace();
        ws.Write("mnist.dataset.json", "{}");
        var json = """{ "output": "mnist.dataset.json" }""";

        var file = Lineage.Discovery.WorkspaceLoader.LoadFile(ws.PathOf("unlearn.json"), json, ws.Root);

        var diagnostic = Assert.Single(file.Diagnostics);
        Assert.Equal("FUL1036", diagnostic.Code);
        Assert.Equal((1, 13), (diagnostic.Location.Line, diagnostic.Location.Column));
        Assert.Contains("'output' names 'mnist.dataset.json', which is a file", diagnostic.Message, StringComparison.Ordinal);

        // A folder under a file cannot be made either (QA: run gave .NET's "Could not find a part of the path", harvest one
        // FUL4084 per model).
        var under = Lineage.Discovery.WorkspaceLoader.LoadFile(ws.PathOf("unlearn.json"), """{ "output": "mnist.dataset.json/deeper/out" }""", ws.Root);
        Assert.Contains("'output' names 'mnist.dataset.json/deeper/out', but 'mnist.dataset.json' is a file, so no folder can be made there",
            Assert.Single(under.Diagnostics, d => d.Code == "FUL1036").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_include_list_is_FUL1022()
    {
        var json = """{ "include": [] }""";

        Only(ReadSettings(json), "FUL1022", json, "»[]", "'include'");
    }

    [Fact]
    public void Parallelism_out_of_range_is_FUL1014()
    {
        var json = """{ "parallelism": 0, "threads": 2 }""";

        Only(ReadSettings(json), "FUL1014", json, "\"parallelism\": »0", "'parallelism'", "1..1024");
    }

    [Theory]
    [InlineData("""{ "planLabels": 0 }""", "\"planLabels\": »0", "'planLabels'", "1..8")]
    [InlineData("""{ "planLabels": 9 }""", "\"planLabels\": »9", "'planLabels'", "1..8")]
    [InlineData("""{ "maxPlans": 0 }""", "\"maxPlans\": »0", "'maxPlans'", "1..1000000")]
    public void Plan_coverage_out_of_range_is_FUL1014(string json, string marked, string field, string range)
    {
        Only(ReadSettings(json), "FUL1014", json, marked, field, range);
    }

    [Fact]
    public void Misspelt_setting_is_FUL1005_with_a_suggestion()
    {
        var json = """{ "paralelism": 4 }""";

        Only(ReadSettings(json), "FUL1005", json, "»\"paralelism\"", "'paralelism'", "did you mean 'parallelism'?");
    }

    [Fact]
    public void Include_that_is_not_a_list_is_FUL1006()
    {
        var json = """{ "include": "**/*.lineage.json" }""";

        Only(ReadSettings(json), "FUL1006", json, "»\"**/", "'include'", "an array");
    }
}
