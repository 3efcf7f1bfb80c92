using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Discovery;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Lineage.Tests.Discovery;

/// <summary>Loading a workspace folder: which files are found, how they merge, what is reported.</summary>
public sealed class WorkspaceDiscovery
{
    private static string Model(string id, string parent = "", string dataset = "mnist") => $$"""
        {
          "schemaVersion": 1,
          "id": "{{id}}",
          "checkpoint": "bin/{{id}}.safetensors",
          "architecture": { "kind": "mlp", "inputs": 784, "hidden": [32], "classes": 10 },
          "parents": [{{(parent.Length == 0 ? string.Empty : $$""" { "id": "{{parent}}", "relation": "finetune" } """)}}],
          "data": [ { "dataset": "{{dataset}}", "labels": [0, 1] } ]
        }
        """;

    private static string Dataset(string id) => $$"""
        { "schemaVersion": 1, "id": "{{id}}", "format": "idx", "classes": 10,
          "train": { "images": "raw/train-images.gz", "labels": "raw/train-labels.gz" } }
        """;

    private static string Removal(string id) => $$"""{ "schemaVersion": 1, "id": "{{id}}", "forget": { "labels": [1] } }""";

    private static Workspace Load(string root) => WorkspaceLoader.Load(root, TestContext.Current.CancellationToken);

    [Fact]
    public void Why_a_file_is_not_discovered_names_the_rule_and_agrees_with_discovery()
    {
        using var ws = new TempWorkspace();
        using var elsewhere = new TempWorkspace();
        ws.Write("unlearn.json", """{ "exclude": ["drafts/**"] }""");
        var files = new Dictionary<string, (Undiscovered, string?)>
        {
            [ws.Write("forget-1.removal.json", Removal("forget-1"))] = (Undiscovered.None, null),
            [ws.Write("notes.json", "{ }")] = (Undiscovered.NotAManifestName, null),
            [ws.Write("Forget-2.REMOVAL.json", Removal("forget-2"))] = (Undiscovered.SuffixCase, null),
            [ws.Write("m/obj/forget-3.removal.json", Removal("forget-3"))] = (Undiscovered.AlwaysExcluded, "**/obj/**"),
            [ws.Write("inner/deeper/forget-4.removal.json", Removal("forget-4"))] = (Undiscovered.NestedWorkspace, ws.PathOf("inner")),
            [ws.Write("drafts/forget-5.removal.json", Removal("forget-5"))] = (Undiscovered.Globs, null),
            [elsewhere.Write("forget-6.removal.json", Removal("forget-6"))] = (Undiscovered.Outside, null),
        };
        ws.Write("inner/unlearn.json", "{ }");
        var settings = Load(ws.Root).Settings;
        var discovered = WorkspaceLoader.Discover(ws.Root, settings);

        foreach (var (file, expected) in files)
        {
            Assert.Equal(expected, WorkspaceLoader.WhyNotDiscovered(ws.Root, settings, file));
            Assert.Equal(expected.Item1 == Undiscovered.None, discovered.Contains(Path.GetFullPath(file)));
        }
    }

    [Fact]
    public void Valid_workspace_loads_every_manifest_with_no_diagnostics()
    {
        // arrange
        using var ws = new TempWorkspace();
        ws.Write("unlearn.json", """{ "output": "out", "parallelism": 2 }""");
        ws.Write("data/mnist.dataset.json", Dataset("mnist"));
        ws.Write("models/base/base.lineage.json", Model("base"));
        ws.Write("models/plus/plus.lineage.json", Model("plus", parent: "base"));
        ws.Write("requests/forget-1.removal.json", Removal("forget-1"));
        ws.Write("README.md", "# not a manifest");

        // act
        var workspace = Load(ws.Root);

        // assert
        Assert.Empty(workspace.Diagnostics);
        Assert.Equal(ws.Root, workspace.Root);
        Assert.Equal(["base", "plus"], workspace.Models.Keys);
        Assert.Equal(["mnist"], workspace.Datasets.Keys);
        Assert.Equal(["forget-1"], workspace.Removals.Keys);
        Assert.Equal(ws.PathOf("models/plus/bin/plus.safetensors"), workspace.Models["plus"].CheckpointPath);
        Assert.Equal(ws.PathOf("data/raw/train-images.gz"), workspace.Datasets["mnist"].Train.Images);
        Assert.Equal(("out", 2), (workspace.Settings.Output, workspace.Settings.Parallelism));
        Assert.Equal(ws.PathOf("unlearn.json"), workspace.Settings.SettingsPath);
        Assert.Equal(ws.PathOf("out"), workspace.OutputDirectory);
    }

