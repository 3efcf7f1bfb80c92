using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

public sealed class ValidateCommandScenarios
{
    [Fact]
    public async Task The_digits_sample_is_valid()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "validate", "--workspace", "samples/digits");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(string.Empty, run.Out);
        Assert.Contains("7 models, 1 dataset, 2 removal requests: valid.", run.Error);
    }

    [Fact]
    public async Task From_a_subfolder_the_workspace_is_the_nearest_folder_upwards_with_unlearn_json()
    {
        using var ws = SampleWorkspaces.Chain();
        ws.Write("unlearn.json", """{ "schemaVersion": 1 }""");

        var inside = await CliRun.InvokeAsync(Path.Combine(ws.Root, "b"), "validate");
        var plan = await CliRun.InvokeAsync(Path.Combine(ws.Root, "b"), "plan", "forget-1", "--json");
        var explicitFolder = await CliRun.InvokeAsync(Path.Combine(ws.Root, "b"), "validate", "--workspace", ".");

        Assert.Equal(0, inside.ExitCode);
        Assert.Contains("2 models, 1 dataset, 3 removal requests: valid.", inside.Error, StringComparison.Ordinal);
        Assert.Equal(0, plan.ExitCode);
        Assert.Equal(["a", "b"], plan.Json["affected"]!.Select(a => (string)a["id"]!));
        Assert.Equal(2, explicitFolder.ExitCode); // --workspace still means exactly that folder: b alone lacks its dataset
        // ... and the note names the workspace it lies in (QA: it said there was no unlearn.json above it).
        Assert.Contains($"dotnet-unlearn: note: '.' lies inside the workspace at '{ws.Root}' (its unlearn.json), but --workspace reads the folder it names as a workspace of its own", explicitFolder.Error, StringComparison.Ordinal);
        Assert.Contains($"Pass --workspace {ws.Root}, or leave --workspace out", explicitFolder.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("no unlearn.json", explicitFolder.Error, StringComparison.Ordinal);
        // A folder of the workspace without any manifest (its data, say) gets the same note beside FUL2014 (QA).
        ws.Write("data/notes.txt", "raw files");
        var dataFolder = await CliRun.InvokeAsync(ws.Root, "validate", "--workspace", "data");
        Assert.Contains("FUL2014", dataFolder.Error, StringComparison.Ordinal);
        Assert.Contains("note: 'data' lies inside the workspace at '.' (its unlearn.json)", dataFolder.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("note: no unlearn.json", inside.Error, StringComparison.Ordinal);
    }

    // Found in QA: without unlearn.json (it is optional), validate in a project folder said its parent was no model
    // (FUL2001) and its dataset unknown (FUL2002), with nothing saying the workspace was that folder alone.
    [Fact]
    public async Task Without_unlearn_json_a_project_folders_unknown_parent_says_the_workspace_is_that_folder()
    {
        using var ws = SampleWorkspaces.Chain();
        ws.Delete("unlearn.json");

        var inside = await CliRun.InvokeAsync(Path.Combine(ws.Root, "b"), "validate");
        var root = await CliRun.InvokeAsync(ws.Root, "validate");

        Assert.Equal(2, inside.ExitCode);
        Assert.Contains("FUL2001", inside.Error, StringComparison.Ordinal);
        Assert.Contains("note: no unlearn.json in '.' or above it, so the workspace is that folder alone, and models and datasets outside it are not seen", inside.Error, StringComparison.Ordinal);
        Assert.Equal(0, root.ExitCode);
        Assert.DoesNotContain("note: no unlearn.json", root.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_workspace_that_is_a_file_or_a_verbosity_that_is_not_one_is_a_usage_error()
    {
        using var ws = SampleWorkspaces.Chain();

        var file = await CliRun.InvokeAsync(ws.Root, "validate", "--workspace", "forget-1.removal.json");
        var loud = await CliRun.InvokeAsync(ws.Root, "validate", "--verbosity", "loud");
        var shortQuiet = await CliRun.InvokeAsync(ws.Root, "validate", "-v", "q");

        Assert.Equal(2, file.ExitCode);
        Assert.Contains("is a file: --workspace takes the workspace's folder", file.Error, StringComparison.Ordinal);
        Assert.Equal(2, loud.ExitCode);
        Assert.Contains("error FUL3005: 'loud' is not a verbosity: use quiet, normal or detailed.", loud.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("FisherUnlearn.Tool", loud.Error, StringComparison.Ordinal);
        Assert.Equal(0, shortQuiet.ExitCode);
        Assert.Equal(string.Empty, shortQuiet.Error);
    }

    [Theory]
    [InlineData("../a/bin/a.safetensors", "the checkpoint of model 'a'", "")]
    [InlineData("../a/bin/A.safetensors", "the checkpoint of model 'a'", " (the paths differ only in case: one file on Windows and macOS)")]
    [InlineData("../data/train.csv", "a data file of dataset 'toy'", "")]
    [InlineData("../toy.dataset.json", "the manifest of dataset 'toy'", "")]
    [InlineData("b.lineage.json", "the manifest of model 'b'", "")]
    [InlineData("../forget-1.removal.json", "the manifest of removal 'forget-1'", "")]
    public async Task A_checkpoint_that_is_another_models_or_a_data_file_is_refused_before_train_writes_over_it(string checkpoint, string what, string caseNote)
    {
        using var ws = SampleWorkspaces.ChainWithData();
        ws.Write("b/b.lineage.json", $$"""
            { "schemaVersion": 1, "id": "b",
              "checkpoint": "{{checkpoint}}",
              "architecture": { "kind": "mlp", "inputs": 4, "hidden": [8], "classes": 4 },
              "parents": [ { "id": "a", "relation": "finetune" } ],
              "data": [ { "dataset": "toy", "labels": [2] } ],
              "training": { "epochs": 1 } }
            """);
        var before = ws.Contents();

        var validate = await CliRun.InvokeAsync(ws.Root, "validate");
        var train = await CliRun.InvokeAsync(ws.Root, "train", "--force", "--no-progress");

        Assert.Equal(2, validate.ExitCode);
        Assert.Contains($"b/b.lineage.json(2,17): error FUL2017: The checkpoint of model 'b' is {what}{caseNote}: 'train' would write over it", validate.Error, StringComparison.Ordinal);
        Assert.Equal(2, train.ExitCode);
        Assert.Contains("FUL2017", train.Error, StringComparison.Ordinal);
        Assert.Equal(before, ws.Contents()); // nothing was trained over anything
    }

    [Theory]
    [InlineData("folder")]
    [InlineData("file")]
    public async Task A_checkpoint_that_leads_to_another_models_through_a_symbolic_link_is_refused(string link)
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "symbolic links need privileges on Windows");
        using var ws = SampleWorkspaces.ChainWithData();
        if (link == "folder")
        {
            ws.Link("b/shared", "../a/bin"); // b/shared/a.safetensors is a's checkpoint
        }
        else
        {
            ws.Link("b/shared/a.safetensors", "../../a/bin/a.safetensors");
        }

        ws.Write("b/b.lineage.json", ws.ReadText("b/b.lineage.json").Replace("\"bin/b.safetensors\"", "\"shared/a.safetensors\"", StringComparison.Ordinal));

        var validate = await CliRun.InvokeAsync(ws.Root, "validate");

        Assert.Equal(2, validate.ExitCode);
        Assert.Contains("error FUL2017: The checkpoint of model 'b' is the checkpoint of model 'a'", validate.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_broken_manifest_fails_with_code_file_and_line_on_stderr()
    {
        using var ws = SampleWorkspaces.Chain();
        ws.Write("b/b.lineage.json", """
            {
              "schemaVersion": 1,
              "id": "b",
              "checkpoint": "b.safetensors",
              "architecture": { "kind": "mlp", "inputs": 4, "hidden": [8], "classes": 4 },
              "parents": [ { "id": "a", "relation": "fine-tune" } ],
              "data": [ { "dataset": "toy", "labels": [2] } ]
            }
            """);

        var run = await CliRun.InvokeAsync(ws.Root, "validate");

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.ErrorLines, l => l.Contains("FUL1011", StringComparison.Ordinal));
        Assert.StartsWith("b/b.lineage.json(6,", line, StringComparison.Ordinal);
        Assert.Contains(": error FUL1011: ", line, StringComparison.Ordinal);
        Assert.Contains("fine-tune", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
        // Counted in words, singular for one (QA: "1 error(s) in 1 file(s)").
        Assert.Contains("1 error in 1 file.", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("headMargin", "1e308")]
    [InlineData("headTailMargin", "1e30")]
    [InlineData("sampleTolerance", "1e300")]
    [InlineData("headTolerance", "2")]
    public async Task A_margin_too_large_to_mean_anything_is_refused_before_a_run_overflows_on_it(string name, string value)
    {
        // 1e308 logits of margin made the head shift infinite: run failed on the report with a serializer's message.
        using var ws = SampleWorkspaces.Chain();
        ws.Write("unlearn.json", $$"""
            {
              "schemaVersion": 1,
              "parameters": { "{{name}}": {{value}} }
            }
            """);

        var run = await CliRun.InvokeAsync(ws.Root, "validate");

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.ErrorLines, l => l.StartsWith("unlearn.json(3,", StringComparison.Ordinal));
        Assert.Contains("error FUL4102", line, StringComparison.Ordinal);
        Assert.Contains("a number from 0 to ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Method_settings_a_run_would_refuse_are_listed_by_validate_at_their_lines()
    {
        using var ws = SampleWorkspaces.Chain();
        ws.Write("unlearn.json", """
            {
              "schemaVersion": 1,
              "parameters": { "alpha": -1 }
            }
            """);
        ws.Write("typo.removal.json", """
            {
              "schemaVersion": 1, "id": "typo",
              "forget": { "labels": [1] },
              "method": "fiun-fast"
            }
            """);
        ws.Write("bad.removal.json", """
            {
              "schemaVersion": 1, "id": "bad",
              "forget": {
                "labels": [
                  1,
                  12
                ]
              },
              "parameters": {
                "layers": "first",
                "estimatr": "exact"
              }
            }
            """);

        var run = await CliRun.InvokeAsync(ws.Root, "validate");
        var plan = await CliRun.InvokeAsync(ws.Root, "plan", "forget-1", "--check", "--method", "bogus");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(run.ErrorLines, l => l.StartsWith("typo.removal.json(4,13): error FUL1024: Unknown method 'fiun-fast'", StringComparison.Ordinal));
        Assert.Contains(run.ErrorLines, l => l.StartsWith("bad.removal.json(6,7): error FUL1016: Label 12", StringComparison.Ordinal));
        Assert.Contains(run.ErrorLines, l => l.StartsWith("bad.removal.json(10,15): error FUL4102:", StringComparison.Ordinal) && l.Contains("layers", StringComparison.Ordinal));
        Assert.Contains(run.ErrorLines, l => l.StartsWith("bad.removal.json(11,17): error FUL4102:", StringComparison.Ordinal) && l.Contains("estimatr", StringComparison.Ordinal));
        Assert.Single(run.ErrorLines, l => l.StartsWith("unlearn.json(3,28): error FUL4102:", StringComparison.Ordinal));
        Assert.Equal(2, plan.ExitCode);
        Assert.DoesNotContain("   at ", run.Error + plan.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_problem_is_listed_not_just_the_first()
    {
        using var ws = SampleWorkspaces.Chain();
        ws.Write("c/c.lineage.json", """
            { "schemaVersion": 1, "id": "c", "checkpoint": "c.safetensors",
              "architecture": { "kind": "mlp", "inputs": 4, "hidden": [8], "classes": 4 },
              "parents": [ { "id": "nope", "relation": "finetune" } ],
              "data": [ { "dataset": "toy", "labels": [9] } ] }
            """);
        ws.Write("future.removal.json", "{ \"schemaVersion\": 2, \"id\": \"x\", \"forget\": { \"labels\": [1] } }");
        ws.Write("typo.removal.json", "{ \"schemaVersion\": 1, \"id\": \"y\", \"forget\": { \"labels\": [1] }, \"reasn\": \"z\" }");

        var run = await CliRun.InvokeAsync(ws.Root, "validate", "--json");

        Assert.Equal(2, run.ExitCode);
        var codes = run.Json["diagnostics"]!.Select(d => (string)d["code"]!).ToHashSet();
        Assert.Superset(new HashSet<string> { "FUL2001", "FUL1016", "FUL1008", "FUL1005" }, codes);
        Assert.False((bool)run.Json["valid"]!);
    }

    [Fact]
    public async Task Json_output_keeps_stdout_to_one_document()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "validate", "--workspace", "samples/digits", "--json");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(1, (int)run.Json["schemaVersion"]!);
        Assert.True((bool)run.Json["valid"]!);
        Assert.Equal(7, (int)run.Json["models"]!);
        Assert.Empty(run.Json["diagnostics"]!);
    }

    [Fact]
    public async Task In_GitHub_Actions_a_request_that_affects_no_model_is_a_notice_at_its_manifest()
    {
        using var ws = SampleWorkspaces.Chain(); // forget-3: no model trains on label 3
        var env = new Dictionary<string, string> { ["GITHUB_ACTIONS"] = "true", ["GITHUB_WORKSPACE"] = ws.Root };

        var plan = await CliRun.InvokeAsync(ws.Root, env, "plan", "forget-3");
        var outside = await CliRun.InvokeAsync(ws.Root, "plan", "forget-3");

        Assert.Contains(plan.ErrorLines, l => l.StartsWith("::notice file=forget-3.removal.json,line=1,", StringComparison.Ordinal) && l.Contains("title=FUL2012::", StringComparison.Ordinal));
        Assert.DoesNotContain("::notice", outside.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_GitHub_Actions_errors_also_become_annotations_on_stderr()
    {
        using var ws = SampleWorkspaces.Chain();
        ws.Write("b/b.lineage.json", "{ \"schemaVersion\": 1, \"id\": \"b\" ");
        var env = new Dictionary<string, string> { ["GITHUB_ACTIONS"] = "true", ["GITHUB_WORKSPACE"] = ws.Root };

        var run = await CliRun.InvokeAsync(ws.Root, env, "validate", "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(run.ErrorLines, l => l.StartsWith("::error file=b/b.lineage.json,line=1,", StringComparison.Ordinal) && l.Contains("title=FUL1001::", StringComparison.Ordinal));
        Assert.DoesNotContain("::error", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_workspace_is_a_usage_error()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "validate", "--workspace", "no/such/folder");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error FUL3004:", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_option_is_a_usage_error_with_exit_code_2()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "validate", "--frobnicate");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error FUL3005:", run.Error, StringComparison.Ordinal);
        Assert.Contains("--frobnicate", run.Error, StringComparison.Ordinal);
    }
}
