using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

/// <summary>--threads and --parallel take 1 to 1024 on every command, as 'threads' and 'parallelism' in unlearn.json
/// do: '--threads 100000' once made libtorch start that many threads.</summary>
public sealed class ConcurrencyOptionScenarios
{
    [Theory]
    [InlineData("run forget-3", "--threads", "100000")]
    [InlineData("run forget-3", "--threads", "1025")]
    [InlineData("run forget-3", "--parallel", "1025")]
    [InlineData("run forget-3", "--parallel", "0")]
    [InlineData("verify forget-3", "--threads", "1025")]
    [InlineData("verify forget-3", "--parallel", "1025")]
    [InlineData("harvest", "--threads", "1025")]
    [InlineData("harvest", "--parallel", "1025")]
    [InlineData("train", "--threads", "1025")]
    [InlineData("train", "--threads", "0")]
    [InlineData("worker forget-3 --models-from-stdin", "--threads", "1025")]
    public async Task A_count_outside_1_to_1024_is_a_usage_error_that_names_the_range_before_anything_is_read(string command, string option, string value)
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, [.. command.Split(' '), option, value, "--json"]);

        Assert.Equal(2, run.ExitCode);
        var field = option == "--threads" ? "threads" : "parallelism";
        Assert.Single(run.ErrorLines, l => l.Contains("error", StringComparison.Ordinal));
        Assert.Contains($"error FUL3005: {option} must be from 1 to 1024 (as '{field}' in unlearn.json), not {value}.", run.Error, StringComparison.Ordinal);
        Assert.Equal("FUL3005", (string?)run.Json["diagnostics"]![0]!["code"]);
        Assert.False(ws.Exists("artifacts"));
    }

    [Theory]
    [InlineData("run", "--threads")]
    [InlineData("run", "--parallel")]
    [InlineData("verify", "--threads")]
    [InlineData("verify", "--parallel")]
    public async Task The_bound_itself_is_accepted(string command, string option)
    {
        using var ws = SampleWorkspaces.Chain();

        // A workspace folder that does not exist: the first error after the options are checked.
        var run = await CliRun.InvokeAsync(ws.Root, command, "forget-3", option, "1024", "--workspace", "missing");

        Assert.Equal(2, run.ExitCode);
        Assert.DoesNotContain("FUL3005", run.Error, StringComparison.Ordinal);
        Assert.Contains("error FUL3004:", run.Error, StringComparison.Ordinal);
    }
}
