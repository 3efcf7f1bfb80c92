using System.CommandLine;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

/// <summary>How the command line itself is read: --version, and options that need a value.</summary>
public sealed class CommandLineScenarios
{
    [Theory]
    [InlineData("vlidate", "Unknown command 'vlidate' (did you mean 'validate'?)")]
    [InlineData("--verbosity detailed bogus", "Unknown command 'bogus'.")]
    [InlineData("bogus --json", "Unknown command 'bogus'.")]
    public async Task An_unknown_command_is_one_usage_error_naming_the_commands(string args, string message)
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, args.Split(' '));

        Assert.Equal(2, run.ExitCode);
        var error = Assert.Single(run.ErrorLines, l => l.Contains("FUL3005", StringComparison.Ordinal));
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Contains("The commands: init, validate, plan", error, StringComparison.Ordinal);
        if (args.Contains("--json", StringComparison.Ordinal))
        {
            Assert.Single(run.Json["diagnostics"]!);
        }
    }

    [Theory]
    [InlineData("run", "'run' needs its <removal> argument: The removal request: its id or the path of its .removal.json.")]
    [InlineData("verify --json", "'verify' needs its <removal> argument: ")]
    public async Task A_missing_argument_is_one_usage_error_naming_it(string args, string message)
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, args.Split(' '));

        Assert.Equal(2, run.ExitCode);
        var error = Assert.Single(run.ErrorLines, l => l.Contains("FUL3005", StringComparison.Ordinal));
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.DoesNotContain("Required argument missing", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_prints_the_tool_version_and_nothing_else()
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, "--version");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(CliApp.Version + Environment.NewLine, run.Out);
        Assert.Equal(string.Empty, run.Error);
    }

    [Theory]
    [InlineData("--version", "--json")]
    [InlineData("--json", "--version")]
    [InlineData("--version", "--json", "--no-progress", "--verbosity", "quiet")]
    public async Task Version_with_json_prints_one_document_with_the_version_that_reports_record(params string[] args)
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, args);

        Assert.Equal(0, run.ExitCode);
        var json = run.Json;
        Assert.Equal(1, (int)json["schemaVersion"]!);
        Assert.Equal(CliApp.Version, (string?)json["toolVersion"]); // the field report.json names the tool version with
        Assert.Equal(string.Empty, run.Error);
    }

    [Theory]
    [InlineData("plan", "--method=", "--check", "forget-3")]
    [InlineData("plan", "forget-3", "--check", "--method=")]
    [InlineData("plan", "--method:", "forget-3")]
    public async Task An_option_given_an_empty_value_is_a_usage_error_that_says_so(params string[] args)
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, args);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(run.ErrorLines, l => l.Contains("error FUL3005: --method is given an empty value: --method <", StringComparison.Ordinal));
        Assert.DoesNotContain("--check", run.ErrorLines.First(l => l.Contains("FUL3005", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--out <dir>", "run", "forget-3", "--out", "")]
    [InlineData("--out <dir>", "verify", "forget-3", "--out", " ")]
    [InlineData("--out <dir>", "status", "--out", "")]
    [InlineData("--out <dir>", "plan", "forget-3", "--check", "--out", "")]
    [InlineData("--model <id>", "harvest", "--model", "")]
    [InlineData("demo <dir>, or leave it out.", "demo", "")]
    [InlineData("run <removal>.", "run", "")]
    public async Task A_blank_value_from_an_unset_variable_is_a_usage_error_not_the_current_folder(string usage, params string[] args)
    {
        using var ws = SampleWorkspaces.Chain();
        var before = ws.Contents();

        var run = await CliRun.InvokeAsync(ws.Root, [.. args, "--json"]);

        Assert.Equal(2, run.ExitCode);
        var error = Assert.Single(run.ErrorLines, l => l.Contains("error FUL3005", StringComparison.Ordinal));
        Assert.Contains($"is given an empty value (an unset variable?): {usage}", error, StringComparison.Ordinal);
        Assert.Equal("FUL3005", (string?)run.Json["diagnostics"]![0]!["code"]);
        Assert.Equal(before, ws.Contents()); // no output, report or demo workspace in the current folder
    }

    [Theory]
    [InlineData("run", "forget-3", "--method", "fuin")]
    [InlineData("verify", "forget-3", "--method", "fuin")]
    [InlineData("plan", "forget-3", "--check", "--method", "fuin")]
    public async Task A_misspelt_method_is_a_usage_error_with_a_suggestion_before_the_workspace_is_read(params string[] args)
    {
        using var ws = SampleWorkspaces.Chain(); // no checkpoints: reading on would stop at those first

        var run = await CliRun.InvokeAsync(ws.Root, args);
        var upper = await CliRun.InvokeAsync(ws.Root, "plan", "forget-3", "--check", "--method", "SSD");

        Assert.Equal(2, run.ExitCode);
        var error = Assert.Single(run.ErrorLines, l => l.Contains("error", StringComparison.Ordinal));
        Assert.Equal("error FUL3005: 'fuin' is not a method: --method takes fiun, ssd, retrain (did you mean 'fiun'?).", error);
        Assert.NotEqual(2, upper.ExitCode); // case aside, as in manifests
    }

    [Theory]
    [InlineData("Unrecognized option '--forse' for 'train' (did you mean '--force'?).", "train", "--forse")]
    [InlineData("Unrecognized option '--metod' for 'run' (did you mean '--method'?).", "run", "forget-3", "--metod", "ssd")]
    [InlineData("Unrecognized option '--jsn' for 'validate' (did you mean '--json'?).", "validate", "--jsn")]
    [InlineData("Unrecognized option '--verison' for 'dotnet unlearn' (did you mean '--version'?).", "--verison")]
    [InlineData("Argument 'exakt' not recognized. Must be one of: 'exact', 'batch', 'labelfree', 'tempered' (did you mean 'exact'?).", "harvest", "--estimator", "exakt")]
    [InlineData("Argument 'mermaidd' not recognized. Must be one of: 'mermaid', 'dot', 'svg', 'html' (did you mean 'mermaid'?).", "graph", "-f", "mermaidd")]
    [InlineData("Argument 'zzzz' not recognized. Must be one of: 'mermaid', 'dot', 'svg', 'html'", "graph", "-f", "zzzz")]
    public async Task A_misspelt_option_or_choice_is_one_usage_error_with_the_nearest_name_when_there_is_one(string message, params string[] args)
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, args);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("error FUL3005: " + message, Assert.Single(run.ErrorLines, l => l.Contains("error", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("--help", "--json")]
    [InlineData("validate", "--help", "--json")]
    [InlineData("--json", "run", "-h")]
    public async Task Help_with_json_goes_to_stderr_so_stdout_stays_for_json(params string[] args)
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, args);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(string.Empty, run.Out);
        Assert.Contains("Usage:", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_without_json_is_on_stdout()
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, "plan", "--help");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Usage:", run.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--version", "plan")]
    [InlineData("--version", "validate", "--json")]
    public async Task Version_with_a_command_is_a_usage_error(params string[] args)
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, args);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error FUL3005: ", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("'{here}/a/b.safetensors' is truncated", "'a/b.safetensors' is truncated")]
    [InlineData("'{here}/a' and '{here}/c d/e.json' differ", "'a' and 'c d/e.json' differ")]
    [InlineData("'{here}' is the workspace", "'{here}' is the workspace")] // the folder itself is not '.'
    [InlineData("'{elsewhere}/x.safetensors' is outside", "'{elsewhere}/x.safetensors' is outside")]
    [InlineData("model 'a' has no 'training'", "model 'a' has no 'training'")]
    [InlineData("a quote ' left open {here}/a", "a quote ' left open {here}/a")]
    [InlineData("'{here}/o'w/m.safetensors' is truncated", "'o'w/m.safetensors' is truncated")] // an apostrophe in a name (QA)
    [InlineData("'{here}2/m.safetensors' is beside it", "'{here}2/m.safetensors' is beside it")] // a sibling whose name starts the same
    public void Messages_name_quoted_files_inside_the_current_folder_as_the_location_does(string message, string shown)
    {
        var here = Path.Combine(Path.GetTempPath(), "fiun-display", "ws");
        var elsewhere = Path.Combine(Path.GetTempPath(), "fiun-display", "other");
        string Fill(string text) => text.Replace("{here}", here, StringComparison.Ordinal).Replace("{elsewhere}", elsewhere, StringComparison.Ordinal);
        var context = new CliContext(TextWriter.Null, TextWriter.Null, _ => null, here);

        Assert.Equal(Fill(shown), context.DisplayMessage(Fill(message)));
    }

    /// <summary>Every option of every command that takes a value (the global ones included), with the arguments
    /// the command needs: (command line before the option, the option).</summary>
    public static TheoryData<string[], string> ValueOptions()
    {
        var data = new TheoryData<string[], string>();
        var root = CliApp.Build(new CliContext(TextWriter.Null, TextWriter.Null, _ => null, Path.GetTempPath()));
        foreach (var command in root.Subcommands)
        {
            string[] before = [command.Name, .. command.Arguments.Where(a => a.Arity.MinimumNumberOfValues > 0).Select(_ => "forget-1")];
            foreach (var option in command.Options.Concat(root.Options.Where(o => o.Recursive)))
            {
                if (option.Arity.MinimumNumberOfValues > 0)
                {
                    foreach (var name in option.Aliases.Prepend(option.Name))
                    {
                        data.Add(before, name);
                    }
                }
            }
        }

        return data;
    }

    [Fact]
    public void Every_command_is_covered_by_the_value_option_scenarios()
    {
        var covered = ValueOptions().Select(row => row.Data.Item1[0]).ToHashSet();

        Assert.Equal(["demo", "graph", "harvest", "init", "plan", "run", "status", "train", "validate", "verify", "worker"], covered.Order());
    }

    [Theory]
    [MemberData(nameof(ValueOptions))]
    public async Task An_option_that_needs_a_value_followed_by_another_option_is_a_usage_error_naming_it(string[] before, string option)
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, [.. before, option, "--no-progress"]);

        Assert.Equal(2, run.ExitCode);
        var error = Assert.Single(run.ErrorLines, l => l.Contains("error", StringComparison.Ordinal));
        Assert.StartsWith($"error FUL3005: {option} needs a value (", error, StringComparison.Ordinal);
        Assert.Contains("but the option '--no-progress' follows it", error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, run.Out);
    }

    [Theory]
    [MemberData(nameof(ValueOptions))]
    public async Task An_option_that_needs_a_value_at_the_end_is_a_usage_error_naming_it(string[] before, string option)
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, [.. before, option]);

        Assert.Equal(2, run.ExitCode);
        var error = Assert.Single(run.ErrorLines, l => l.Contains("error", StringComparison.Ordinal));
        Assert.StartsWith($"error FUL3005: {option} needs a value: {option} <", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_model_option_of_harvest_does_not_take_the_next_option_as_the_model()
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, "harvest", "--model", "--no-progress");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal(
            [
                "error FUL3005: --model needs a value (--model <id>), but the option '--no-progress' follows it; a value that starts with '-' is written --model=<value>.",
                "dotnet-unlearn: run 'dotnet unlearn harvest --help' for usage.",
            ],
            run.ErrorLines);
    }

    [Fact]
    public async Task Only_the_first_cause_is_reported_when_an_option_took_the_next_one_and_shifted_the_rest()
    {
        using var ws = SampleWorkspaces.Chain();

        var shifted = await CliRun.InvokeAsync(ws.Root, "harvest", "-m", "-v", "quiet");
        var notANumber = await CliRun.InvokeAsync(ws.Root, "harvest", "--threads", "--json");

        Assert.Equal(2, shifted.ExitCode);
        Assert.Single(shifted.ErrorLines, l => l.Contains("error", StringComparison.Ordinal));
        Assert.Contains("-m needs a value", shifted.Error, StringComparison.Ordinal);
        Assert.Equal(2, notANumber.ExitCode);
        Assert.Single(notANumber.ErrorLines, l => l.Contains("error", StringComparison.Ordinal));
        Assert.Equal("FUL3005", (string?)notANumber.Json["diagnostics"]![0]!["code"]); // --json was asked for: still one document
    }

    [Fact]
    public async Task A_value_that_starts_with_a_dash_is_given_with_equals_and_negative_numbers_are_values()
    {
        using var ws = SampleWorkspaces.Chain();

        var attached = await CliRun.InvokeAsync(ws.Root, "train", "--model=-odd");
        var negative = await CliRun.InvokeAsync(ws.Root, "train", "--threads", "-1");

        Assert.Contains("error FUL2007: No model '-odd' in the workspace; known: 'a', 'b'", attached.Error, StringComparison.Ordinal); // nothing close: the ids there are
        Assert.Contains("error FUL3005: --threads must be from 1 to 1024 (as 'threads' in unlearn.json), not -1.", negative.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run", "--bogus")]
    [InlineData("plan", "--version")]
    [InlineData("demo", "--bogus")]
    public async Task An_unknown_option_where_an_argument_goes_is_a_usage_error_before_the_workspace_is_read(string command, string option)
    {
        using var ws = SampleWorkspaces.Chain();
        ws.Write("broken.removal.json", "{");

        var run = await CliRun.InvokeAsync(ws.Root, command, option);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith($"error FUL3005: Unrecognized option '{option}' for '{command}'", run.ErrorLines.First(), StringComparison.Ordinal);
        Assert.DoesNotContain("FUL1001", run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(ws.PathOf("unlearn-demo")));
    }

    [Fact]
    public async Task After_the_separator_an_option_is_said_to_be_an_argument_and_a_dashed_word_is_no_removal()
    {
        using var ws = SampleWorkspaces.Chain();
        ws.Write("-w.removal.json", """{ "schemaVersion": 1, "id": "dashed", "forget": { "labels": [1] } }""");

        var option = await CliRun.InvokeAsync(ws.Root, "plan", "--", "-w.removal.json", "--json");
        var word = await CliRun.InvokeAsync(ws.Root, "plan", "--", "-x");
        var path = await CliRun.InvokeAsync(ws.Root, "plan", "--", "-w.removal.json");

        Assert.Equal(2, option.ExitCode);
        Assert.Contains("error FUL3005: '--json' comes after '--', which makes every word after it an argument: put the options before '--'.", option.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("did you mean '--json'", option.Error, StringComparison.Ordinal);
        Assert.Equal(2, word.ExitCode);
        Assert.Contains("'-x' is neither an option of this command nor a removal request", word.Error, StringComparison.Ordinal);
        Assert.True(path.ExitCode == 0, path.Error);
    }
}
