using FisherUnlearn.Testing;
using System.Runtime.InteropServices;
using System.Text;
using CliWrap;
using CliWrap.Buffered;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests.EndToEnd;

/// <summary>
/// Packs the real tool the way a release does, but from a copy of the repository's sources in a temporary folder
/// (src/, build/, samples/digits and the root build files; no bin/, obj/ or artifacts/), so the shared checkout's
/// outputs are never touched. The copy's version.json holds a unique prerelease version (git versioning off), so the
/// packages never collide with a cached one.
/// </summary>
internal static class ToolPacker
{
    public const string PackageId = "FisherUnlearn.Tool";

    private static readonly string[] RootFiles =
        ["Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json"];

    private static readonly string[] SkippedFolders = ["bin", "obj", "artifacts", "TestResults"];

    /// <summary>A unique prerelease version: letters and digits only, valid as SemVer 1 and 2.</summary>
    public static string UniqueVersion() => $"0.0.0-e2e{DateTime.UtcNow:yyyyMMddHHmmss}{Random.Shared.Next(1000):D3}";

    /// <summary>This machine's RID, as the packages name it.</summary>
    public static string CurrentRid => RuntimeInformation.RuntimeIdentifier;

    /// <summary>Copies the sources to <paramref name="sourceCopy"/> and runs <c>dotnet pack</c> into <paramref name="feed"/>.
    /// <paramref name="rids"/> null packs the release set (FulToolRuntimeIdentifiers' default).</summary>
    public static async Task PackAsync(string sourceCopy, string feed, string version, string? rids, CancellationToken cancellationToken)
    {
        var repo = RepoPaths.Root;
        foreach (var folder in new[] { "src", "build", Path.Combine("samples", "digits") })
        {
            CopyTree(Path.Combine(repo, folder), Path.Combine(sourceCopy, folder));
        }

        foreach (var file in RootFiles)
        {
            File.Copy(Path.Combine(repo, file), Path.Combine(sourceCopy, file));
        }

        await File.WriteAllTextAsync(Path.Combine(sourceCopy, "version.json"), $$"""{ "version": "{{version}}" }""", cancellationToken);
        List<string> args =
        [
            "pack", Path.Combine(sourceCopy, "src", "FisherUnlearn.Tool"), "-c", "Release", "-o", feed,
            "-p:NBGV_GitEngine=Disabled", "-p:PublicRelease=true", "-nodeReuse:false", "--disable-build-servers",
        ];
        if (rids is not null)
        {
            args.Add($"-p:FulToolRuntimeIdentifiers={rids}");
        }

        await RunAsync(Dotnet(sourceCopy).WithArguments(args), cancellationToken);
    }

    /// <summary><c>dotnet</c> in <paramref name="directory"/>, without the MSBuild variables of the test host's own build.</summary>
    public static Command Dotnet(string directory, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var variables = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["MSBUILD_EXE_PATH"] = null,
            ["MSBuildExtensionsPath"] = null,
            ["MSBuildSDKsPath"] = null,
            ["MSBuildLoadMicrosoftTargetsReadOnly"] = null,
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
            ["DOTNET_GENERATE_ASPNET_CERTIFICATE"] = "false",
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            variables[name] = value;
        }

        return CliWrap.Cli.Wrap("dotnet").WithWorkingDirectory(directory).WithEnvironmentVariables(variables).WithValidation(CommandResultValidation.None);
    }

    /// <summary>Runs a command; fails the test with its output unless it exits with 0.</summary>
    public static async Task<BufferedCommandResult> RunAsync(Command command, CancellationToken cancellationToken)
    {
        var result = await command.ExecuteBufferedAsync(Encoding.UTF8, cancellationToken);
        Assert.True(result.ExitCode == 0,
            $"'{command}' exited with {result.ExitCode}:\n{result.StandardOutput}\n{result.StandardError}");
        return result;
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
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
