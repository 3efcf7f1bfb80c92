using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

/// <summary>How the command line itself is read: --version, and options that need a value.</summary>
public sealed class CommandLineScenarios
{
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
    [InlineData("--version", "plan")]
    [InlineData("--version", "validate", "--json")]
    public async Task Version_with_a_command_is_a_usage_error(params string[] args)
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, args);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error FUL3005: ", run.Error, StringComparison.Ordinal);
    }
}
