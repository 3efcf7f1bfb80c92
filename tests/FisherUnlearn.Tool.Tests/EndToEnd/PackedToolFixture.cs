using FisherUnlearn.Testing;

namespace FisherUnlearn.Tool.Tests.EndToEnd;

/// <summary>Packs the tool ONCE for every end-to-end test (this machine's RID only: the pointer package
/// FisherUnlearn.Tool plus FisherUnlearn.Tool.&lt;rid&gt;) into a temporary feed, next to a nuget.config that
/// clears the user's sources and lists that feed and nuget.org.</summary>
public sealed class PackedToolFixture : IAsyncLifetime
{
    private readonly TempWorkspace _temp = new("fiun-e2e");

    public string Root => _temp.Root;

    public string Feed => _temp.PathOf("feed");

    public string Version { get; } = ToolPacker.UniqueVersion();

    /// <summary>The folder with the nuget.config; run tool commands in it or below it.</summary>
    public string Home => _temp.PathOf("home");

    public string PointerPackage => Path.Combine(Feed, $"{ToolPacker.PackageId}.{Version}.nupkg");

    public string RidPackage => Path.Combine(Feed, $"{ToolPacker.PackageId}.{ToolPacker.CurrentRid}.{Version}.nupkg");

    public TimeSpan PackTime { get; private set; }

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Feed);
        Directory.CreateDirectory(Home);
        await File.WriteAllTextAsync(Path.Combine(Home, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="e2e" value="{Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
            </configuration>
            """);
        var started = DateTime.UtcNow;
        await ToolPacker.PackAsync(_temp.PathOf("src"), Feed, Version, ToolPacker.CurrentRid, CancellationToken.None);
        PackTime = DateTime.UtcNow - started;
    }

    public ValueTask DisposeAsync()
    {
        _temp.Dispose();
        return ValueTask.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class PackedToolCollection : ICollectionFixture<PackedToolFixture>
{
    public const string Name = "Packed tool";
}
