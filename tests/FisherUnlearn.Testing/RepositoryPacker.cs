namespace FisherUnlearn.Testing;

/// <summary>
/// Packs projects of this repository the way a release does, but from a copy of the sources in a temporary folder
/// (src/, build/, samples/digits and the root build files; no bin/, obj/, artifacts/ or dot-folders), so the shared
/// checkout's outputs are never touched and concurrent edits of other files cannot half-apply. The copy's version.json
/// holds a unique prerelease version and NB.GV's git engine is off (it would otherwise override <c>-p:Version</c> with a
/// git-height version), so the packages never collide with a cached one.
/// Same pattern as tests/FisherUnlearn.Tool.Tests/EndToEnd/ToolPacker.cs, without CliWrap, for any test project.
/// </summary>
public static class RepositoryPacker
{
    private static readonly string[] RootFiles =
        ["Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json"];

    private static readonly string[] CopiedFolders = ["src", "build", "samples/digits"];

    private static readonly string[] SkippedFolders = ["bin", "obj", "artifacts", "TestResults"];

    /// <summary>The repository root: the first folder above the test assembly holding FisherUnlearn.Tooling.sln.</summary>
    public static string RepositoryRoot { get; } = RepoPaths.Root;

    /// <summary>A unique prerelease version: letters and digits only, valid as SemVer 1 and 2.</summary>
    public static string UniqueVersion(string label = "e2e") =>
        $"0.0.0-{label}{DateTime.UtcNow:yyyyMMddHHmmss}{Random.Shared.Next(1000):D3}";

    /// <summary>Copies the sources to <paramref name="sourceCopy"/> (created; must not exist or be empty) with a
    /// version.json of <paramref name="version"/>.</summary>
    public static async Task CopySourcesAsync(string sourceCopy, string version, CancellationToken cancellationToken = default)
    {
        foreach (var folder in CopiedFolders)
        {
            var from = Path.Combine(RepositoryRoot, folder.Replace('/', Path.DirectorySeparatorChar));
            if (Directory.Exists(from))
            {
                CopyTree(from, Path.Combine(sourceCopy, folder.Replace('/', Path.DirectorySeparatorChar)));
            }
        }

        foreach (var file in RootFiles)
        {
            File.Copy(Path.Combine(RepositoryRoot, file), Path.Combine(sourceCopy, file), overwrite: true);
        }

        await File.WriteAllTextAsync(Path.Combine(sourceCopy, "version.json"), $$"""{ "version": "{{version}}" }""", cancellationToken);
    }

    /// <summary>Copies the sources to <paramref name="sourceCopy"/> and runs <c>dotnet pack src/<paramref name="project"/>
    /// -c Release -o <paramref name="feed"/></c> there, with <paramref name="properties"/> (<c>Name=Value</c>) added.</summary>
    public static async Task<CliResult> PackAsync(string sourceCopy, string feed, string version, string project,
        IEnumerable<string>? properties = null, IReadOnlyDictionary<string, string?>? environment = null, CancellationToken cancellationToken = default)
    {
        await CopySourcesAsync(sourceCopy, version, cancellationToken);
        List<string> args =
        [
            "pack", Path.Combine(sourceCopy, "src", project), "-c", "Release", "-o", feed,
            "-p:NBGV_GitEngine=Disabled", "-p:PublicRelease=true", "-nodeReuse:false", "--disable-build-servers", "-tl:off",
        ];
        args.AddRange((properties ?? []).Select(p => "-p:" + p));
        return await DotnetCli.RunCheckedAsync(sourceCopy, args, environment, TimeSpan.FromMinutes(10), cancellationToken);
    }

    /// <summary>A nuget.config that clears the user's sources and lists <paramref name="feed"/> and nuget.org.</summary>
    public static string NuGetConfig(string feed) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <clear />
            <add key="e2e" value="{feed}" />
            <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
          </packageSources>
        </configuration>
        """;

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        }

        foreach (var directory in Directory.EnumerateDirectories(from))
        {
            var name = Path.GetFileName(directory);
            if (!SkippedFolders.Contains(name, StringComparer.Ordinal) && !name.StartsWith('.'))
            {
                CopyTree(directory, Path.Combine(to, name));
            }
        }
    }

}
