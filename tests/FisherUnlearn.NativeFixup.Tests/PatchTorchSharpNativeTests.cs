using System.Collections;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace FisherUnlearn.NativeFixup.Tests;

public sealed class PatchTorchSharpNativeTests
{
    [Fact]
    public void PatchesACopy_LogsFUL3006AtHighImportance_AndIsQuietTheSecondTime()
    {
        using var temp = new TempDirectory();
        var copy = RealLibrary.CopyTo(temp.Path);
        var engine = new RecordingBuildEngine();

        var task = NewTask(engine, copy);
        Assert.True(task.Execute());

        var message = Assert.Single(engine.Messages, m => m.Code == "FUL3006");
        Assert.Equal(MessageImportance.High, message.Importance);
        Assert.Equal(copy, message.File);
        Assert.Equal($"Patched '{copy}': GLIBCXX_3.4.32 is now a weak version requirement, so it loads on Debian 12 and Ubuntu 22.04.", message.Message);
        Assert.Equal(copy, Assert.Single(task.PatchedFiles).ItemSpec);
        Assert.Empty(engine.Errors);

        var bytes = File.ReadAllBytes(copy);
        var again = new RecordingBuildEngine();
        var second = NewTask(again, copy);
        Assert.True(second.Execute());
        Assert.Empty(second.PatchedFiles);
        Assert.DoesNotContain(again.Messages, m => m.Code is not null || m.Importance == MessageImportance.High);
        Assert.Equal(bytes, File.ReadAllBytes(copy));
    }

    [Fact]
    public void ANonElfFile_IsErrorFUL3002_WithTheFile()
    {
        using var temp = new TempDirectory();
        var path = temp.File("libLibTorchSharp.so");
        File.WriteAllText(path, "not an ELF");
        var engine = new RecordingBuildEngine();

        Assert.False(NewTask(engine, path).Execute());

        var error = Assert.Single(engine.Errors);
        Assert.Equal("FUL3002", error.Code);
        Assert.Equal(path, error.File);
        Assert.StartsWith($"Cannot patch '{path}': not an ELF file (bad magic). The TorchSharp native library no longer matches the patch's assumptions; re-check with 'objdump -T' and 'readelf -r' and update the fixup.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAssumptionBreakingLibrary_IsErrorFUL3002()
    {
        using var temp = new TempDirectory();
        var builder = ElfImageBuilder.LikeTorchSharp();
        builder.RelocationSymbols.Add(2);
        var path = temp.File("libLibTorchSharp.so");
        File.WriteAllBytes(path, builder.Build());
        var engine = new RecordingBuildEngine();

        Assert.False(NewTask(engine, path).Execute());

        var error = Assert.Single(engine.Errors);
        Assert.Equal("FUL3002", error.Code);
        Assert.Equal(path, error.File);
        Assert.Contains("relocation", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFileInTheNuGetCache_IsErrorFUL3002_AndUntouched()
    {
        var hash = RealLibrary.Sha256(RealLibrary.CachePath);
        var engine = new RecordingBuildEngine();

        var task = NewTask(engine, RealLibrary.CachePath);
        task.NuGetPackageRoot = RealLibrary.NuGetPackageRoot;
        Assert.False(task.Execute());

        var error = Assert.Single(engine.Errors);
        Assert.Equal("FUL3002", error.Code);
        Assert.Equal(RealLibrary.CachePath, error.File);
        Assert.Contains("NuGet global packages folder", error.Message, StringComparison.Ordinal);
        Assert.Equal(hash, RealLibrary.Sha256(RealLibrary.CachePath));
    }

    [Fact]
    public void DeletesAStaleCpuFolderBesideTorchSharpDll_InsteadOfPatchingIt()
    {
        using var temp = new TempDirectory();
        var copy = RealLibrary.CopyTo(temp.Path);
        File.WriteAllText(temp.File("TorchSharp.dll"), "");
        var stale = RealLibrary.CopyTo(temp.File("cpu")); // what TorchSharp's fallback leaves after a failed load
        var other = Path.Combine(temp.Path, "other");
        Directory.CreateDirectory(Path.Combine(other, "cpu")); // no TorchSharp.dll beside it: not ours, kept
        var engine = new RecordingBuildEngine();

        var task = NewTask(engine, copy, stale);
        task.TorchSharpDirectories = [new TaskItem(temp.Path), new TaskItem(other)];
        Assert.True(task.Execute());

        Assert.False(Directory.Exists(temp.File("cpu")));
        Assert.True(Directory.Exists(Path.Combine(other, "cpu")));
        Assert.Equal(copy, Assert.Single(engine.Messages, m => m.Code == "FUL3006").File);
        Assert.Contains(engine.Messages, m => m.Message!.StartsWith($"Deleted '{temp.File("cpu")}'", StringComparison.Ordinal));
        Assert.Empty(engine.Errors);
    }

    private static PatchTorchSharpNative NewTask(IBuildEngine engine, params string[] files) => new()
    {
        BuildEngine = engine,
        Files = [.. files.Select(f => new TaskItem(f))],
        NuGetPackageRoot = Path.GetDirectoryName(files[0]) + "-not-a-parent",
    };

    /// <summary>A build engine that records every event (after microsoft/MSBuildSdks' ThreadSafeBuildEngine).</summary>
    private sealed class RecordingBuildEngine : IBuildEngine
    {
        public List<BuildErrorEventArgs> Errors { get; } = [];

        public List<BuildWarningEventArgs> Warnings { get; } = [];

        public List<BuildMessageEventArgs> Messages { get; } = [];

        public bool ContinueOnError => false;

        public int LineNumberOfTaskNode => 0;

        public int ColumnNumberOfTaskNode => 0;

        public string ProjectFileOfTaskNode => "test.proj";

        public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) =>
            throw new NotSupportedException();

        public void LogCustomEvent(CustomBuildEventArgs e)
        {
        }

        public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(e);

        public void LogMessageEvent(BuildMessageEventArgs e) => Messages.Add(e);

        public void LogWarningEvent(BuildWarningEventArgs e) => Warnings.Add(e);
    }
}
