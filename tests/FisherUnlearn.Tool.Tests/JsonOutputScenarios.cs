using Newtonsoft.Json.Linq;
using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

/// <summary>--json keeps stdout to one JSON document, also when a command stops on an error before printing its own.</summary>
public sealed class JsonOutputScenarios
{
    [Theory]
    [InlineData("plan", "FUL2006", "plan", "nosuch", "--json")]
    [InlineData("run", "FUL2006", "run", "nosuch", "--json")]
    [InlineData("verify", "FUL2006", "verify", "nosuch", "--json")]
    [InlineData("train", "FUL2007", "train", "--model", "nosuch", "--json")]
    [InlineData("plan", "FUL3005", "plan", "--json")]
    [InlineData("plan", "FUL3005", "plan", "forget-1", "--bogus", "--json")]
    [InlineData("run", "FUL3005", "run", "--bogus", "--json")] // an unknown option where the removal goes
    [InlineData("run", "FUL3020", "run", "forget-1", "--shard", "3/2", "--json")]
    [InlineData(null, "FUL3005", "frobnicate", "--json")] // no command recognised: null, not an empty name (QA)
    public async Task A_command_stopped_by_an_error_prints_one_json_document_naming_it(string? command, string code, params string[] args)
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, args);

        Assert.Equal(2, run.ExitCode);
        var json = run.Json;
        Assert.Equal(1, (int)json["schemaVersion"]!);
        Assert.Equal(command, (string?)json["command"]);
        Assert.Equal(command is null ? JTokenType.Null : JTokenType.String, json["command"]!.Type);
        Assert.Equal(2, (int)json["exitCode"]!);
        Assert.Contains(code, json["diagnostics"]!.Select(d => (string)d["code"]!));
        Assert.Contains(code, run.Error, StringComparison.Ordinal); // still on stderr for people
        if (code is "FUL3005" or "FUL3020")
        {
            // A usage error has no place in a file: no line 0 that no editor has (QA).
            var usage = json["diagnostics"]!.First(d => (string)d["code"]! == code);
            Assert.Equal((JTokenType.Null, JTokenType.Null, JTokenType.Null), (usage["file"]!.Type, usage["line"]!.Type, usage["column"]!.Type));
        }
    }

    [Fact]
    public async Task An_invalid_workspace_gives_its_manifest_errors_with_file_and_line()
    {
        using var ws = SampleWorkspaces.Chain();
        ws.Write("typo.removal.json", "{ \"schemaVersion\": 1, \"id\": \"typo\", \"forget\": { \"labels\": [1] }, \"method\": \"fast\" }");

        var status = await CliRun.InvokeAsync(ws.Root, "status", "--json");

        Assert.Equal(2, status.ExitCode);
        var diagnostic = Assert.Single(status.Json["diagnostics"]!);
        Assert.Equal(("FUL1024", "typo.removal.json", 1), ((string)diagnostic["code"]!, (string)diagnostic["file"]!, (int)diagnostic["line"]!));
    }

    [Fact]
    public async Task Graph_json_prints_the_lineage_as_data_and_the_picture_goes_to_the_output_file()
    {
        using var ws = SampleWorkspaces.Chain();

        var run = await CliRun.InvokeAsync(ws.Root, "graph", "--removal", "forget-1", "--json", "--output", "lineage.mmd");

        Assert.Equal(0, run.ExitCode);
        var json = run.Json;
        Assert.Equal("forget-1", (string?)json["removal"]);
        Assert.Equal("lineage.mmd", (string?)json["output"]);
        Assert.Equal(["a", "b"], json["lineage"]!["models"]!.Select(m => (string)m["id"]!));
        Assert.Equal(["root", "affected"], json["lineage"]!["models"]!.Select(m => (string)m["class"]!));
        Assert.Contains(json["lineage"]!["edges"]!, e => (string)e["from"]! == "a" && (string)e["to"]! == "b" && (string)e["kind"]! == "parent");
        Assert.StartsWith("flowchart TD", ws.ReadText("lineage.mmd"), StringComparison.Ordinal);
    }
}
