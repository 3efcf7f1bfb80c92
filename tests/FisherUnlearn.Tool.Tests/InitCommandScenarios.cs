using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Scaffolding;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

public sealed class InitCommandScenarios
{
    private static readonly string[] Scaffolded =
    [
        ".gitignore",
        ".unlearn/schemas/dataset.schema.json",
        ".unlearn/schemas/lineage.schema.json",
        ".unlearn/schemas/removal.schema.json",
        ".unlearn/schemas/settings.schema.json",
        "examples/README.md",
        "examples/base/base.lineage.json",
        "examples/child/child.lineage.json",
        "examples/example.dataset.json",
        "examples/forget-label.removal.json",
        "unlearn.json",
    ];

    [Fact]
    public async Task Init_scaffolds_settings_examples_and_schemas_that_validate()
    {
        using var ws = new TempWorkspace();

        var init = await CliRun.InvokeAsync(ws.Root, "init");

        Assert.Equal(0, init.ExitCode);
        Assert.Equal(string.Empty, init.Out);
        Assert.Equal(Scaffolded, ws.Files());
        Assert.Contains("11 created, 0 overwritten, 0 already up to date, 0 skipped", init.Error, StringComparison.Ordinal);
        Assert.Equal("/artifacts/", ws.ReadText(".gitignore").Split('\n').Single(l => l.Length > 0 && !l.StartsWith('#')));

        var validate = await CliRun.InvokeAsync(ws.Root, "validate", "--json");
        Assert.Equal(0, validate.ExitCode);
        Assert.True((bool)validate.Json["valid"]!);
        Assert.Equal(2, (int)validate.Json["models"]!);
        Assert.Equal(1, (int)validate.Json["datasets"]!);
        Assert.Equal(1, (int)validate.Json["removals"]!);
        Assert.Empty(validate.Json["diagnostics"]!);

        // The example removal has a root and a descendant, so it shows what a plan looks like.
        var plan = await CliRun.InvokeAsync(ws.Root, "plan", "example-forget-label", "--json");
        Assert.Equal(0, plan.ExitCode);
        Assert.Equal(["example-base"], plan.Json["roots"]!.Select(r => (string)r!));
        Assert.Equal(["example-base", "example-child"], plan.Json["affected"]!.Select(a => (string)a["id"]!));
    }

    [Fact]
    public async Task Settings_spell_out_the_defaults_and_every_file_points_at_its_schema()
    {
        using var ws = new TempWorkspace();
        await CliRun.InvokeAsync(ws.Root, "init");

        var settings = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText("unlearn.json"));
        Assert.Equal("artifacts/unlearn", (string)settings["output"]!);
        Assert.Equal("fiun", (string)settings["method"]!);
        Assert.Equal(["**/*.lineage.json", "**/*.dataset.json", "**/*.removal.json"], settings["include"]!.Select(g => (string)g!));
        Assert.Equal(["**/bin/**", "**/obj/**"], settings["exclude"]!.Select(g => (string)g!));

