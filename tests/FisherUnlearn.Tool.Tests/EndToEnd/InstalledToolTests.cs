using System.IO.Compression;
using CliWrap;
using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Tests.Support;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Tests.EndToEnd;

/// <summary>
/// The packed tool as users get it: installed with <c>dotnet tool install</c> into a tool path and through a local
/// tool manifest, then run as a separate process. Only these tests catch a wrong <c>tools/</c> layout, a missing
/// deps.json or native library, or an exit code lost on the way through <c>dotnet unlearn</c>. Filter them with
/// <c>--filter-not-trait "Category=EndToEnd"</c>; the pack runs once for all of them (<see cref="PackedToolFixture"/>).
/// </summary>
[Collection(PackedToolCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class InstalledToolTests(PackedToolFixture tool)
{
    [Fact]
    public void The_pointer_package_is_small_and_the_RID_package_carries_the_patched_native_shim()
    {
        TestContext.Current.SendDiagnosticMessage(
            $"pack {tool.PackTime.TotalSeconds:F0} s; {Path.GetFileName(tool.PointerPackage)} {new FileInfo(tool.PointerPackage).Length:N0} B; {Path.GetFileName(tool.RidPackage)} {new FileInfo(tool.RidPackage).Length:N0} B");
        Assert.Equal(
            [Path.GetFileName(tool.PointerPackage), Path.GetFileName(tool.RidPackage)],
            Directory.GetFiles(tool.Feed, "*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.True(new FileInfo(tool.PointerPackage).Length < 16 * 1024);

        using (var pointer = ZipFile.OpenRead(tool.PointerPackage))
        {
            Assert.DoesNotContain(pointer.Entries, e => e.FullName.EndsWith(".dll", StringComparison.Ordinal) || e.FullName.EndsWith(".so", StringComparison.Ordinal));
            using var settings = new StreamReader(Assert.Single(pointer.Entries, e => e.FullName == "tools/any/any/DotnetToolSettings.xml").Open());
            var xml = settings.ReadToEnd();
            Assert.Contains($"RuntimeIdentifier=\"{ToolPacker.CurrentRid}\" Id=\"{ToolPacker.PackageId}.{ToolPacker.CurrentRid}\"", xml, StringComparison.Ordinal);
        }

        using var rid = ZipFile.OpenRead(tool.RidPackage);
        var prefix = $"tools/net10.0/{ToolPacker.CurrentRid}/";
        Assert.Contains(rid.Entries, e => e.FullName == prefix + "dotnet-unlearn.dll");
        Assert.Contains(rid.Entries, e => e.FullName == prefix + "dotnet-unlearn.deps.json");
        if (OperatingSystem.IsLinux())
        {
            // Only this RID's natives, flat beside the assemblies; the shim differs from TorchSharp's by the one byte
            // the fixup flips (GLIBCXX_3.4.32 made weak).
            Assert.DoesNotContain(rid.Entries, e => e.FullName.Contains("/runtimes/", StringComparison.Ordinal)
                || e.FullName.EndsWith(".dylib", StringComparison.Ordinal) || e.FullName.EndsWith("torch_cpu.dll", StringComparison.Ordinal));
            var shim = Assert.Single(rid.Entries, e => e.FullName == prefix + "libLibTorchSharp.so");
            using var stream = shim.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var original = File.ReadAllBytes(TorchSharpShimInNuGetCache());
            Assert.Equal(original.Length, copy.Length);
            Assert.Equal(1, original.Zip(copy.ToArray()).Count(pair => pair.First != pair.Second));
        }
    }

    [Fact]
    public void The_RID_package_carries_ReadyToRun_images_of_the_tools_own_assemblies()
    {
        // Precompiled code, so a command does not start by JIT-compiling the tool (FisherUnlearn.Tool.csproj).
        using var rid = ZipFile.OpenRead(tool.RidPackage);
        var prefix = $"tools/net10.0/{ToolPacker.CurrentRid}/";
        foreach (var assembly in new[] { "dotnet-unlearn.dll", "FisherUnlearn.Engine.dll", "FisherUnlearn.Lineage.dll" })
        {
            using var stream = Assert.Single(rid.Entries, e => e.FullName == prefix + assembly).Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            using var pe = new System.Reflection.PortableExecutable.PEReader(copy);
            Assert.True(pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0, $"{assembly} is IL only, not ReadyToRun");
        }
    }

    [Fact(Timeout = 15 * 60 * 1000)]
    public async Task A_tool_path_install_runs_and_propagates_exit_codes()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var temp = new TempWorkspace("fiun-e2e-global");
        var toolPath = temp.PathOf("tools");
        await ToolPacker.RunAsync(ToolPacker.Dotnet(tool.Home).WithArguments(
            ["tool", "install", "--tool-path", toolPath, "--add-source", tool.Feed, ToolPacker.PackageId, "--version", tool.Version]), cancellation);
        var exe = Path.Combine(toolPath, OperatingSystem.IsWindows() ? "dotnet-unlearn.exe" : "dotnet-unlearn");
        var sample = CopyDigitsSample(temp.PathOf("digits"));

        var valid = await Run(CliWrap.Cli.Wrap(exe).WithWorkingDirectory(temp.Root), "validate", "--workspace", sample, "--json");
        Assert.True(valid.ExitCode == 0, valid.StandardError);
        Assert.True((bool)JObject.Parse(valid.StandardOutput)["valid"]!);

        BreakAManifest(sample);
        var broken = await Run(CliWrap.Cli.Wrap(exe).WithWorkingDirectory(temp.Root), "validate", "--workspace", sample);
        Assert.Equal(2, broken.ExitCode);
        Assert.Contains("error FUL1011:", broken.StandardError, StringComparison.Ordinal);

        var version = await Run(CliWrap.Cli.Wrap(exe).WithWorkingDirectory(temp.Root), "--version");
        Assert.Equal(0, version.ExitCode);
        // The informational version: NB.GV writes 0.0.0.0-e2e... (four parts) for package version 0.0.0-e2e...
        Assert.Contains(tool.Version.Split('-')[1], version.StandardOutput, StringComparison.Ordinal);
    }

    [Fact(Timeout = 15 * 60 * 1000)]
    public async Task A_local_tool_manifest_restores_and_runs_as_dotnet_unlearn()
    {
        var cancellation = TestContext.Current.CancellationToken;
        // A project folder below the one with nuget.config; local tools live in the NuGet global packages folder,
        // so that is a temporary one here: each run's unique version would otherwise leave ~500 MB in ~/.nuget.
        var repo = Directory.CreateDirectory(Path.Combine(tool.Home, $"repo-{Guid.NewGuid():N}")).FullName;
        var environment = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = Path.Combine(repo, ".nuget-packages") };
        Command Dotnet(string directory) => ToolPacker.Dotnet(directory, environment);
        try
        {
            await ToolPacker.RunAsync(Dotnet(repo).WithArguments(["new", "tool-manifest"]), cancellation);
            await ToolPacker.RunAsync(Dotnet(repo).WithArguments(
                ["tool", "install", "--local", ToolPacker.PackageId, "--version", tool.Version, "--add-source", tool.Feed]), cancellation);
            var manifest = JObject.Parse(await File.ReadAllTextAsync(Path.Combine(repo, "dotnet-tools.json"), cancellation));
            var entry = manifest["tools"]![ToolPacker.PackageId.ToLowerInvariant()]!;
            Assert.Equal(tool.Version, (string)entry["version"]!);
            Assert.Equal(["dotnet-unlearn"], entry["commands"]!.Select(c => (string)c!));

            // A fresh clone: the manifest is there, the package is not, until 'dotnet tool restore'.
            Directory.Delete(Path.Combine(repo, ".nuget-packages"), recursive: true);
            await ToolPacker.RunAsync(Dotnet(repo).WithArguments(["tool", "restore"]), cancellation);

            var sample = CopyDigitsSample(Path.Combine(repo, "models"));
            var fromSubfolder = Path.Combine(sample, "digits-base");
            var valid = await Run(Dotnet(fromSubfolder), "unlearn", "validate", "--workspace", "..");
            Assert.True(valid.ExitCode == 0, valid.StandardError);
            Assert.Contains("7 models, 1 dataset, 2 removal requests: valid.", valid.StandardError, StringComparison.Ordinal);

            var plan = await Run(Dotnet(repo), "unlearn", "plan", "forget-3", "--workspace", "models", "--json");
            Assert.True(plan.ExitCode == 0, plan.StandardError);
            Assert.Equal(["digits-base"], JObject.Parse(plan.StandardOutput)["roots"]!.Select(r => (string)r!));

            BreakAManifest(sample);
            var broken = await Run(Dotnet(repo), "unlearn", "validate", "--workspace", "models");
            Assert.Equal(2, broken.ExitCode);
            Assert.Contains("error FUL1011:", broken.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(repo, recursive: true);
        }
    }

    private static async Task<CliWrap.Buffered.BufferedCommandResult> Run(Command command, params string[] args) =>
        await CliWrap.Buffered.BufferedCommandExtensions.ExecuteBufferedAsync(
            command.WithArguments(args).WithValidation(CommandResultValidation.None), TestContext.Current.CancellationToken);

    private static string CopyDigitsSample(string target)
    {
        foreach (var file in Directory.EnumerateFiles(RepoPaths.DigitsSample, "*.json", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(RepoPaths.DigitsSample, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(s => s is "bin" or "obj" or "artifacts"))
            {
                continue;
            }

            var destination = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        return target;
    }

    private static void BreakAManifest(string sample)
    {
        var path = Path.Combine(sample, "digits-plus-5", "digits-plus-5.lineage.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"finetune\"", "\"fine-tune\"", StringComparison.Ordinal));
    }

    private static string TorchSharpShimInNuGetCache()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }
}
