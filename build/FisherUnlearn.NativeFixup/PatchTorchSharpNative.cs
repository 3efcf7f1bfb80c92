using System.Globalization;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace FisherUnlearn.NativeFixup;

/// <summary>
/// MSBuild task: makes the GLIBCXX_3.4.32 requirement of copied <c>libLibTorchSharp.so</c> files weak so TorchSharp
/// 0.107.0 loads on Debian 12 / Ubuntu 22.04 (see <see cref="ElfVersionNeedPatcher"/>). Logs FUL3006 for each file
/// it patches, FUL3002 (an error) for a file that breaks the patch's assumptions or lies in the NuGet cache, and
/// deletes a stale TorchSharp fallback <c>cpu/</c> folder beside <c>TorchSharp.dll</c>. Idempotent: an already
/// patched file is left untouched. Does nothing off Linux.
/// </summary>
public sealed class PatchTorchSharpNative : Microsoft.Build.Utilities.Task
{
    // Same codes and wording as FisherUnlearn.Lineage's DiagnosticCatalogue (this build task must not depend on it).
    internal const string AssumptionBrokenCode = "FUL3002";
    internal const string AssumptionBrokenMessage =
        "Cannot patch '{0}': {1}. The TorchSharp native library no longer matches the patch's assumptions; re-check with 'objdump -T' and 'readelf -r' and update the fixup.";
    internal const string PatchedCode = "FUL3006";
    internal const string PatchedMessage =
        "Patched '{0}': GLIBCXX_3.4.32 is now a weak version requirement, so it loads on Debian 12 and Ubuntu 22.04.";

    /// <summary>The library copies to patch (normally every <c>libLibTorchSharp.so</c> under OutDir or PublishDir).</summary>
    [Required]
    public ITaskItem[] Files { get; set; } = [];

    /// <summary>The NuGet global packages folder; a file inside it is refused, never patched.</summary>
    public string? NuGetPackageRoot { get; set; }

    /// <summary>Folders that may hold <c>TorchSharp.dll</c>; a <c>cpu/</c> folder beside it (TorchSharp's fallback copy of
    /// unpatched natives from the NuGet cache) is deleted. The folders of <see cref="Files"/> are always checked.</summary>
    public ITaskItem[] TorchSharpDirectories { get; set; } = [];

    /// <summary>Test hook: run even when the OS is not Linux.</summary>
    public bool Force { get; set; }

    /// <summary>The files this run changed.</summary>
    [Output]
    public ITaskItem[] PatchedFiles { get; private set; } = [];

    public override bool Execute()
    {
        if (!OperatingSystem.IsLinux() && !Force)
        {
            Log.LogMessage(MessageImportance.Low, "PatchTorchSharpNative: not Linux, nothing to do.");
            return true;
        }

        // Stale fallback folders first, so their unpatched copies are deleted rather than patched.
        var items = Files.Select(item => Path.GetFullPath(item.GetMetadata("FullPath") is { Length: > 0 } full ? full : item.ItemSpec)).ToList();
        var directories = TorchSharpDirectories.Select(item => Path.TrimEndingDirectorySeparator(Path.GetFullPath(item.ItemSpec)))
            .Concat(items.Select(path => Path.GetDirectoryName(path)!))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        var deleted = directories.Select(DeleteStaleFallback).OfType<string>().ToList();

        var patcher = new ElfVersionNeedPatcher();
        var patched = new List<ITaskItem>();
        foreach (var path in items.Where(p => !deleted.Any(d => ElfVersionNeedPatcher.IsUnder(p, d))))
        {
            var result = patcher.Patch(path, NuGetPackageRoot);
            switch (result.Status)
            {
                case PatchStatus.Patched:
                    Log.LogMessage(null, PatchedCode, null, path, 0, 0, 0, 0, MessageImportance.High,
                        string.Format(CultureInfo.InvariantCulture, PatchedMessage, path));
                    patched.Add(new TaskItem(path));
                    break;
                case PatchStatus.AlreadyPatched:
                    Log.LogMessage(MessageImportance.Low, "'{0}' is already patched (GLIBCXX_3.4.32 is weak); unchanged.", path);
                    break;
                case PatchStatus.NotNeeded:
                    Log.LogMessage(MessageImportance.Low, "'{0}' does not require GLIBCXX_3.4.32; unchanged.", path);
                    break;
                default:
                    Log.LogError(null, AssumptionBrokenCode, null, path, 0, 0, 0, 0,
                        string.Format(CultureInfo.InvariantCulture, AssumptionBrokenMessage, path, result.Reason));
                    break;
            }
        }

        PatchedFiles = [.. patched];
        return !Log.HasLoggedErrors;
    }

    /// <summary>Deletes <c>cpu/</c> beside <c>TorchSharp.dll</c> in <paramref name="directory"/>; returns it when deleted.</summary>
    private string? DeleteStaleFallback(string directory)
    {
        var stale = Path.Combine(directory, "cpu");
        if (!File.Exists(Path.Combine(directory, "TorchSharp.dll")) || !Directory.Exists(stale)
            || ElfVersionNeedPatcher.IsUnder(stale, NuGetPackageRoot))
        {
            return null;
        }

        try
        {
            Directory.Delete(stale, recursive: true);
            Log.LogMessage(MessageImportance.Normal,
                "Deleted '{0}': TorchSharp's fallback copy of the unpatched native libraries from the NuGet cache.", stale);
            return stale;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.LogWarning("Could not delete the stale TorchSharp fallback folder '{0}': {1}", stale, ex.Message);
            return null;
        }
    }
}