        foreach (var file in Scaffolded.Where(f => f.EndsWith(".json", StringComparison.Ordinal) && !f.StartsWith(".unlearn/", StringComparison.Ordinal)))
        {
            var document = Newtonsoft.Json.Linq.JObject.Parse(ws.ReadText(file));
            var schema = (string)document["$schema"]!;
            var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(ws.PathOf(file))!, schema));
            Assert.True(File.Exists(resolved), $"{file}: $schema '{schema}' does not resolve to a file.");
            Assert.NotNull(document["x-comment"]);
        }

        Assert.Equal(Lineage.Schemas.ManifestSchemas.Get(Lineage.Manifests.ManifestKind.Lineage).ReplaceLineEndings("\n").TrimEnd('\n') + "\n",
            ws.ReadText(".unlearn/schemas/lineage.schema.json"));
        Assert.DoesNotContain("\r", ws.ReadText("examples/README.md"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_in_a_project_folder_of_a_workspace_is_refused_since_it_would_take_that_folders_models_out_of_it()
    {
        using var ws = new TempWorkspace();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "init")).ExitCode);
        Directory.CreateDirectory(ws.PathOf("examples/child/deeper"));

        var nested = await CliRun.InvokeAsync(ws.PathOf("examples/child/deeper"), "init");
        var viaOption = await CliRun.InvokeAsync(ws.Root, "init", "-w", "examples/child");
        var validate = await CliRun.InvokeAsync(ws.Root, "validate", "--json");
        var written = Directory.GetFiles(ws.PathOf("examples/child"), "unlearn.json", SearchOption.AllDirectories);
        var onPurpose = await CliRun.InvokeAsync(ws.PathOf("examples/child/deeper"), "init", "--force");

        foreach (var refused in new[] { nested, viaOption })
        {
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains("error FUL3005: ", refused.Error, StringComparison.Ordinal);
            Assert.Contains("is inside the workspace '", refused.Error, StringComparison.Ordinal);
            Assert.Contains("--force", refused.Error, StringComparison.Ordinal);
        }

        Assert.Empty(written);
        Assert.True(validate.ExitCode == 0, validate.Error);
        Assert.Equal(0, onPurpose.ExitCode);
        Assert.True(File.Exists(ws.PathOf("examples/child/deeper/unlearn.json")));
    }

    [Fact]
    public async Task An_empty_workspace_option_is_a_usage_error_not_the_current_folder()
    {
        using var ws = new TempWorkspace();

        var validate = await CliRun.InvokeAsync(ws.Root, "-w", "", "validate");

        Assert.Equal(2, validate.ExitCode);
        Assert.Contains("error FUL3005: -w is given an empty value (an unset variable?): -w <dir>, or leave the option out.", validate.Error, StringComparison.Ordinal);
        Assert.Single(validate.ErrorLines, l => l.Contains("FUL3005", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Examples_deleted_after_the_first_init_are_not_written_again_since_they_would_join_the_network()
    {
        using var ws = new TempWorkspace();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "init")).ExitCode);
        Directory.Delete(ws.PathOf("examples"), recursive: true); // as examples/README.md says, once copied
        File.Delete(ws.PathOf(".unlearn/schemas/lineage.schema.json")); // an upgrade's refresh of the schemas

        var again = await CliRun.InvokeAsync(ws.Root, "init", "--json");
        var forced = await CliRun.InvokeAsync(ws.Root, "init", "--force", "--json");

        Assert.Equal(0, again.ExitCode);
        Assert.Equal(Scaffolded.Where(p => p.StartsWith("examples/", StringComparison.Ordinal)), again.Json["removed"]!.Select(p => (string)p!).Order(StringComparer.Ordinal));
        Assert.Equal([".unlearn/schemas/lineage.schema.json"], again.Json["created"]!.Select(p => (string)p!));
        Assert.Contains("5 removed examples not written again (--force writes them)", again.Error, StringComparison.Ordinal);
        Assert.Equal(0, forced.ExitCode);
        Assert.Empty(forced.Json["removed"]!);
        Assert.True(File.Exists(ws.PathOf("examples/base/base.lineage.json")));
    }

    [Fact]
    public async Task A_second_init_keeps_existing_files_and_reports_them()
    {
        using var ws = new TempWorkspace();
        ws.Write("unlearn.json", """{ "output": "out" }""");
        await CliRun.InvokeAsync(ws.Root, "init");
        ws.Write("examples/README.md", "mine");

        var again = await CliRun.InvokeAsync(ws.Root, "init", "--json");

        Assert.Equal(0, again.ExitCode);
        Assert.Equal("""{ "output": "out" }""", ws.ReadText("unlearn.json"));
        Assert.Equal("mine", ws.ReadText("examples/README.md"));
        Assert.Equal(1, (int)again.Json["schemaVersion"]!);
        Assert.Equal(".", (string)again.Json["workspace"]!);
        Assert.Empty(again.Json["created"]!);
        Assert.Empty(again.Json["overwritten"]!);
        Assert.Equal(["unlearn.json", "examples/README.md"], again.Json["skipped"]!.Select(p => (string)p!));
        Assert.Equal(8, again.Json["unchanged"]!.Count());
        Assert.Contains(again.ErrorLines, l => l == "dotnet-unlearn: skipped unlearn.json: it exists (use --force to overwrite)");
        Assert.Contains("0 created, 0 overwritten, 8 already up to date, 2 skipped", again.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(ws.Files(), f => f.Contains(".tmp-", StringComparison.Ordinal));
    }

    // Found in QA: init in a repository that already has manifests (unlearn.json is optional) added the examples to its
    // network: its request went from 6 affected models to 8, and 'train' and 'run' stopped at the examples' missing data.
    [Fact]
    public async Task Init_in_a_repository_with_models_of_its_own_adds_no_examples_to_their_network()
    {
        using var ws = SampleWorkspaces.Chain();
        ws.Delete("unlearn.json");
        var before = await CliRun.InvokeAsync(ws.Root, "plan", "forget-1", "--json");

        var init = await CliRun.InvokeAsync(ws.Root, "init", "--json");
        var after = await CliRun.InvokeAsync(ws.Root, "plan", "forget-1", "--json");

        Assert.Equal(0, init.ExitCode);
        Assert.Contains("unlearn.json", init.Json["created"]!.Select(p => (string)p!));
        Assert.Equal(5, init.Json["withheld"]!.Count());
        Assert.False(ws.Exists("examples"));
        Assert.True(ws.Exists(".unlearn/schemas/lineage.schema.json"));
        Assert.Contains(init.ErrorLines, l => l.Contains("5 examples not written: the folder already has 2 lineage manifests, whose network they would join (--force writes them)", StringComparison.Ordinal));
        Assert.Equal(before.Json["affected"]!.ToString(), after.Json["affected"]!.ToString());

        // Its settings point at no example it did not write, and a second init says the examples were withheld again, not
        // removed since (QA).
        Assert.DoesNotContain("examples/", ws.ReadText("unlearn.json"), StringComparison.Ordinal);
        var again = await CliRun.InvokeAsync(ws.Root, "init", "--json");
        Assert.Equal(5, again.Json["withheld"]!.Count());
        Assert.Empty(again.Json["removed"]!);
        Assert.DoesNotContain("removed examples", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unlearn_json_an_earlier_init_wrote_is_brought_up_to_date_and_one_the_user_edited_is_kept()
    {
        using var ws = new TempWorkspace();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "init")).ExitCode);
        // Until the twenty-ninth session the first comment ended by pointing at examples/README.md (QA: kept on upgrade).
        var current = ws.ReadText("unlearn.json");
        // The file as it was: its first comment ended by pointing at examples/README.md; every other line as today's.
        var earlier = System.Text.Encoding.UTF8.GetString(Assert.Single(InitTemplates.Earlier("unlearn.json")));
        Assert.Contains("are the defaults. Fields starting with 'x-' are ignored. See examples/README.md.\",", earlier, StringComparison.Ordinal);
        Assert.Equal(current.Split('\n').Skip(3), earlier.Split('\n').Skip(3));
        ws.Write("unlearn.json", earlier);

        var again = await CliRun.InvokeAsync(ws.Root, "init", "--json");

        Assert.Equal(0, again.ExitCode);
        Assert.Equal(["unlearn.json"], again.Json["updated"]!.Select(p => (string)p!));
        Assert.Equal(current, ws.ReadText("unlearn.json"));
        Assert.Contains(again.ErrorLines, l => l.StartsWith("dotnet-unlearn: updated unlearn.json: it was as an earlier version of init wrote it", StringComparison.Ordinal));

        ws.Write("unlearn.json", earlier.Replace("\"output\": \"artifacts/unlearn\"", "\"output\": \"out\"", StringComparison.Ordinal));
        var edited = await CliRun.InvokeAsync(ws.Root, "init", "--json");
        Assert.Equal(["unlearn.json"], edited.Json["skipped"]!.Select(p => (string)p!));
        Assert.Contains("\"output\": \"out\"", ws.ReadText("unlearn.json"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_in_a_demo_workspace_counts_the_demos_unlearn_json_as_up_to_date_not_yours()
    {
        using var ws = new TempWorkspace();
        FisherUnlearn.Tool.Scaffolding.DemoWorkspace.Materialize(ws.Root, TestContext.Current.CancellationToken);
        var demoSettings = ws.ReadText("unlearn.json");

        var init = await CliRun.InvokeAsync(ws.Root, "init", "--json", "--verbosity", "detailed");

        Assert.Equal(0, init.ExitCode);
        Assert.Empty(init.Json["skipped"]!);
        Assert.Equal(["unlearn.json"], init.Json["unchanged"]!.Select(p => (string)p!));
        Assert.Contains(init.ErrorLines, l => l.StartsWith("dotnet-unlearn: unlearn.json is up to date: as the tool wrote it ('dotnet unlearn demo', or an earlier init)", StringComparison.Ordinal));
        Assert.Equal(demoSettings, ws.ReadText("unlearn.json"));
        Assert.Equal(5, init.Json["withheld"]!.Count()); // the demo's models are a network: no examples join it
        Assert.False(ws.Exists("examples"));

        var forced = await CliRun.InvokeAsync(ws.Root, "init", "--force", "--json");
        Assert.Equal(["unlearn.json"], forced.Json["overwritten"]!.Select(p => (string)p!));
    }

    [Theory]
    [InlineData("examples", false, "is a file, and the scaffold writes a folder there")]
    [InlineData("unlearn.json", true, "is a folder, and the scaffold writes a file there (unlearn.json)")]
    [InlineData("demo-here", false, "is a file, and the scaffold writes into a folder there")] // 'demo demo-here' (QA: "already exists")
    public async Task A_file_where_a_folder_goes_or_a_folder_where_a_file_goes_stops_init_before_it_writes_anything(string obstacle, bool folder, string message)
    {
        using var ws = new TempWorkspace();
        if (folder)
        {
            ws.CreateDirectory(obstacle);
        }
        else
        {
            ws.Write(obstacle, "mine");
        }

        var run = obstacle == "demo-here"
            ? await CliRun.InvokeAsync(ws.Root, "demo", obstacle)
            : await CliRun.InvokeAsync(ws.Root, "init", "--force");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error FUL3009", run.Error, StringComparison.Ordinal);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
        Assert.Equal([obstacle], Directory.EnumerateFileSystemEntries(ws.Root).Select(Path.GetFileName)); // nothing written
    }

    [Fact]
    public async Task A_gitignore_of_the_users_is_kept_even_with_force()
    {
        using var ws = new TempWorkspace();
        ws.Write(".gitignore", "bin/\nobj/\n");

        var init = await CliRun.InvokeAsync(ws.Root, "init", "--force", "--json");

        Assert.Equal(0, init.ExitCode);
        Assert.Equal("bin/\nobj/\n", ws.ReadText(".gitignore"));
        Assert.DoesNotContain(".gitignore", init.Json["created"]!.Select(p => (string)p!));
        Assert.DoesNotContain(".gitignore", init.Json["overwritten"]!.Select(p => (string)p!));
    }

    [Fact]
    public async Task Force_overwrites_changed_files()
    {
        using var ws = new TempWorkspace();
        ws.Write("examples/base/base.lineage.json", "{ broken");

        var run = await CliRun.InvokeAsync(ws.Root, "init", "--force", "--json");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["examples/base/base.lineage.json"], run.Json["overwritten"]!.Select(p => (string)p!));
        Assert.Equal(10, run.Json["created"]!.Count());
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "validate")).ExitCode);
    }

    [Fact]
    public async Task Init_writes_into_the_workspace_option_and_needs_an_existing_folder()
    {
        using var ws = new TempWorkspace();
        ws.CreateDirectory("repo");

        var run = await CliRun.InvokeAsync(ws.Root, "init", "--workspace", "repo", "--json");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("repo", (string)run.Json["workspace"]!);
        Assert.True(ws.Exists("repo/unlearn.json"));

        var missing = await CliRun.InvokeAsync(ws.Root, "init", "--workspace", "nope");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("error FUL3004:", missing.Error, StringComparison.Ordinal);
        Assert.False(ws.Exists("nope"));
    }
}
