using System.Buffers.Binary;

namespace FisherUnlearn.NativeFixup.Tests;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ElfVersionNeedPatcherTests
{
    private readonly ElfVersionNeedPatcher _patcher = new();

    // ---- The real TorchSharp 0.107.0 shim (a copy of the NuGet cache file) ----

    [Fact]
    public void RealLibrary_Patch_SetsTheWeakFlag_AndChangesNoOtherByte()
    {
        using var temp = new TempDirectory();
        var copy = RealLibrary.CopyTo(temp.Path);
        var before = File.ReadAllBytes(copy);
        var mode = File.GetUnixFileMode(copy);
        var time = File.GetLastWriteTimeUtc(copy);

        var result = _patcher.Patch(copy, RealLibrary.NuGetPackageRoot);

        Assert.Equal(PatchStatus.Patched, result.Status);
        Assert.Equal(RealLibrary.FlagOffset, result.FlagOffset);
        Assert.Equal(1, result.SymbolCount);
        var after = File.ReadAllBytes(copy);
        Assert.Equal(before.Length, after.Length);
        var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToArray();
        Assert.Equal([(int)RealLibrary.FlagOffset], changed);
        Assert.Equal(0, before[RealLibrary.FlagOffset] & ElfVersionNeedPatcher.VerFlagWeak);
        Assert.Equal(before[RealLibrary.FlagOffset] | ElfVersionNeedPatcher.VerFlagWeak, after[RealLibrary.FlagOffset]);
        Assert.Equal(mode, File.GetUnixFileMode(copy));
        Assert.Equal(time, File.GetLastWriteTimeUtc(copy));
        Assert.Single(Directory.GetFiles(temp.Path)); // no temp file left behind
        Assert.Equal(PatchStatus.AlreadyPatched, _patcher.Inspect(copy).Status);
    }

    [Fact]
    public void RealLibrary_SecondRun_IsANoOp()
    {
        using var temp = new TempDirectory();
        var copy = RealLibrary.CopyTo(temp.Path);
        Assert.Equal(PatchStatus.Patched, _patcher.Patch(copy).Status);
        var once = File.ReadAllBytes(copy);
        var inode = new FileInfo(copy).LastWriteTimeUtc;

        var second = _patcher.Patch(copy);

        Assert.Equal(PatchStatus.AlreadyPatched, second.Status);
        Assert.Equal(RealLibrary.FlagOffset, second.FlagOffset);
        Assert.Equal(once, File.ReadAllBytes(copy));
        Assert.Equal(inode, new FileInfo(copy).LastWriteTimeUtc);
    }

    [Fact]
    public void RealLibrary_InNuGetCache_IsInspectedButNeverPatched()
    {
        var hash = RealLibrary.Sha256(RealLibrary.CachePath);

        Assert.Equal(PatchStatus.NeedsPatch, _patcher.Inspect(RealLibrary.CachePath).Status);
        var result = _patcher.Patch(RealLibrary.CachePath, RealLibrary.NuGetPackageRoot);

        Assert.Equal(PatchStatus.Error, result.Status);
        Assert.Contains("NuGet global packages folder", result.Reason, StringComparison.Ordinal);
        Assert.Equal(hash, RealLibrary.Sha256(RealLibrary.CachePath));
    }

    [Fact]
    public void RefusesAFileUnderTheGivenNuGetRoot()
    {
        using var temp = new TempDirectory();
        var root = temp.File("packages");
        var copy = RealLibrary.CopyTo(Path.Combine(root, "torchsharp", "0.107.0"));
        var before = File.ReadAllBytes(copy);

        var result = _patcher.Patch(copy, root + Path.DirectorySeparatorChar);

        Assert.Equal(PatchStatus.Error, result.Status);
        Assert.Equal(before, File.ReadAllBytes(copy));
        Assert.Equal(PatchStatus.Patched, _patcher.Patch(copy, temp.File("packages2")).Status); // a sibling is not "under"
    }

    [Fact]
    public void SymbolicLinkIntoTheCache_IsReplaced_NotWrittenThrough()
    {
        using var temp = new TempDirectory();
        var original = RealLibrary.CopyTo(temp.File("cache"));
        var link = temp.File("libLibTorchSharp.so");
        File.CreateSymbolicLink(link, original);
        var before = File.ReadAllBytes(original);

        Assert.Equal(PatchStatus.Patched, _patcher.Patch(link, temp.File("cache")).Status);

        Assert.Equal(before, File.ReadAllBytes(original));
        Assert.Equal(PatchStatus.AlreadyPatched, _patcher.Inspect(link).Status);
        Assert.Null(new FileInfo(link).LinkTarget);
    }

