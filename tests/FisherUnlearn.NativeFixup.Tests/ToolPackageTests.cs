using System.Diagnostics;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace FisherUnlearn.NativeFixup.Tests;

/// <summary>
/// End to end: pack the real dotnet-unlearn tool, install it from the package into a temporary tool path, check that
/// both the package and the installed copy carry the patched shim, that the shim loads in this process, and that the
/// tool starts. Explicit (about 2 minutes, 130 MB linux-x64 package); run with
/// <c>dotnet test --project tests/FisherUnlearn.NativeFixup.Tests --explicit only</c>.
/// </summary>
public sealed class ToolPackageTests
{
    [Fact(Explicit = true, Timeout = 15 * 60 * 1000)]
    public async Task PackedAndInstalledTool_CarriesThePatchedShim_AndStarts()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("The fixup runs on Linux only.");
        }

        var cancellation = TestContext.Current.CancellationToken;
        var repo = FindRepoRoot();
        var cacheHash = RealLibrary.Sha256(RealLibrary.CachePath);
        using var temp = new TempDirectory();
        var packages = temp.File("packages");
        // linux-x64 only: the pointer package FisherUnlearn.Tool plus the RID-specific FisherUnlearn.Tool.linux-x64,
        // which carries the natives (a plain `dotnet pack` also makes win-x64 and osx-arm64 packages).
        await Run(cancellation, repo, "dotnet", "pack", Path.Combine(repo, "src", "FisherUnlearn.Tool"), "-o", packages,
            "-p:FulToolRuntimeIdentifiers=linux-x64");

        // The version comes from Nerdbank.GitVersioning: read it back from the file name.
        const string ridPackagePrefix = "FisherUnlearn.Tool.linux-x64.";
        var nupkg = Assert.Single(Directory.GetFiles(packages, ridPackagePrefix + "*.nupkg"));
        var version = Path.GetFileNameWithoutExtension(nupkg)[ridPackagePrefix.Length..];
        Assert.True(File.Exists(Path.Combine(packages, $"FisherUnlearn.Tool.{version}.nupkg")), "The pointer package is missing.");
        using (var zip = ZipFile.OpenRead(nupkg))
        {
            var entry = Assert.Single(zip.Entries, e => e.FullName.EndsWith("/libLibTorchSharp.so", StringComparison.Ordinal));
            var extracted = temp.File("from-package.so");
            entry.ExtractToFile(extracted);
            Assert.Equal(PatchStatus.AlreadyPatched, new ElfVersionNeedPatcher().Inspect(extracted).Status);
        }

        var toolPath = temp.File("tool");
        await Run(cancellation, temp.Path, "dotnet", "tool", "install", "--tool-path", toolPath, "--add-source", packages,
            "FisherUnlearn.Tool", "--version", version);

        var installed = Assert.Single(Directory.GetFiles(toolPath, "libLibTorchSharp.so", SearchOption.AllDirectories));
        Assert.Equal(PatchStatus.AlreadyPatched, new ElfVersionNeedPatcher().Inspect(installed).Status);
        var handle = NativeLibrary.Load(installed); // throws "version 'GLIBCXX_3.4.32' not found" when unpatched on Debian 12
        NativeLibrary.Free(handle);

        await Run(cancellation, temp.Path, Path.Combine(toolPath, "dotnet-unlearn"), "--help");
        Assert.Equal(cacheHash, RealLibrary.Sha256(RealLibrary.CachePath));
    }

    private static async Task Run(CancellationToken cancellation, string directory, string fileName, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        using var kill = cancellation.Register(() => process.Kill(entireProcessTree: true));
        var output = process.StandardOutput.ReadToEndAsync(cancellation);
        var error = process.StandardError.ReadToEndAsync(cancellation);
        await process.WaitForExitAsync(cancellation);
        Assert.True(process.ExitCode == 0,
            $"'{fileName} {string.Join(' ', arguments)}' exited with {process.ExitCode}:\n{await output}\n{await error}");
    }

    private static string FindRepoRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "FisherUnlearn.Tooling.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (FisherUnlearn.Tooling.sln) was not found above " + AppContext.BaseDirectory);
    }
}