    [Fact]
    public void An_unknown_relation_on_one_of_two_aggregate_parents_is_its_own_error_without_a_follow_on_parent_count()
    {
        using var ws = new TempWorkspace();
        ws.Write("data/mnist.dataset.json", Dataset("mnist"));
        ws.Write("a/a.lineage.json", Model("a"));
        ws.Write("b/b.lineage.json", Model("b"));
        ws.Write("fed/fed.lineage.json", """
            { "schemaVersion": 1, "id": "fed", "checkpoint": "bin/fed.safetensors",
              "architecture": { "kind": "mlp", "inputs": 784, "hidden": [32], "classes": 10 },
              "parents": [ { "id": "a", "relation": "aggregate" }, { "id": "b", "relation": "aggregat" } ],
              "data": [ { "dataset": "mnist", "labels": [0, 1] } ] }
            """);

        var analysis = WorkspaceAnalysis.Analyze(ws.Root, TestContext.Current.CancellationToken);

        Assert.Equal(["FUL1011"], analysis.Diagnostics.Where(d => d.IsError).Select(d => d.Code));
    }

    [Fact]
    public void An_unknown_architecture_kind_is_its_own_error_without_follow_on_mismatches_with_parent_or_child()
    {
        using var ws = new TempWorkspace();
        ws.Write("data/mnist.dataset.json", Dataset("mnist"));
        ws.Write("a/a.lineage.json", Model("a"));
        ws.Write("b/b.lineage.json", Model("b", parent: "a").Replace("\"kind\": \"mlp\"", "\"kind\": \"mlpp\"", StringComparison.Ordinal));
        ws.Write("c/c.lineage.json", Model("c", parent: "b"));

        var analysis = WorkspaceAnalysis.Analyze(ws.Root, TestContext.Current.CancellationToken);

        Assert.Equal(["FUL1013"], analysis.Diagnostics.Where(d => d.IsError).Select(d => d.Code));
    }

    [Fact]
    public void A_subfolder_with_its_own_unlearn_json_is_a_workspace_of_its_own_and_not_read()
    {
        using var ws = new TempWorkspace();
        ws.Write("unlearn.json", "{ }");
        ws.Write("data/mnist.dataset.json", Dataset("mnist"));
        ws.Write("models/base/base.lineage.json", Model("base"));
        ws.Write("sub/unlearn.json", "{ }");
        ws.Write("sub/data/mnist.dataset.json", Dataset("other"));
        ws.Write("sub/models/x/x.lineage.json", Model("x", dataset: "other"));

        var outer = Load(ws.Root);
        var inner = Load(ws.PathOf("sub"));

        Assert.Empty(outer.Diagnostics);
        Assert.Equal(["base"], outer.Models.Keys);
        Assert.Equal(["mnist"], outer.Datasets.Keys);
        Assert.Equal(["x"], inner.Models.Keys);
    }

    [Fact]
    public void Manifest_hashes_are_filled_for_every_file_read()
    {
        using var ws = new TempWorkspace();
        ws.Write("unlearn.json", "{ }");
        var model = ws.Write("m.lineage.json", Model("m"));
        ws.Write("d.dataset.json", Dataset("mnist"));

        var workspace = Load(ws.Root);

        Assert.Equal([ws.PathOf("d.dataset.json"), model, ws.PathOf("unlearn.json")], workspace.ManifestHashes.Keys);
        Assert.Equal(ContentHash.OfJsonText(Model("m")), workspace.ManifestHashes[model]);
    }

