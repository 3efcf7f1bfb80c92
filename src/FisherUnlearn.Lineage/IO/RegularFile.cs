using System.Runtime.InteropServices;
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
            if (Native.SystemNative_Stat(path, out var status) != 0)
            {
                return null; // missing, a dangling link or no permission: opening it reports that as it always has
            }

            mode = status.Mode;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null; // a runtime without the call: fall back to opening the file as before
        }

        return (mode & Native.TypeMask) switch
        {
            Native.Fifo => "a FIFO (named pipe)",
            Native.CharacterDevice => "a character device",
            Native.BlockDevice => "a block device",
            Native.Socket => "a socket",
            _ => null,
        };
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

    // The .NET runtime's own portable stat (System.Native, shipped with every runtime on Unix, what FileInfo uses): its
    // FileStatus starts with Flags and Mode (file type bits normalised to these values on every Unix). The struct is
    // given far more room than the runtime writes, so a larger FileStatus in a later runtime cannot overrun it.
    private static class Native
    {
        public const int TypeMask = 0xF000;
        public const int Fifo = 0x1000;
        public const int CharacterDevice = 0x2000;
        public const int BlockDevice = 0x6000;
        public const int Socket = 0xC000;

        [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
        public static extern int SystemNative_Stat(string path, out FileStatus status);

        [StructLayout(LayoutKind.Explicit, Size = 512)]
        public struct FileStatus
        {
            [FieldOffset(4)]
            public int Mode;
        }
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