    [Fact]
    public void HardLinkIntoTheCache_IsReplaced_NotWrittenThrough()
    {
        using var temp = new TempDirectory();
        var original = RealLibrary.CopyTo(temp.File("cache"));
        var link = temp.File("libLibTorchSharp.so");
        using (var ln = System.Diagnostics.Process.Start("ln", [original, link]))
        {
            ln.WaitForExit();
            Assert.Equal(0, ln.ExitCode);
        }

        var before = File.ReadAllBytes(original);

        Assert.Equal(PatchStatus.Patched, _patcher.Patch(link, temp.File("cache")).Status);

        Assert.Equal(before, File.ReadAllBytes(original));
        Assert.Equal(PatchStatus.AlreadyPatched, _patcher.Inspect(link).Status);
    }

    [Fact]
    public void RefusesANonElfFile()
    {
        using var temp = new TempDirectory();
        var path = temp.File("libLibTorchSharp.so");
        File.WriteAllText(path, "this is not an ELF file, just text that is long enough to hold a header....");
        var before = File.ReadAllBytes(path);

        var result = _patcher.Patch(path);

        Assert.Equal(PatchStatus.Error, result.Status);
        Assert.Contains("not an ELF file", result.Reason, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void RefusesA32BitElf()
    {
        var image = File.ReadAllBytes(RealLibrary.CachePath);
        image[4] = 1; // ELFCLASS32

        var result = _patcher.Patch(image.AsSpan());

        Assert.Equal(PatchStatus.Error, result.Status);
        Assert.Contains("64-bit", result.Reason, StringComparison.Ordinal);
        Assert.Equal(0, image[RealLibrary.FlagOffset] & ElfVersionNeedPatcher.VerFlagWeak);
    }

    [Fact]
    public void RefusesABigEndianElf()
    {
        var image = ElfImageBuilder.LikeTorchSharp().Build();
        image[5] = 2; // ELFDATA2MSB

        var result = _patcher.Inspect(image);

        Assert.Equal(PatchStatus.Error, result.Status);
        Assert.Contains("little-endian", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(40)]
    [InlineData(0x3fa00)] // header intact, section header table (at the end of the file) cut off
    public void RefusesATruncatedElf(int length)
    {
        using var temp = new TempDirectory();
        var path = temp.File("libLibTorchSharp.so");
        File.WriteAllBytes(path, File.ReadAllBytes(RealLibrary.CachePath)[..length]);
        var before = File.ReadAllBytes(path);

        var result = _patcher.Patch(path);

        Assert.Equal(PatchStatus.Error, result.Status);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void RefusesAMissingFile()
    {
        using var temp = new TempDirectory();
        var result = _patcher.Patch(temp.File("nothing.so"));
        Assert.Equal(PatchStatus.Error, result.Status);
        Assert.Contains("cannot read", result.Reason, StringComparison.Ordinal);
    }

    // ---- Synthetic ELF images ----

    [Fact]
    public void Synthetic_LikeTorchSharp_IsPatchedAtTheRightOffset()
    {
        var builder = ElfImageBuilder.LikeTorchSharp();
        var image = builder.Build();
        var before = (byte[])image.Clone();

        var result = _patcher.Patch(image.AsSpan());

        Assert.Equal(PatchStatus.Patched, result.Status);
        Assert.Equal(3, result.VersionIndex);
        Assert.Equal(1, result.SymbolCount);
        Assert.Equal(ElfVersionNeedPatcher.VerFlagWeak, BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan((int)result.FlagOffset)));
        Assert.Equal(1, Enumerable.Range(0, image.Length).Count(i => image[i] != before[i]));
        Assert.Equal(PatchStatus.AlreadyPatched, _patcher.Patch(image.AsSpan()).Status);
    }

    [Fact]
    public void Synthetic_OtherFlagBitsAreKept()
    {
        var image = ElfImageBuilder.LikeTorchSharp(flags32: 0x1).Build();
        var result = _patcher.Patch(image.AsSpan());
        Assert.Equal(PatchStatus.Patched, result.Status);
        Assert.Equal(0x3, BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan((int)result.FlagOffset)));
    }

    [Fact]
    public void Synthetic_AlreadyWeak_IsAlreadyPatched()
    {
        var image = ElfImageBuilder.LikeTorchSharp(flags32: ElfVersionNeedPatcher.VerFlagWeak).Build();
        var before = (byte[])image.Clone();
        Assert.Equal(PatchStatus.AlreadyPatched, _patcher.Patch(image.AsSpan()).Status);
        Assert.Equal(before, image);
    }

    [Fact]
    public void Synthetic_NoRequirementFor3432_IsNotNeeded()
    {
        var builder = new ElfImageBuilder();
        builder.Needs.Add(("libstdc++.so.6", [("GLIBCXX_3.4.30", 2, 0), ("GLIBCXX_3.4.29", 3, 0)]));
        builder.SymbolVersions.AddRange([2, 3]);
        var image = builder.Build();
        var before = (byte[])image.Clone();

        Assert.Equal(PatchStatus.NotNeeded, _patcher.Patch(image.AsSpan()).Status);
        Assert.Equal(before, image);
    }

    [Fact]
    public void Synthetic_NoVerneedSection_IsNotNeeded()
    {
        var builder = ElfImageBuilder.LikeTorchSharp();
        builder.IncludeVerneed = false;
        Assert.Equal(PatchStatus.NotNeeded, _patcher.Inspect(builder.Build()).Status);
    }

    [Fact]
    public void Synthetic_TwoSymbolsAt3432_IsAnError()
    {
        var builder = ElfImageBuilder.LikeTorchSharp();
        builder.SymbolVersions.Add(3);
        var image = builder.Build();
        var before = (byte[])image.Clone();

        var result = _patcher.Patch(image.AsSpan());

        Assert.Equal(PatchStatus.Error, result.Status);
        Assert.Contains("2 dynamic symbols use GLIBCXX_3.4.32", result.Reason, StringComparison.Ordinal);
        Assert.Equal(before, image);
    }

    [Fact]
    public void Synthetic_HiddenSymbolAt3432_CountsToo()
    {
        var builder = ElfImageBuilder.LikeTorchSharp();
        builder.SymbolVersions.Add(0x8003);
        Assert.Equal(PatchStatus.Error, _patcher.Inspect(builder.Build()).Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Synthetic_RelocationReferencingTheSymbol_IsAnError(bool useRel)
    {
        var builder = ElfImageBuilder.LikeTorchSharp();
        builder.UseRel = useRel;
        builder.RelocationSymbols.Add(2); // symbol 2 uses version index 3 = GLIBCXX_3.4.32
        var image = builder.Build();
        var before = (byte[])image.Clone();

        var result = _patcher.Patch(image.AsSpan());

        Assert.Equal(PatchStatus.Error, result.Status);
        Assert.Contains("references symbol 2", result.Reason, StringComparison.Ordinal);
        Assert.Equal(before, image);
    }

    [Fact]
    public void Synthetic_TwoVernauxEntriesFor3432_IsAnError()
    {
        var builder = ElfImageBuilder.LikeTorchSharp();
        builder.Needs.Add(("libother.so", [("GLIBCXX_3.4.32", 5, 0)]));
        var result = _patcher.Inspect(builder.Build());
        Assert.Equal(PatchStatus.Error, result.Status);
        Assert.Contains("2 Vernaux entries", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Synthetic_MissingVersym_IsAnError()
    {
        var builder = ElfImageBuilder.LikeTorchSharp();
        builder.IncludeVersym = false;
        var result = _patcher.Inspect(builder.Build());
        Assert.Equal(PatchStatus.Error, result.Status);
        Assert.Contains(".gnu.version", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Synthetic_BrokenVerneedLink_IsAnErrorNotAnException()
    {
        var builder = ElfImageBuilder.LikeTorchSharp();
        var image = builder.Build();
        // Point every section's offset far past the end of the file.
        for (var i = 1; i < BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(0x3C)); i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(builder.SectionHeaderOffset + (64 * i) + 24), 0x7fff_0000);
        }

        var result = _patcher.Inspect(image);

        Assert.Equal(PatchStatus.Error, result.Status);
        Assert.Contains("outside the file", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/home/u/.nuget/packages/torchsharp/x.so", "/home/u/.nuget/packages", true)]
    [InlineData("/home/u/.nuget/packages/torchsharp/x.so", "/home/u/.nuget/packages/", true)]
    [InlineData("/home/u/.nuget/packages-other/x.so", "/home/u/.nuget/packages", false)]
    [InlineData("/home/u/.nuget/packages/../elsewhere/x.so", "/home/u/.nuget/packages", false)]
    [InlineData("/repo/bin/x.so", null, false)]
    [InlineData("/repo/bin/x.so", "", false)]
    public void IsUnder(string path, string? root, bool expected) =>
        Assert.Equal(expected, ElfVersionNeedPatcher.IsUnder(path, root));
}