    [Fact]
    public void Hash_of_a_manifest_survives_reformatting_on_disk()
    {
        using var ws = new TempWorkspace();
        var path = ws.Write("m.lineage.json", Model("m"));
        var before = Load(ws.Root).ManifestHashes[path];

        ws.Write("m.lineage.json", Model("m").Replace("\n", " ", StringComparison.Ordinal).Replace("  ", " ", StringComparison.Ordinal));
        var after = Load(ws.Root).ManifestHashes[path];
        ws.Write("m.lineage.json", Model("m").Replace("[0, 1]", "[0, 2]", StringComparison.Ordinal));
        var changed = Load(ws.Root).ManifestHashes[path];

        Assert.Equal(before, after);
        Assert.NotEqual(before, changed);
    }

    [Fact]
    public void Bin_and_obj_folders_are_never_searched()
    {
        using var ws = new TempWorkspace();
        ws.Write("src/app/app.lineage.json", Model("app"));
        ws.Write("src/app/bin/Debug/copy.lineage.json", Model("copy-in-bin"));
        ws.Write("src/app/obj/copy.lineage.json", Model("copy-in-obj"));
        ws.Write("bin/root-bin.lineage.json", Model("root-bin"));
        ws.Write("obj/root-obj.dataset.json", Dataset("root-obj"));

        var workspace = Load(ws.Root);

        Assert.Empty(workspace.Diagnostics);
        Assert.Equal(["app"], workspace.Models.Keys);
        Assert.Empty(workspace.Datasets);
    }

    [Fact]
    public void Bin_and_obj_stay_excluded_when_settings_replace_the_excludes()
    {
        using var ws = new TempWorkspace();
        ws.Write("unlearn.json", """{ "exclude": ["legacy/**"] }""");
        ws.Write("a.lineage.json", Model("a"));
        ws.Write("bin/b.lineage.json", Model("b"));
        ws.Write("legacy/c.lineage.json", Model("c"));

        var workspace = Load(ws.Root);

        Assert.Equal(["a"], workspace.Models.Keys);
    }

    [Fact]
    public void Include_and_exclude_globs_of_unlearn_json_are_honoured()
    {
        using var ws = new TempWorkspace();
        ws.Write("unlearn.json", """
            { "include": ["models/**/*.lineage.json", "shared/*.dataset.json"], "exclude": ["models/archive/**"] }
            """);
        ws.Write("models/a/a.lineage.json", Model("a"));
        ws.Write("models/archive/old.lineage.json", Model("old"));
        ws.Write("experiments/x.lineage.json", Model("x"));
        ws.Write("shared/mnist.dataset.json", Dataset("mnist"));
        ws.Write("shared/nested/other.dataset.json", Dataset("other"));
        ws.Write("forget.removal.json", Removal("forget"));

        var workspace = Load(ws.Root);

        Assert.Empty(workspace.Diagnostics);
        Assert.Equal(["a"], workspace.Models.Keys);
        Assert.Equal(["mnist"], workspace.Datasets.Keys);
        Assert.Empty(workspace.Removals);
    }

    [Fact]
    public void Include_glob_matching_other_files_only_picks_manifests()
    {
        using var ws = new TempWorkspace();
        ws.Write("unlearn.json", """{ "include": ["**/*.json"] }""");
        ws.Write("a.lineage.json", Model("a"));
        ws.Write("package.json", "{ \"name\": \"not a manifest\" }");
        ws.Write("config/appsettings.json", "not even json");

        var workspace = Load(ws.Root);

        Assert.Empty(workspace.Diagnostics);
        Assert.Equal(["a"], workspace.Models.Keys);
    }

