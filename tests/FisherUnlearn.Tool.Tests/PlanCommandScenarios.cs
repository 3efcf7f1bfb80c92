using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

public sealed class PlanCommandScenarios
{
    [Fact]
    public async Task Forgetting_digit_3_in_the_sample_lists_roots_and_descendants_with_reasons()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "plan", "forget-3", "--workspace", "samples/digits");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("6 affected (1 root, 5 descendants), 1 unaffected", run.Out, StringComparison.Ordinal);
        Assert.Contains("MODEL", run.Out, StringComparison.Ordinal);
        Assert.Matches(@"digits-base\s+root\s+\S", run.Out);
        Assert.Matches(@"digits-plus-6\s+descendant\s+.*digits-base", run.Out);
        Assert.Contains("Unaffected: clinic-north", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_plan_follows_the_documented_contract()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "plan", "forget-3", "--workspace", "samples/digits", "--json");

        Assert.Equal(0, run.ExitCode);
        var doc = run.Json;
        Assert.Equal(1, (int)doc["schemaVersion"]!);
        Assert.Equal("forget-3", (string)doc["removal"]!);
        Assert.Equal(["digits-base"], doc["roots"]!.Select(t => (string)t!));
        Assert.Equal(["clinic-north"], doc["unaffected"]!.Select(t => (string)t!));
        var grandchild = doc["affected"]!.Single(a => (string)a["id"]! == "digits-plus-6");
        Assert.Equal("descendant", (string)grandchild["role"]!);
        Assert.Equal(["digits-base"], grandchild["upstreamRoots"]!.Select(t => (string)t!));
        Assert.Equal(["digits-base", "digits-plus-5", "digits-plus-6"], grandchild["path"]!.Select(t => (string)t!));
        var student = doc["affected"]!.Single(a => (string)a["id"]! == "digits-student");
        Assert.Equal("descendant", (string)student["role"]!);
        Assert.Equal(["digits-base", "digits-plus-5", "digits-plus-6", "digits-federated", "digits-student"], student["path"]!.Select(t => (string)t!));
        Assert.Equal(["digits-base"], (doc["affected"]!.First() as Newtonsoft.Json.Linq.JObject)!["path"]!.Select(t => (string)t!));
    }

    [Fact]
    public async Task A_descendant_of_several_roots_lists_them_all()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "plan", "forget-clinic-8", "--workspace", "samples/digits", "--json");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["clinic-north", "digits-federated", "digits-student"], run.Json["roots"]!.Select(t => (string)t!));
        var student = run.Json["affected"]!.Single(a => (string)a["id"]! == "digits-student");
        Assert.Equal(["clinic-north", "digits-federated", "digits-student"], student["upstreamRoots"]!.Select(t => (string)t!));
    }

    [Fact]
    public async Task Explain_says_why_a_model_is_affected()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "plan", "forget-3", "--workspace", "samples/digits", "--explain", "digits-head-7");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("digits-base", run.Out, StringComparison.Ordinal);
        Assert.Contains("transfer", run.Out, StringComparison.Ordinal);
        Assert.Contains("Wave: 2 of 5 (the work order's numbering", run.Out, StringComparison.Ordinal); // as "Work order: 2. digits-head-7, ..."
    }

    [Fact]
    public async Task A_matrix_of_fewer_than_one_or_more_than_256_jobs_is_a_usage_error_and_an_empty_plan_gives_an_empty_matrix()
    {
        using var ws = SampleWorkspaces.Chain();

        var zero = await CliRun.InvokeAsync(ws.Root, "plan", "forget-1", "--matrix", "--max-jobs", "0");
        var tooMany = await CliRun.InvokeAsync(ws.Root, "plan", "forget-1", "--matrix", "--max-jobs", "257");
        var empty = await CliRun.InvokeAsync(ws.Root, "plan", "forget-3", "--matrix");

        Assert.Equal(2, zero.ExitCode);
        Assert.Contains("--max-jobs must be between 1 and 256", zero.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("refuses", zero.Error, StringComparison.Ordinal);
        Assert.Equal(2, tooMany.ExitCode);
        Assert.Contains("GitHub Actions refuses", tooMany.Error, StringComparison.Ordinal);
        Assert.Equal(0, empty.ExitCode);
        Assert.Equal("{\"include\":[]}", empty.Out.Trim());
    }

    [Theory]
    [InlineData("--matrix --check", "--matrix and --check choose different outputs")]
    [InlineData("--check --explain digits-base", "--check and --explain choose different outputs")]
    [InlineData("--matrix --explain digits-base", "--matrix and --explain choose different outputs")]
    [InlineData("--out elsewhere", "--out applies only with --check")]
    [InlineData("--matrix --method ssd", "--method applies only with --check")]
    [InlineData("--method ssd --out x", "--method and --out apply only with --check")]
    [InlineData("--max-jobs 3", "--max-jobs applies only with --matrix")]
    public async Task Options_plan_would_ignore_are_a_usage_error_so_a_CI_gate_cannot_pass_by_mistake(string options, string message)
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, ["plan", "forget-3", "--workspace", "samples/digits", .. options.Split(' ')]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error FUL3005: ", run.Error, StringComparison.Ordinal);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
        Assert.Empty(run.Out);
    }

    [Fact]
    public async Task Explain_with_json_carries_the_explanation_in_the_document()
    {
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "plan", "forget-3", "--workspace", "samples/digits", "--explain", "digits-plus-6", "--json");
        var text = await CliRun.InvokeAsync(RepoPaths.Root, "plan", "forget-3", "--workspace", "samples/digits", "--explain", "digits-plus-6");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("digits-plus-6", (string)run.Json["explanation"]!["model"]!);
        Assert.Equal(text.Out.TrimEnd(), ((string)run.Json["explanation"]!["text"]!).TrimEnd());
        Assert.NotNull(run.Json["affected"]);
    }

    [Fact]
    public async Task A_request_that_touches_nothing_exits_0_and_says_so()
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, "plan", "forget-3");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("nothing to do", run.Out, StringComparison.Ordinal);
        Assert.Contains("FUL2012", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_removal_can_be_named_by_its_manifest_path()
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, "plan", "forget-1.removal.json", "--json");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["a", "b"], run.Json["affected"]!.Select(a => (string)a["id"]!));
    }

    [Fact]
    public async Task An_unknown_removal_is_exit_2_and_lists_the_known_ones()
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, "plan", "forget-4");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error FUL2006:", run.Error, StringComparison.Ordinal);
        Assert.Contains("forget-1", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_removal_path_the_workspace_did_not_load_says_why()
    {
        using var ws = SampleWorkspaces.Chain();
        using var elsewhere = new FisherUnlearn.Testing.TempWorkspace();
        var outside = elsewhere.Write("forget-1.removal.json", ws.ReadText("forget-1.removal.json"));
        ws.Write("bin/forget-1.removal.json", ws.ReadText("forget-1.removal.json"));
        ws.Write("requests/forget-1.json", ws.ReadText("forget-1.removal.json"));
        ws.Write("Forget-1.REMOVAL.json", ws.ReadText("forget-1.removal.json").Replace("forget-1", "forget-upper", StringComparison.Ordinal));
        ws.Write("nested/unlearn.json", "{ }");
        ws.Write("nested/forget-1.removal.json", ws.ReadText("forget-1.removal.json").Replace("forget-1", "forget-nested", StringComparison.Ordinal));

        var outsider = await CliRun.InvokeAsync(ws.Root, "plan", outside);
        var missing = await CliRun.InvokeAsync(ws.Root, "plan", "requests/forget-9.removal.json");
        var excluded = await CliRun.InvokeAsync(ws.Root, "plan", "bin/forget-1.removal.json");
        var misnamed = await CliRun.InvokeAsync(ws.Root, "plan", "requests/forget-1.json");
        var upper = await CliRun.InvokeAsync(ws.Root, "plan", "Forget-1.REMOVAL.json");
        var nested = await CliRun.InvokeAsync(ws.Root, "plan", "nested/forget-1.removal.json");
        var folder = await CliRun.InvokeAsync(ws.Root, "plan", "requests");

        Assert.All([outsider, missing, excluded, misnamed, upper, nested, folder], run =>
        {
            Assert.Equal(2, run.ExitCode);
            Assert.Contains("error FUL2006:", run.Error, StringComparison.Ordinal);
        });
        Assert.Contains("lies outside the workspace (the current folder)", outsider.Error, StringComparison.Ordinal);
        Assert.Contains("move the file into it, or pass the --workspace that holds it", outsider.Error, StringComparison.Ordinal);
        Assert.Contains("No file is at 'requests/forget-9.removal.json': check the path", missing.Error, StringComparison.Ordinal);
        Assert.Contains("not among its manifests: a bin/ folder is never searched", excluded.Error, StringComparison.Ordinal);
        Assert.Contains("its name must end in .removal.json", misnamed.Error, StringComparison.Ordinal);
        Assert.Contains("its suffix must be '.removal.json' in lower case", upper.Error, StringComparison.Ordinal);
        Assert.Contains("'nested' holds an unlearn.json, a workspace of its own", nested.Error, StringComparison.Ordinal);
        Assert.Contains("'requests' is a folder: name a .removal.json file in it, or the request's id", folder.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explaining_an_unknown_model_is_exit_2()
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, "plan", "forget-1", "--explain", "bb");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error FUL2007:", run.Error, StringComparison.Ordinal);
        Assert.Contains("did you mean 'b'", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_refuses_a_workspace_with_manifest_errors()
    {
        using var ws = SampleWorkspaces.Chain();
        ws.Write("a/a.lineage.json", "{ \"schemaVersion\": 1 }");

        var run = await CliRun.InvokeAsync(ws.Root, "plan", "forget-1", "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("plan", (string?)run.Json["command"]); // stdout: the failure document, not a plan
        Assert.Null(run.Json["affected"]);
        Assert.Contains("FUL1007", run.Error, StringComparison.Ordinal);
    }
}
