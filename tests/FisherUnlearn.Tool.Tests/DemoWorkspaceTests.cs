using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Scaffolding;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests;

public sealed class DemoWorkspaceTests
{
    /// <summary>What the tool must embed: samples/digits without outputs (bin/, obj/, artifacts/) or the converter script.</summary>
    private static List<string> SampleFiles()
    {
        var root = RepoPaths.DigitsSample;
        return [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => !f.Split('/').Any(s => s is "bin" or "obj" or "artifacts"))
            .Where(f => f.EndsWith(".json", StringComparison.Ordinal) || f.EndsWith("-ubyte.gz", StringComparison.Ordinal) || f == "data/ATTRIBUTION.md"
                || f.EndsWith(".csproj", StringComparison.Ordinal) || f.EndsWith(".targets", StringComparison.Ordinal) || f.EndsWith(".props", StringComparison.Ordinal) || f == "Models.sln")
            .Order(StringComparer.Ordinal)];
    }

    [Fact]
    public void The_tool_embeds_the_digits_sample()
    {
        var expected = SampleFiles();

        Assert.Equal(expected, DemoWorkspace.Files);
        Assert.Contains("unlearn.json", expected);
        Assert.Contains("data/train-images-idx3-ubyte.gz", expected);
        Assert.Contains("Models.sln", expected);
        Assert.Contains("digits-base/digits-base.csproj", expected);
        Assert.Equal(28, expected.Count);
    }

    [Fact]
    public async Task Materialized_files_are_byte_identical_to_the_sample_and_validate()
    {
        using var ws = new TempWorkspace();
        var target = ws.PathOf("demo");

        var result = DemoWorkspace.Materialize(target, TestContext.Current.CancellationToken);

        Assert.Equal(SampleFiles(), result.Created);
        Assert.Empty(result.Reused);
        Assert.Empty(result.Kept);
        foreach (var file in result.Created)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(RepoPaths.DigitsSample, file)).AsSpan()
                .SequenceEqual(File.ReadAllBytes(ws.PathOf("demo/" + file))), $"{file} differs from samples/digits/{file}");
        }

        var validate = await CliRun.InvokeAsync(target, "validate");
        Assert.Equal(0, validate.ExitCode);
        Assert.Contains("7 models, 1 datasets, 2 removal requests: valid.", validate.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Materializing_again_reuses_identical_files_and_never_overwrites_changed_ones()
    {
        using var ws = new TempWorkspace();
        var target = ws.PathOf("demo");
        DemoWorkspace.Materialize(target, TestContext.Current.CancellationToken);
        ws.Write("demo/forget-3.removal.json", "{ \"mine\": true }");
        ws.Delete("demo/digits-base");

        var again = DemoWorkspace.Materialize(target, TestContext.Current.CancellationToken);

        Assert.Equal(["digits-base/digits-base.csproj", "digits-base/digits-base.lineage.json"], again.Created);
        Assert.Equal(["forget-3.removal.json"], again.Kept);
        Assert.Equal(SampleFiles().Count - 3, again.Reused.Count);
        Assert.Equal("{ \"mine\": true }", ws.ReadText("demo/forget-3.removal.json"));
        Assert.DoesNotContain(ws.Files(), f => f.Contains(".tmp-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_demo_whose_step_fails_lists_the_steps_errors_in_its_json_with_paths_from_where_the_user_is()
    {
        using var ws = new TempWorkspace();
        ws.Write("ne/unlearn.json", """{ "x": 1 }""");

        var demo = await CliRun.InvokeAsync(ws.Root, "demo", "ne", "--json");

        Assert.Equal(2, demo.ExitCode);
        var diagnostic = Assert.Single(demo.Json["diagnostics"]!, d => (string?)d["code"] == "FUL1005");
        Assert.Equal("ne/unlearn.json", (string?)diagnostic["file"]);
        Assert.Contains("ne/unlearn.json(1,", demo.Error, StringComparison.Ordinal);
    }
}