    [Fact]
    public void A_folder_link_out_of_the_workspace_is_not_followed_and_is_a_warning_one_into_it_is_not_walked_twice()
    {
        using var outside = new TempWorkspace();
        outside.Write("other/x.lineage.json", Model("x"));
        using var ws = new TempWorkspace();
        ws.Write("models/m.lineage.json", Model("m"));
        Directory.CreateSymbolicLink(ws.PathOf("up"), outside.Root);
        Directory.CreateSymbolicLink(ws.PathOf("models/loop"), ws.PathOf("models"));
        Directory.CreateSymbolicLink(ws.PathOf("models/root"), ws.Root);
        Directory.CreateSymbolicLink(ws.PathOf("alias"), "models"); // a sibling: read where it is, not twice

        var workspace = Load(ws.Root);

        Assert.Equal(["m"], workspace.Models.Keys);
        var warning = Assert.Single(workspace.Diagnostics);
        Assert.Equal(("FUL1028", Severity.Warning), (warning.Code, warning.Severity));
        Assert.Equal(ws.PathOf("up"), warning.Location.File);
        Assert.Contains("'up' is a link to", warning.Message, StringComparison.Ordinal);
        Assert.False(workspace.HasErrors);
    }

    [Fact]
    public void A_workspace_named_through_a_link_is_read()
    {
        using var ws = new TempWorkspace();
        ws.Write("real/m.lineage.json", Model("m"));
        Directory.CreateSymbolicLink(ws.PathOf("link"), ws.PathOf("real"));

        var workspace = Load(ws.PathOf("link"));

        Assert.Equal(["m"], workspace.Models.Keys);
        Assert.Empty(workspace.Diagnostics);
    }

    [Fact]
    public void An_excluded_folder_link_out_of_the_workspace_is_not_reported()
    {
        using var outside = new TempWorkspace();
        outside.Write("x.lineage.json", Model("x"));
        using var ws = new TempWorkspace();
        ws.Write("unlearn.json", """{ "exclude": ["vendor/**"] }""");
        ws.Write("m.lineage.json", Model("m"));
        Directory.CreateSymbolicLink(ws.PathOf("vendor"), outside.Root);

        var workspace = Load(ws.Root);

        Assert.Equal(["m"], workspace.Models.Keys);
        Assert.Empty(workspace.Diagnostics);
    }

    [Fact]
    public void Ids_of_one_kind_that_differ_only_in_case_are_one_FUL1030_and_nothing_else()
    {
        using var ws = new TempWorkspace();
        ws.Write("a/Base.lineage.json", Model("Base", dataset: "first"));
        var second = ws.Write("b/base.lineage.json", Model("base", dataset: "second"));
        ws.Write("c/base.dataset.json", Dataset("base")); // another kind: its files are named apart

        var workspace = Load(ws.Root);

        var diagnostic = Assert.Single(workspace.Diagnostics);
        Assert.Equal(("FUL1030", second), (diagnostic.Code, diagnostic.Location.File));
        Assert.Contains("model id 'base' differs only in case from 'Base' in a/Base.lineage.json", diagnostic.Message, StringComparison.Ordinal);
        Assert.Equal(["Base", "base"], workspace.Models.Keys); // both kept: what refers to either still resolves
    }

