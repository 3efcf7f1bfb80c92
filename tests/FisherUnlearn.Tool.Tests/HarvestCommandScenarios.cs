using System.Globalization;
using System.Text;
using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

public sealed class HarvestCommandScenarios
{
    [Fact]
    public async Task The_first_harvest_computes_every_model_and_the_second_finds_them_cached()
    {
        using var ws = Workspace();

        var first = await CliRun.InvokeAsync(ws.Root, "harvest", "--json");
        var second = await CliRun.InvokeAsync(ws.Root, "harvest", "--json");

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(1, (int)first.Json["schemaVersion"]!);
        Assert.Equal(["a", "b"], first.Json["models"]!.Select(m => (string)m["id"]!));
        Assert.All(first.Json["models"]!, m => Assert.False((bool)m["cached"]!));
        Assert.All(first.Json["models"]!, m => Assert.Equal(4, (int)m["labels"]!));
        Assert.All(first.Json["models"]!, m => Assert.True((double)m["seconds"]! >= 0));
        Assert.True((double)first.Json["seconds"]! >= 0);
        Assert.Contains(first.ErrorLines, l => l.StartsWith("dotnet-unlearn: harvested a: 4 labels, ", StringComparison.Ordinal) && l.EndsWith(" s", StringComparison.Ordinal));
        Assert.True(ws.Exists("artifacts/unlearn/harvest/b/index.json"));
        // Forget plans: the fiun calibration of each known label and pair, made ahead so such requests need no data.
        Assert.All(first.Json["models"]!, m => Assert.False((bool)m["plans"]!["cached"]!));
        Assert.Equal([2, 3], first.Json["models"]!.Select(m => (int)m["plans"]!["labels"]!)); // a knows 0, 1; b also 2.
        Assert.Equal([1, 3], first.Json["models"]!.Select(m => (int)m["plans"]!["labelSets"]!)); // their pairs
        Assert.Equal([3, 6], first.Json["models"]!.Select(m => (int)m["plans"]!["calibrated"]!));
        Assert.All(first.Json["models"]!, m => Assert.True(ws.Exists((string)m["plans"]!["files"]![0]!)));
        Assert.Contains(first.ErrorLines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^dotnet-unlearn: planned a: forget plans for 2 labels and 1 label set, [0-9]+\.[0-9] s$"));

        Assert.Equal(0, second.ExitCode);
        Assert.All(second.Json["models"]!, m => Assert.True((bool)m["cached"]!));
        Assert.Contains(second.ErrorLines, l => l.StartsWith("dotnet-unlearn: cached b: 4 labels", StringComparison.Ordinal));
        Assert.Equal(first.Json["models"]!.Select(m => (string)m["key"]!), second.Json["models"]!.Select(m => (string)m["key"]!));
        Assert.All(second.Json["models"]!, m => Assert.True((bool)m["plans"]!["cached"]!));
        Assert.All(second.Json["models"]!, m => Assert.Equal(0, (int)m["plans"]!["calibrated"]!));

        var forced = await CliRun.InvokeAsync(ws.Root, "harvest", "--force", "--json");
        Assert.Equal(0, forced.ExitCode);
        Assert.All(forced.Json["models"]!, m => Assert.False((bool)m["cached"]!));
        Assert.All(forced.Json["models"]!, m => Assert.False((bool)m["plans"]!["cached"]!));
    }

    [Fact]
    public async Task A_checkpoint_older_than_its_recipe_is_harvested_as_it_is_with_the_warning_run_gives()
    {
        using var ws = DigitsChain.Create();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "train")).ExitCode);
        var fresh = await CliRun.InvokeAsync(ws.Root, "harvest", "--no-plans");
        ws.Write("b/b.lineage.json", ws.ReadText("b/b.lineage.json").Replace("\"epochs\": 1", "\"epochs\": 2", StringComparison.Ordinal));

        var changed = await CliRun.InvokeAsync(ws.Root, "harvest", "--no-plans", "--json");

        Assert.True(fresh.ExitCode == 0, fresh.Error);
        Assert.DoesNotContain("FUL4069", fresh.Error, StringComparison.Ordinal);
        Assert.True(changed.ExitCode == 0, changed.Error);
        Assert.Contains("warning FUL4069: The checkpoint of model 'b' was made from other inputs than its manifest now names", changed.Error, StringComparison.Ordinal);
        Assert.Contains("its harvest and forget plans", changed.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("model 'a' was made", changed.Error, StringComparison.Ordinal);
        Assert.Equal(["a", "b"], changed.Json["models"]!.Select(m => (string)m["id"]!)); // harvested all the same

        // Only the models harvested are named.
        var onlyA = await CliRun.InvokeAsync(ws.Root, "harvest", "--no-plans", "--model", "a");
        Assert.DoesNotContain("FUL4069", onlyA.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_live_table_a_long_planning_says_how_far_it_got_unless_asked_for_quiet()
    {
        using var ws = Workspace();
        FisherUnlearn.Tool.Commands.HarvestCommand.HeartbeatInterval.Value = TimeSpan.Zero; // every plan, where a real run waits 30 s between lines

        var logged = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "b", "--no-progress");
        var quiet = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "b", "--no-progress", "--force", "--verbosity", "quiet");

        Assert.Equal(0, logged.ExitCode);
        Assert.Matches(@"b: forget plans 1 of \d+ calibrated \(\d+ s since the model started\)", logged.Error);
        // Not the last: the model's own line says it is done.
        var total = System.Text.RegularExpressions.Regex.Match(logged.Error, @"forget plans 1 of (\d+)").Groups[1].Value;
        Assert.DoesNotContain($"forget plans {total} of {total}", logged.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("forget plans 1 of", quiet.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_plans_skips_them_and_a_harvest_the_method_would_not_read_gets_none()
    {
        using var ws = Workspace();

        var skipped = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "a", "--no-plans", "--json");
        var otherCap = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "b", "--max-samples", "7", "--json");

        Assert.Equal(0, skipped.ExitCode);
        Assert.Equal(0, otherCap.ExitCode);
        Assert.Null(Assert.Single(skipped.Json["models"]!)["plans"]!.Type == Newtonsoft.Json.Linq.JTokenType.Null ? null : "plans");
        Assert.Null(Assert.Single(otherCap.Json["models"]!)["plans"]!.Type == Newtonsoft.Json.Linq.JTokenType.Null ? null : "plans");
        Assert.False(ws.Exists("artifacts/unlearn/harvest/a/plans"));
        Assert.False(ws.Exists("artifacts/unlearn/harvest/b/plans"));
    }

    [Fact]
    public async Task Plan_labels_1_plans_single_labels_and_a_wider_harvest_later_adds_only_the_pairs()
    {
        using var ws = Workspace();

        var singles = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "b", "--plan-labels", "1", "--json");
        var pairs = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "b", "--json");
        var budget = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "b", "--max-plans", "5", "--force", "--json");
        var bad = await CliRun.InvokeAsync(ws.Root, "harvest", "--plan-labels", "0");
        var tooMany = await CliRun.InvokeAsync(ws.Root, "harvest", "--plan-labels", "9");

        Assert.Equal(0, singles.ExitCode);
        var first = Assert.Single(singles.Json["models"]!)["plans"]!;
        Assert.Equal((3, 0, 3), ((int)first["labels"]!, (int)first["labelSets"]!, (int)first["calibrated"]!));
        var second = Assert.Single(pairs.Json["models"]!)["plans"]!;
        Assert.Equal((3, 3, 3, false), ((int)second["labels"]!, (int)second["labelSets"]!, (int)second["calibrated"]!, (bool)second["cached"]!));
        Assert.Contains(pairs.ErrorLines, l => l.StartsWith("dotnet-unlearn: planned b: forget plans for 3 labels and 3 label sets, ", StringComparison.Ordinal));
        // 3 labels + 3 pairs > 5: the forced harvest calibrates the labels again, and keeps the pairs stored before.
        var third = Assert.Single(budget.Json["models"]!)["plans"]!;
        Assert.Equal((3, 3, 3), ((int)third["labels"]!, (int)third["labelSets"]!, (int)third["calibrated"]!));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains(bad.ErrorLines, l => l.Contains("--plan-labels must be at least 1, not 0", StringComparison.Ordinal));
        Assert.Equal(2, tooMany.ExitCode); // as planLabels in unlearn.json: 1..8
        Assert.Contains(tooMany.ErrorLines, l => l.Contains("--plan-labels must be at most 8, not 9", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Plan_coverage_comes_from_unlearn_json_unless_the_command_line_says_otherwise()
    {
        using var ws = Workspace();
        ws.Write("unlearn.json", """{ "planLabels": 1 }""");

        var fromSettings = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "b", "--json");
        var fromCommandLine = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "b", "--plan-labels", "2", "--json");

        var first = Assert.Single(fromSettings.Json["models"]!)["plans"]!;
        Assert.Equal((3, 0), ((int)first["labels"]!, (int)first["labelSets"]!));
        var second = Assert.Single(fromCommandLine.Json["models"]!)["plans"]!;
        Assert.Equal((3, 3, 3), ((int)second["labels"]!, (int)second["labelSets"]!, (int)second["calibrated"]!));
    }

    [Fact]
    public async Task A_harvest_file_whose_data_a_crash_zeroed_is_computed_again_by_the_next_harvest()
    {
        using var ws = Workspace();
        var first = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "a", "--no-plans", "--json");
        var file = ws.PathOf((string)Assert.Single(first.Json["models"]!)["file"]!);
        var bytes = File.ReadAllBytes(file);
        var torn = bytes.ToArray();
        var headerLength = 8 + (int)BitConverter.ToUInt64(torn, 0);
        Array.Clear(torn, headerLength, torn.Length - headerLength);
        File.WriteAllBytes(file, torn);

        var second = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "a", "--no-plans", "--json");

        Assert.Equal(0, second.ExitCode);
        Assert.False((bool)Assert.Single(second.Json["models"]!)["cached"]!);
        Assert.Equal(bytes, File.ReadAllBytes(file));
    }

    [Fact]
    public async Task At_a_terminal_a_live_table_shows_each_model_and_the_lines_follow_it()
    {
        using var ws = Workspace();

        var run = await CliRun.InvokeInTerminalAsync(ws.Root, "harvest");

        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"a\s*│\s*✓ done\s*│\s*4 labels; 3 plans\s*│\s*[0-9.]+ s", run.LastLiveFrame); // a knows 0, 1: two labels and their pair
        Assert.Matches(@"b\s*│\s*✓ done\s*│\s*4 labels; 6 plans", run.LastLiveFrame);
        var after = run.LinesAfterLiveTable.ToList();
        Assert.Contains(after, l => l.StartsWith("dotnet-unlearn: planned a: forget plans for 2 labels and 1 label set, ", StringComparison.Ordinal));
        Assert.StartsWith("dotnet-unlearn: 2 models: Fisher computed for 2, cached for 0; forget plans calibrated for 2, cached for 0; 0 failed", after[^1], StringComparison.Ordinal);

        // Again: everything cached, and the summary says so for both parts.
        var again = await CliRun.InvokeAsync(ws.Root, "harvest");
        Assert.StartsWith("dotnet-unlearn: 2 models: Fisher computed for 0, cached for 2; forget plans calibrated for 0, cached for 2; 0 failed", again.ErrorLines.Last(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_checkpoint_is_FUL4020_at_its_manifest_and_the_other_models_are_still_harvested()
    {
        using var ws = Workspace();
        ws.Delete("b/bin/b.safetensors");

        var run = await CliRun.InvokeAsync(ws.Root, "harvest", "--json");

        Assert.Equal(2, run.ExitCode);
        var error = Assert.Single(run.ErrorLines, l => l.Contains("FUL4020", StringComparison.Ordinal));
        Assert.StartsWith("b/b.lineage.json(1,", error, StringComparison.Ordinal); // at the "checkpoint" field, as run says it
        Assert.DoesNotContain("b/b.lineage.json(1,1)", error, StringComparison.Ordinal);
        Assert.Contains("dotnet unlearn train", error, StringComparison.Ordinal);
        Assert.Equal(["a"], run.Json["models"]!.Select(m => (string)m["id"]!));
        Assert.Equal("FUL4020", (string)run.Json["failed"]![0]!["code"]!);
        var failure = run.Json["failed"]![0]!["error"]!; // as run --json and train --json give a failed model's error
        Assert.Equal("FUL4020", (string?)failure["code"]);
        Assert.Equal("b/b.lineage.json", (string?)failure["file"]);
        Assert.Contains("does not exist", (string?)failure["message"], StringComparison.Ordinal);

        var live = await CliRun.InvokeInTerminalAsync(ws.Root, "harvest");
        Assert.Equal(2, live.ExitCode);
        Assert.Matches(@"a\s*│\s*✓ done", live.LastLiveFrame);
        Assert.Matches(@"b\s*│\s*✗ failed \(FUL4020\)", live.LastLiveFrame);
        Assert.Contains(live.LinesAfterLiveTable, l => l.StartsWith("b/b.lineage.json", StringComparison.Ordinal) && l.Contains("FUL4020", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_cache_file_that_cannot_be_written_is_FUL4084_at_it_and_a_damaged_index_is_rebuilt()
    {
        using var ws = Workspace();
        var first = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "a", "--no-plans", "--json");
        var file = (string)first.Json["models"]![0]!["file"]!;
        File.Delete(ws.PathOf(file));
        Directory.CreateDirectory(ws.PathOf(file)); // a folder where the harvest file goes
        ws.Write("artifacts/unlearn/harvest/a/index.json", "{ not json");

        var blocked = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "a", "--no-plans", "--json");

        Assert.Equal(2, blocked.ExitCode);
        var error = Assert.Single(blocked.ErrorLines, l => l.Contains("FUL4084", StringComparison.Ordinal));
        Assert.StartsWith($"{file}: error FUL4084: The Fisher harvest cache '", error, StringComparison.Ordinal);
        Assert.Contains("It is a cache: make its folder writable", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Check its checkpoint and data", blocked.Error, StringComparison.Ordinal);

        Directory.Delete(ws.PathOf(file));
        var again = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "a", "--no-plans", "--json");

        Assert.Equal(0, again.ExitCode);
        Assert.Contains((string)first.Json["models"]![0]!["key"]!, ws.ReadText("artifacts/unlearn/harvest/a/index.json"), StringComparison.Ordinal);

        // An index that cannot be listed again is no "cached" either (QA: a folder in its place passed, and an erasure
        // failed later, since the index records the data's hashes): FUL4084 at it.
        ws.Delete("artifacts/unlearn/harvest/a/index.json");
        ws.CreateDirectory("artifacts/unlearn/harvest/a/index.json");
        var noIndex = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "a", "--no-plans", "--json");

        Assert.Equal(2, noIndex.ExitCode);
        var indexError = Assert.Single(noIndex.ErrorLines, l => l.Contains("FUL4084", StringComparison.Ordinal));
        Assert.StartsWith("artifacts/unlearn/harvest/a/index.json: error FUL4084: The Fisher harvest cache '", indexError, StringComparison.Ordinal);
        Assert.DoesNotContain(" : '", indexError, StringComparison.Ordinal); // .NET's own "Is a directory : '<path>'" says the path twice
    }

    [Fact]
    public async Task One_model_with_another_estimator_and_force()
    {
        using var ws = Workspace();
        await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "a", "--estimator", "batch", "--batch-size", "4");

        var run = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "a", "--estimator", "batch", "--batch-size", "4", "--force", "--threads", "1", "--json");

        Assert.Equal(0, run.ExitCode);
        var model = Assert.Single(run.Json["models"]!);
        Assert.Equal("a", (string)model["id"]!);
        Assert.False((bool)model["cached"]!);
        Assert.Equal("batch", (string)model["estimator"]!);
        Assert.False(ws.Exists("artifacts/unlearn/harvest/b"));
    }

    [Fact]
    public async Task Models_harvested_at_once_give_the_same_files_as_one_after_the_other()
    {
        using var ws = Workspace();
        Dictionary<string, byte[]> Harvests() => Directory.GetFiles(ws.PathOf("artifacts/unlearn/harvest"), "*.safetensors", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(ws.Root, f), File.ReadAllBytes);
        // The chosen setting of every plan, without its timing.
        Dictionary<string, string> Plans() => Directory.GetFiles(ws.PathOf("artifacts/unlearn/harvest"), "*.json", SearchOption.AllDirectories)
            .Where(f => f.Contains($"{Path.DirectorySeparatorChar}plans{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(ws.Root, f), f => string.Join(';', Newtonsoft.Json.Linq.JObject.Parse(File.ReadAllText(f))["plans"]!
                .Select(l => $"{string.Join(',', l["labels"]!)}:{l["alpha"]}/{l["lambda"]}/{l["headShift"]}")));

        var sequential = await CliRun.InvokeAsync(ws.Root, "harvest", "--parallel", "1", "--json");
        var (harvests, plans) = (Harvests(), Plans());
        var parallel = await CliRun.InvokeAsync(ws.Root, "harvest", "--parallel", "2", "--force", "--json");

        Assert.Equal(0, sequential.ExitCode);
        Assert.Equal(0, parallel.ExitCode);
        Assert.Equal(["a", "b"], parallel.Json["models"]!.Select(m => (string)m["id"]!)); // Topological order, whichever finished first.
        Assert.All(parallel.Json["models"]!, m => Assert.False((bool)m["cached"]!));
        Assert.Equal(2, harvests.Count);
        Assert.Equal(harvests, Harvests());
        Assert.NotEmpty(plans);
        Assert.Equal(plans, Plans());
        // Each model's lines stay together.
        var lines = parallel.ErrorLines.Where(l => l.StartsWith("dotnet-unlearn: harvested ", StringComparison.Ordinal) || l.StartsWith("dotnet-unlearn: planned ", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, lines.Count);
        Assert.Equal(lines[0].Split(' ')[2], lines[1].Split(' ')[2]);
    }

    [Theory]
    [InlineData("--model", "c")]
    [InlineData("--estimator", "fishy")]
    [InlineData("--threads", "0")]
    [InlineData("--parallel", "0")]
    [InlineData("--max-plans", "0")]
    public async Task Bad_arguments_are_exit_2(string option, string value)
    {
        using var ws = Workspace();

        var run = await CliRun.InvokeAsync(ws.Root, "harvest", option, value);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(run.ErrorLines, l => l.Contains("error FUL", StringComparison.Ordinal));
        Assert.False(ws.Exists("artifacts/unlearn/harvest"));
    }

    [Theory]
    [InlineData("--estimator", "tempered", "--temperature", "0")]
    [InlineData("--estimator", "tempered", "--temperature", "1e-30")] // found in QA: infinite diagonals, blamed on the checkpoint
    [InlineData("--estimator", "tempered", "--temperature", "NaN")]
    [InlineData("--estimator", "exact", "--temperature", "2")]
    [InlineData("--temperature", "2", "--model", "a")] // The workspace's estimator is exact.
    public async Task A_temperature_out_of_range_or_for_an_estimator_without_one_is_exit_2(string option, string value, string other, string otherValue)
    {
        using var ws = Workspace();

        var run = await CliRun.InvokeAsync(ws.Root, "harvest", option, value, other, otherValue);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(run.ErrorLines, l => l.Contains("error FUL3005", StringComparison.Ordinal) && l.Contains("--temperature", StringComparison.Ordinal));
        Assert.False(ws.Exists("artifacts/unlearn/harvest"));
    }

    [Theory]
    [InlineData("--batch-size applies to the batch and labelfree estimators only, and this harvest uses 'exact'", "--batch-size", "7")]
    [InlineData("--batch-size applies to the batch and labelfree estimators only, and this harvest uses 'tempered'", "--estimator", "tempered", "--batch-size", "7")]
    [InlineData("--no-plans makes no forget plans, so --plan-labels would be ignored", "--no-plans", "--plan-labels", "1")]
    [InlineData("--no-plans makes no forget plans, so --max-plans would be ignored", "--max-plans", "5", "--no-plans")]
    public async Task An_option_the_harvest_would_ignore_is_a_usage_error_not_silence(string message, params string[] args)
    {
        using var ws = Workspace();

        var run = await CliRun.InvokeAsync(ws.Root, ["harvest", .. args]);
        var batch = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "a", "--no-plans", "--estimator", "batch", "--batch-size", "7");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(run.ErrorLines, l => l.Contains("error FUL3005: " + message, StringComparison.Ordinal));
        Assert.True(batch.ExitCode == 0, batch.Error); // where it applies, it is taken
    }

    [Fact]
    public async Task A_tempered_harvest_records_its_temperature()
    {
        using var ws = Workspace();

        var run = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "a", "--estimator", "tempered", "--temperature", "3", "--no-plans", "--json");

        Assert.True(run.ExitCode == 0, run.Error);
        var model = Assert.Single(run.Json["models"]!);
        Assert.Equal("tempered", (string)model["estimator"]!);
        Assert.Equal(3.0, (double)model["temperature"]!);
    }

    // The chain of SampleWorkspaces.Chain (dataset 'toy', a (labels 0, 1) -> b (label 2)) with 40 csv train rows and seeded checkpoints.
    [Fact]
    public async Task Without_options_the_harvest_uses_the_workspaces_estimator_and_sample_count_and_plans_for_them()
    {
        using var ws = Workspace();
        ws.Write("unlearn.json", """{ "parameters": { "estimator": "batch", "maxSamplesPerLabel": 5 } }""");

        var harvest = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "a", "--plan-labels", "1", "--json");

        Assert.True(harvest.ExitCode == 0, harvest.Error);
        var model = Assert.Single(harvest.Json["models"]!);
        Assert.Equal("batch", (string?)model["estimator"]);
        Assert.NotEqual(Newtonsoft.Json.Linq.JTokenType.Null, model["plans"]!.Type); // the plans a run of this workspace looks for
        Assert.True((int)model["samples"]! <= 5 * 4, $"{model["samples"]} samples for 4 labels at 5 each");
    }

    [Fact]
    public async Task A_model_whose_plans_fail_is_listed_with_its_fisher_harvest_and_as_failed()
    {
        using var ws = Workspace();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "b", "--no-plans")).ExitCode);
        ws.Write("artifacts/unlearn/harvest/b/plans", "a file where the plans folder goes");

        var run = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "b", "--plan-labels", "1", "--json");

        Assert.Equal(2, run.ExitCode);
        var model = Assert.Single(run.Json["models"]!);
        Assert.Equal(("b", true), ((string)model["id"]!, (bool)model["cached"]!));
        Assert.Equal(Newtonsoft.Json.Linq.JTokenType.Null, model["plans"]!.Type);
        Assert.Equal("FUL4084", (string)Assert.Single(run.Json["failed"]!)["code"]!);
        Assert.Contains(run.ErrorLines, l => l.Contains("1 model: Fisher computed for 0, cached for 1;", StringComparison.Ordinal) && l.Contains("1 failed", StringComparison.Ordinal));
        Assert.Contains(run.ErrorLines, l => l.StartsWith("artifacts/unlearn/harvest/b/plans: error FUL4084: The Fisher harvest cache 'artifacts/unlearn/harvest/b/plans' cannot be written: it is a file where the cache needs a folder.", StringComparison.Ordinal));
    }

    // Found in QA: a file where a model's harvest folder belongs was reported as the harvest file below it that could not be
    // made, with .NET's "The file '…' already exists" about another path.
    [Fact]
    public async Task A_file_where_a_models_harvest_folder_belongs_is_named_as_what_to_move()
    {
        using var ws = Workspace();
        ws.Write("artifacts/unlearn/harvest/a", "not a folder");

        var run = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "a", "--no-plans");

        Assert.Equal(2, run.ExitCode);
        var error = Assert.Single(run.ErrorLines, l => l.Contains("FUL4084", StringComparison.Ordinal));
        Assert.StartsWith("artifacts/unlearn/harvest/a: error FUL4084: The Fisher harvest cache 'artifacts/unlearn/harvest/a' cannot be written: it is a file where the cache needs a folder. It is a cache:", error, StringComparison.Ordinal);
        Assert.Equal("not a folder", ws.ReadText("artifacts/unlearn/harvest/a")); // reported, not removed

        // A folder where the index goes, on a first harvest: the index is named, not the harvest file written beside it (QA).
        ws.Delete("artifacts/unlearn/harvest/a");
        ws.CreateDirectory("artifacts/unlearn/harvest/a/index.json");
        var noIndex = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "a", "--no-plans");
        Assert.Equal(2, noIndex.ExitCode);
        Assert.StartsWith("artifacts/unlearn/harvest/a/index.json: error FUL4084: ", Assert.Single(noIndex.ErrorLines, l => l.Contains("FUL4084", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_harvest_with_other_fisher_settings_keeps_the_plans_made_for_the_defaults()
    {
        using var ws = Workspace();
        ws.Write("forget-tempered.removal.json", """{ "schemaVersion": 1, "id": "forget-tempered", "forget": { "labels": [1] }, "parameters": { "estimator": "tempered" } }""");
        string[] Plans() => [.. Directory.GetFiles(ws.PathOf("artifacts/unlearn/harvest/b/plans"), "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "b", "--plan-labels", "1")).ExitCode);
        var defaults = Plans();
        Assert.Equal(0, (await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "b", "--plan-labels", "1", "--estimator", "tempered")).ExitCode);
        var both = Plans();

        // The tempered harvest's plans join the default ones: a request under the defaults still needs no data (QA: they
        // were deleted, and a run after the data was gone failed).
        Assert.Single(defaults);
        Assert.Equal(2, both.Length);
        Assert.Contains(defaults[0], both);
    }

    private static TempWorkspace Workspace() => SampleWorkspaces.ChainWithData();
}
