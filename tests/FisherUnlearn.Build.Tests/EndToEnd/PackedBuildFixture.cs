using FisherUnlearn.Testing;

namespace FisherUnlearn.Build.Tests.EndToEnd;

/// <summary>
/// Packs FisherUnlearn.Build and the tool (linux-x64 only: <c>-p:FulToolRuntimeIdentifiers=linux-x64</c>) ONCE for all
/// black-box tests, with one unique prerelease version, into a temporary feed; the two packs run at the same time, each
/// from its own copy of the sources (<see cref="RepositoryPacker"/>). <see cref="Home"/> holds a nuget.config (clear, the
/// feed, nuget.org) and a global.json; workspaces are created below it. Restores use a temporary global packages folder
/// (<see cref="Environment"/>): the tool package alone is ~130 MB, and each run's unique version would otherwise stay in
/// ~/.nuget for good.
/// </summary>
public sealed class PackedBuildFixture : IAsyncLifetime
{
    public const string BuildPackageId = "FisherUnlearn.Build";
    public const string ToolPackageId = "FisherUnlearn.Tool";
    public const string ToolRid = "linux-x64";

    private readonly TempWorkspace _temp = new("fiun-build-e2e");

    public string Feed => _temp.PathOf("feed");

    public string Home => _temp.PathOf("home");

    public string Version { get; } = RepositoryPacker.UniqueVersion();

    /// <summary>Variables for every dotnet command run below <see cref="Home"/>.</summary>
    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?>
    {
        ["NUGET_PACKAGES"] = _temp.PathOf("nuget-packages"),
    };

    public TimeSpan PackTime { get; private set; }

    /// <summary>The tool is packed for linux-x64 only; elsewhere the tests skip.</summary>
    public static bool Supported => System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier == ToolRid;

    public async ValueTask InitializeAsync()
    {
        if (!Supported)
        {
            return;
        }

        Directory.CreateDirectory(Feed);
        Directory.CreateDirectory(Home);
        await File.WriteAllTextAsync(Path.Combine(Home, "nuget.config"), RepositoryPacker.NuGetConfig(Feed));
        File.Copy(Path.Combine(RepositoryPacker.RepositoryRoot, "global.json"), Path.Combine(Home, "global.json"));
        var started = DateTime.UtcNow;
        await Task.WhenAll(
            RepositoryPacker.PackAsync(_temp.PathOf("src-build"), Feed, Version, "FisherUnlearn.Build"),
            RepositoryPacker.PackAsync(_temp.PathOf("src-tool"), Feed, Version, "FisherUnlearn.Tool", [$"FulToolRuntimeIdentifiers={ToolRid}"]));
        PackTime = DateTime.UtcNow - started;
    }

    public ValueTask DisposeAsync()
    {
        _temp.Dispose();
        return ValueTask.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class PackedBuildCollection : ICollectionFixture<PackedBuildFixture>
{
    public const string Name = "Packed FisherUnlearn.Build";
}
