using System.Reflection;
using System.Security.Cryptography;

namespace FisherUnlearn.NativeFixup.Tests;

/// <summary>The real TorchSharp 0.107.0 shim in the NuGet global packages folder, and scratch copies of it.</summary>
internal static class RealLibrary
{
    /// <summary>Where the only GLIBCXX_3.4.32 Vernaux entry keeps its vna_flags in TorchSharp 0.107.0's linux-x64 shim.</summary>
    public const long FlagOffset = 0x3fa34;

    /// <summary>The NuGet global packages folder: the build's NuGetPackageRoot (baked into this assembly), else
    /// NUGET_PACKAGES, else ~/.nuget/packages.</summary>
    public static string NuGetPackageRoot { get; } = FindNuGetPackageRoot();

    public static string CachePath { get; } =
        Path.Combine(NuGetPackageRoot, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    public static string CopyTo(string directory)
    {
        Assert.True(File.Exists(CachePath), $"TorchSharp 0.107.0's libLibTorchSharp.so was not found at '{CachePath}' (restore the solution first).");
        Directory.CreateDirectory(directory);
        var copy = Path.Combine(directory, "libLibTorchSharp.so");
        File.Copy(CachePath, copy, overwrite: true);
        return copy;
    }

    public static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static string FindNuGetPackageRoot()
    {
        var baked = typeof(RealLibrary).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "NuGetPackageRoot")?.Value;
        foreach (var candidate in new[] { baked, Environment.GetEnvironmentVariable("NUGET_PACKAGES") })
        {
            if (!string.IsNullOrWhiteSpace(candidate) && Directory.Exists(candidate))
            {
                return Path.TrimEndingDirectorySeparator(Path.GetFullPath(candidate));
            }
        }

        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    }
}

/// <summary>A temporary folder deleted at the end of the test.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ful-nativefixup-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
