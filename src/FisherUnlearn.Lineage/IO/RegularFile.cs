using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Lineage.IO;

/// <summary>
/// Every file the tool reads or hashes (manifests, checkpoints, data files, model assemblies, caches) must be a regular
/// file, or a symbolic link to one. A FIFO would block the open until some writer appears, and a device such as
/// <c>/dev/zero</c> never ends: either would make a command hang. <see cref="OpenRead"/> (and <see cref="Ensure"/>)
/// refuse them before anything is opened, with <see cref="DiagnosticCatalogue.NotARegularFile"/> (FUL1027).
/// On Windows there are no such files in the file system: every path counts as regular there.
/// </summary>
public static class RegularFile
{
    /// <summary>What the path leads to (links followed) when that exists and is not a regular file or a folder: "a FIFO
    /// (named pipe)", "a character device", "a block device" or "a socket"; null otherwise (regular, a folder, missing).</summary>
    public static string? KindOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        int mode;
        try
        {
            if (SystemNative.Stat(path, out var status) != 0)
            {
                return null; // missing, a dangling link or no permission: opening it reports that as it always has
            }

            mode = status.Mode;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null; // a runtime without the call: fall back to opening the file as before
        }

        return (mode & SystemNative.TypeMask) switch
        {
            SystemNative.Fifo => "a FIFO (named pipe)",
            SystemNative.CharacterDevice => "a character device",
            SystemNative.BlockDevice => "a block device",
            SystemNative.Socket => "a socket",
            _ => null,
        };
    }

    /// <summary>Why no file can be read at <paramref name="path"/>: "does not exist", "is a folder, not a file", or a
    /// <see cref="BrokenLink"/>; null when one is there (what kind of file it is, <see cref="KindOf"/> says).</summary>
    public static string? Absence(string path) =>
        File.Exists(path) ? BrokenLink(path)
        : Directory.Exists(path) ? "is a folder, not a file"
        : "does not exist";

    /// <summary>Whether no file is at <paramref name="path"/> at all: nothing is there, or a symbolic link that leads nowhere
    /// (<see cref="BrokenLink"/>: content not fetched yet, a loop), which counts as missing. A folder there is not gone: it
    /// is something in the file's place (<see cref="Absence"/> says "is a folder, not a file").</summary>
    public static bool Gone(string path) => File.Exists(path) ? BrokenLink(path) is not null : !Directory.Exists(path);

    /// <summary>
    /// Why a symbolic link at <paramref name="path"/> leads nowhere, in words a message completes ("is a symbolic link to
    /// 'x', which does not exist"), or null when the path is no link or its final target exists. Such a link passes
    /// <see cref="File.Exists"/> (it looks at the link itself) but cannot be opened: a large file git-annex or DVC has not
    /// fetched yet, or a link that leads around in a loop.
    /// </summary>
    public static string? BrokenLink(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var info = new FileInfo(path);
        if (info.LinkTarget is not { } target)
        {
            return null;
        }

        try
        {
            var final = info.ResolveLinkTarget(returnFinalTarget: true);
            return final is null || File.Exists(final.FullName) || Directory.Exists(final.FullName)
                ? null
                : $"is a symbolic link to '{target}', which does not exist (a large file not fetched yet? 'git annex get' or 'dvc pull' fetches it)";
        }
        catch (IOException)
        {
            return $"is a symbolic link to '{target}' that leads around in a loop of links";
        }
    }

    /// <summary>The file at <paramref name="path"/> or on the way to it (the nearest existing entry, going up), which keeps a
    /// folder from being made there; null when that entry is a folder or nothing up to <paramref name="stopAt"/> (or the
    /// root) exists. For a folder to write into (an output root) named under a file.</summary>
    public static string? FileAtOrAbove(string path, string? stopAt = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        for (var at = path; !string.IsNullOrEmpty(at) && (stopAt is null || at.Length >= stopAt.Length); at = System.IO.Path.GetDirectoryName(at))
        {
            if (Directory.Exists(at))
            {
                return null;
            }

            if (File.Exists(at))
            {
                return at;
            }
        }

        return null;
    }

    /// <summary>Throws <see cref="NotARegularFileException"/> when <paramref name="path"/> exists and is not a regular file.</summary>
    public static void Ensure(string path)
    {
        if (KindOf(path) is { } kind)
        {
            throw new NotARegularFileException(path, kind);
        }
    }

    /// <summary>Opens a regular file for reading (see <see cref="Ensure"/>).</summary>
    /// <exception cref="NotARegularFileException">The path leads to a FIFO, a device or a socket.</exception>
    public static FileStream OpenRead(string path, FileShare share = FileShare.Read, int bufferSize = 4096, FileOptions options = FileOptions.None)
    {
        Ensure(path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, share, bufferSize, options);
    }
}

/// <summary>A path the tool was to read leads to a FIFO, a device or a socket (<see cref="RegularFile"/>).</summary>
public sealed class NotARegularFileException : IOException
{
    public NotARegularFileException(string path, string kind)
        : base($"'{path}' is {kind}, not a regular file.")
    {
        Path = path;
        Kind = kind;
    }

    /// <summary>The path as given.</summary>
    public string Path { get; }

    /// <summary>What it is instead: "a FIFO (named pipe)", "a character device", ...</summary>
    public string Kind { get; }

    /// <summary>The FUL1027 diagnostic, located at the file.</summary>
    public Diagnostic Diagnostic => Diagnostics.Diagnostic.Create(DiagnosticCatalogue.NotARegularFile, new SourceLocation(Path), Path, Kind);
}