    [Fact]
    public void A_manifest_whose_suffix_differs_in_case_is_not_read_but_warned_about_unless_excluded()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows() || OperatingSystem.IsMacOS(), "file names ignore case there: the file is read");
        using var ws = new TempWorkspace();
        ws.Write("a/a.lineage.json", Model("a", dataset: "d"));
        var student = ws.Write("student/student.Lineage.json", Model("student", dataset: "d"));
        ws.Write("data/d.DATASET.json", Dataset("d"));
        ws.Write("head/head.lineage.JSON", Model("head", dataset: "d"));
        ws.Write("old/x.Removal.json", "{}");
        ws.Write("unlearn.json", """{ "schemaVersion": 1, "exclude": ["old/**"] }""");
        ws.Write("student/package.json", "{}");

        var workspace = Load(ws.Root);

        Assert.Equal(["a"], workspace.Models.Keys);
        var warnings = workspace.Diagnostics.Where(d => d.Code == "FUL1032").ToList();
        Assert.Equal([ws.PathOf("data/d.DATASET.json"), ws.PathOf("head/head.lineage.JSON"), student], warnings.Select(d => d.Location.File));
        Assert.All(warnings, w => Assert.Equal(Severity.Warning, w.Severity));
        Assert.Contains("'student/student.Lineage.json' is named like a lineage manifest, but its suffix is not '.lineage.json' in this case", warnings[2].Message, StringComparison.Ordinal);
        Assert.Contains("'.dataset.json'", warnings[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_dataset_in_a_samples_entry_is_reported_with_the_entrys_other_mistakes()
    {
        using var ws = new TempWorkspace();
        ws.Write("d.dataset.json", Dataset("digits"));
        var removal = ws.Write("r.removal.json", """
            { "schemaVersion": 1, "id": "r", "forget": { "samples": [
              { "dataset": "nope", "split": "tran", "indices": [5] },
              { "dataset": "digitz", "split": "train", "indices": [] } ] } }
            """);

        var workspace = Load(ws.Root);
        var analysis = Lineage.WorkspaceAnalysis.Analyze(ws.Root, TestContext.Current.CancellationToken);

        Assert.Contains(workspace.Diagnostics, d => d.Code == "FUL1020"); // the split
        Assert.Contains(workspace.Diagnostics, d => d.Code == "FUL1022"); // the empty list
        var unknown = analysis.Diagnostics.Where(d => d.Code == "FUL2002").ToList();
        Assert.Equal([(2, 16), (3, 16)], unknown.Select(d => (d.Location.Line, d.Location.Column)));
        Assert.All(unknown, d => Assert.Equal(removal, d.Location.File));
        Assert.Contains("did you mean 'digits'?", unknown[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_dataset_and_a_label_outside_the_classes_in_a_models_data_are_reported_at_the_values()
    {
        using var ws = new TempWorkspace();
        ws.Write("d.dataset.json", Dataset("digits"));
        var model = ws.Write("m/m.lineage.json", Model("m", dataset: "digitz").Replace("\"labels\": [0, 1]", "\"labels\": [0, 12]", StringComparison.Ordinal)
            .Replace("\"data\": [ {", "\"data\": [ { \"dataset\": \"digits\", \"labels\": [3, 12] }, {", StringComparison.Ordinal));

        var analysis = Lineage.WorkspaceAnalysis.Analyze(ws.Root, TestContext.Current.CancellationToken);

        var text = File.ReadAllLines(model);
        var unknown = analysis.Diagnostics.Single(d => d.Code == "FUL2002");
        var outside = analysis.Diagnostics.Single(d => d.Code == "FUL1016");
        Assert.Equal(model, unknown.Location.File);
        Assert.StartsWith("\"digitz\"", text[unknown.Location.Line - 1][(unknown.Location.Column - 1)..], StringComparison.Ordinal);
        Assert.StartsWith("12]", text[outside.Location.Line - 1][(outside.Location.Column - 1)..], StringComparison.Ordinal);
    }

    [Fact]
    public void Files_are_discovered_in_ordinal_path_order()
    {
        using var ws = new TempWorkspace();
        foreach (var name in new[] { "b/z.lineage.json", "B/a.lineage.json", "a/b.dataset.json", "a/B.removal.json", "a_/x.lineage.json" })
        {
            ws.Write(name, "{}");
        }

        var files = WorkspaceLoader.Discover(ws.Root, new Lineage.Manifests.WorkspaceSettings());

        Assert.Equal(["B/a.lineage.json", "a/B.removal.json", "a/b.dataset.json", "a_/x.lineage.json", "b/z.lineage.json"],
            files.Select(f => Path.GetRelativePath(ws.Root, f).Replace('\\', '/')));
    }

    [Fact]
    public void Duplicate_id_is_FUL1010_naming_the_first_file_which_wins()
    {
        using var ws = new TempWorkspace();
        ws.Write("a/m.lineage.json", Model("m", dataset: "first"));
        var second = ws.Write("b/m.lineage.json", Model("m", dataset: "second"));
        ws.Write("c/m.dataset.json", Dataset("m"));

        var workspace = Load(ws.Root);

        var diagnostic = Assert.Single(workspace.Diagnostics);
        Assert.Equal("FUL1010", diagnostic.Code);
        Assert.Equal((second, 3, 9), (diagnostic.Location.File, diagnostic.Location.Line, diagnostic.Location.Column));
        Assert.Contains("model id 'm'", diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains("a/m.lineage.json", diagnostic.Message, StringComparison.Ordinal);
        Assert.Equal("first", workspace.Models["m"].Data[0].Dataset);
        Assert.Equal(["m"], workspace.Datasets.Keys);
    }

    [Fact]
    public void Problems_of_all_files_are_reported_sorted_with_absolute_paths()
    {
        using var ws = new TempWorkspace();
        ws.Write("unlearn.json", """{ "threads": 0 }""");
        var broken = ws.Write("z/broken.lineage.json", "{ \"schemaVersion\": 1, ");
        var badType = ws.Write("a/bad.lineage.json", Model("bad").Replace("\"inputs\": 784", "\"inputs\": \"784\"", StringComparison.Ordinal));
        ws.Write("m/good.lineage.json", Model("good"));
        var badUtf8 = ws.WriteBytes("m/latin1.removal.json", [(byte)'{', (byte)'"', 0xE9, (byte)'"', (byte)'}']);

        var workspace = Load(ws.Root);

        Assert.Equal(
            [(badType, "FUL1006"), (badUtf8, "FUL1002"), (ws.PathOf("unlearn.json"), "FUL1014"), (broken, "FUL1001")],
            workspace.Diagnostics.Select(d => (d.Location.File, d.Code)));
        Assert.True(workspace.HasErrors);
        Assert.Equal(["bad", "good"], workspace.Models.Keys);
        Assert.Equal(workspace.Diagnostics, new DiagnosticBag().ToSortedListOf(workspace.Diagnostics));
    }

    [Fact]
    public void Empty_workspace_warns_FUL2014()
    {
        using var ws = new TempWorkspace();

        var workspace = Load(ws.Root);

        var diagnostic = Assert.Single(workspace.Diagnostics);
        Assert.Equal(("FUL2014", Severity.Warning), (diagnostic.Code, diagnostic.Severity));
        Assert.Contains(ws.Root, diagnostic.Message, StringComparison.Ordinal);
        Assert.False(workspace.HasErrors);
    }

    [Fact]
    public void Missing_workspace_folder_is_FUL3004_not_an_exception()
    {
        var workspace = Load("/nonexistent-fiun-workspace");

        Assert.Equal("FUL3004", Assert.Single(workspace.Diagnostics).Code);
        Assert.Empty(workspace.Models);
    }

    [Fact]
    public void Cancelled_load_throws_operation_cancelled()
    {
        using var ws = new TempWorkspace();
        ws.Write("a.lineage.json", Model("a"));
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => WorkspaceLoader.Load(ws.Root, cancellation.Token));
    }

    [Fact]
    public void Ten_thousand_manifests_load_completely_and_deterministically()
    {
        using var ws = new TempWorkspace();
        ws.Write("data/mnist.dataset.json", Dataset("mnist"));
        for (var i = 0; i < 10_000; i++)
        {
            ws.Write($"models/g{i % 100:D2}/m{i:D5}.lineage.json", Model($"m{i:D5}", parent: i == 0 ? string.Empty : $"m{i - 1:D5}"));
        }

        var first = WorkspaceLoader.Load(ws.Root, TestContext.Current.CancellationToken);
        var second = WorkspaceLoader.Load(ws.Root, TestContext.Current.CancellationToken);

        Assert.Empty(first.Diagnostics);
        Assert.Equal(10_000, first.Models.Count);
        Assert.Equal(10_001, first.ManifestHashes.Count);
        Assert.Equal(first.Models.Keys, second.Models.Keys);
        Assert.Equal(first.ManifestHashes, second.ManifestHashes);
    }
}

internal static class DiagnosticBagTestExtensions
{
    public static IReadOnlyList<Diagnostic> ToSortedListOf(this DiagnosticBag bag, IEnumerable<Diagnostic> diagnostics)
    {
        bag.AddRange(diagnostics.Reverse());
        return bag.ToSortedList();
    }
}
