using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Build.Tests.Tasks;

/// <summary>An existing output counts as up to date in the build only when the job record beside it vouches for it, as
/// it does for the tool's status, plan --check and verify.</summary>
public sealed class OutputCertificateTests
{
    private static string Record(string status, string method, string output, string? sha) =>
        $$"""{ "schemaVersion": 1, "key": "k", "id": "m", "method": "{{method}}", "status": "{{status}}", "output": "{{output}}", "outputSha256": {{(sha is null ? "null" : $"\"{sha}\"")}} }""";

    [Fact]
    public void An_output_is_vouched_for_only_by_a_done_record_of_the_same_method_and_content()
    {
        using var ws = new TempWorkspace();
        var output = ws.Write("out/forget-3/m.safetensors", "unlearned bytes");
        var hashes = new FileHashStore(ws.PathOf("out/.file-hashes.json"), keep: false);
        var sha = hashes.Hash(output);
        string? Problem(string method = "fiun") => OutputCertificate.Problem(output, "m", method, hashes);

        Assert.Equal("no job record says 'dotnet unlearn run' made it", Problem());

        ws.Write("out/forget-3/.jobs/m.json", Record("done", "fiun", "m.safetensors", sha));
        Assert.Null(Problem());
        Assert.Null(Problem("FIUN"));
        Assert.Equal("it was made with 'fiun' and this build asks for 'retrain'", Problem("retrain"));

        ws.Write("out/forget-3/m.safetensors", "a copy of the original checkpoint");
        Assert.Equal("its content is not what its job record says 'dotnet unlearn run' wrote", Problem());

        ws.Write("out/forget-3/.jobs/m.json", Record("failed", "fiun", "m.safetensors", null));
        Assert.Equal("its job record does not say it was made", Problem());
        ws.Write("out/forget-3/.jobs/m.json", "{ not json");
        Assert.Equal("its job record cannot be read", Problem());

        // No output: missing, which its timestamp already makes stale.
        File.Delete(output);
        Assert.Null(Problem());
    }

    [Theory]
    [InlineData("ssd", "retrain", "fiun", "ssd")]
    [InlineData("", "retrain", "fiun", "retrain")]
    [InlineData(null, null, "ssd", "ssd")]
    [InlineData(null, null, null, "fiun")]
    [InlineData(" SSD ", null, null, "ssd")]
    public void The_method_is_the_builds_else_the_removals_else_the_workspaces_else_fiun(string? build, string? removal, string? workspace, string expected)
    {
        var request = new Lineage.Manifests.RemovalManifest { Id = "r", ManifestPath = "/r.removal.json", Method = removal, Location = Lineage.Diagnostics.SourceLocation.None };
        Assert.Equal(expected, OutputCertificate.MethodFor(build, request, new Lineage.Manifests.WorkspaceSettings { Method = workspace }));
    }
}
