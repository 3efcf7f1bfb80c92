using System.IO.Compression;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Tool.Tests.EndToEnd;

/// <summary>
/// The release pack: plain <c>dotnet pack src/FisherUnlearn.Tool</c> gives the pointer package and one package per
/// RID (linux-x64, win-x64, osx-arm64), each with only its own libtorch. Explicit: it restores the win-x64 and
/// osx-arm64 natives (~600 MB) and writes ~290 MB of packages. Run with
/// <c>dotnet test --project tests/FisherUnlearn.Tool.Tests --explicit only --filter-trait "Category=EndToEnd"</c>.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class ReleasePackTests
{
    private static readonly string[] Rids = ["linux-x64", "win-x64", "osx-arm64"];

    [Fact(Explicit = true, Timeout = 30 * 60 * 1000)]
    public async Task Release_pack_gives_a_pointer_package_and_one_package_per_RID_with_only_its_natives()
    {
        using var temp = new TempWorkspace("fiun-release-pack");
        var version = ToolPacker.UniqueVersion();
        var feed = temp.PathOf("feed");

        await ToolPacker.PackAsync(temp.PathOf("src"), feed, version, rids: null, TestContext.Current.CancellationToken);

        var packages = Directory.GetFiles(feed, "*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
            [$"FisherUnlearn.Tool.{version}.nupkg", .. Rids.Order(StringComparer.Ordinal).Select(r => $"FisherUnlearn.Tool.{r}.{version}.nupkg")],
            packages);
        foreach (var package in packages)
        {
            TestContext.Current.SendDiagnosticMessage($"{package}: {new FileInfo(Path.Combine(feed, package!)).Length:N0} B");
        }

        using (var pointer = ZipFile.OpenRead(Path.Combine(feed, $"FisherUnlearn.Tool.{version}.nupkg")))
        {
            Assert.DoesNotContain(pointer.Entries, e => e.FullName.EndsWith(".dll", StringComparison.Ordinal));
            using var reader = new StreamReader(pointer.Entries.Single(e => e.FullName == "tools/any/any/DotnetToolSettings.xml").Open());
            var settings = reader.ReadToEnd();
            Assert.All(Rids, rid => Assert.Contains($"RuntimeIdentifier=\"{rid}\" Id=\"FisherUnlearn.Tool.{rid}\"", settings, StringComparison.Ordinal));
        }

        (string Rid, string Shim, string[] Foreign)[] expectations =
        [
            ("linux-x64", "libLibTorchSharp.so", [".dylib", "torch_cpu.dll"]),
            ("win-x64", "LibTorchSharp.dll", [".so", ".dylib"]),
            ("osx-arm64", "libLibTorchSharp.dylib", [".so", "torch_cpu.dll"]),
        ];
        foreach (var (rid, shim, foreign) in expectations)
        {
            using var zip = ZipFile.OpenRead(Path.Combine(feed, $"FisherUnlearn.Tool.{rid}.{version}.nupkg"));
            var prefix = $"tools/net10.0/{rid}/";
            Assert.Contains(zip.Entries, e => e.FullName == prefix + "dotnet-unlearn.dll");
            Assert.Contains(zip.Entries, e => e.FullName == prefix + shim);
            Assert.DoesNotContain(zip.Entries, e => foreign.Any(f => e.FullName.EndsWith(f, StringComparison.Ordinal)));
        }
    }
}
