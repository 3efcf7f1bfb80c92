namespace FisherUnlearn.Lineage.IO;

/// <summary>
/// What tells one version of a file from another without reading it, as git's index does: its size, its modification
/// time and, on Unix, its status-change time, device and inode. Tools can set a modification time back (<c>touch -d</c>,
/// <c>cp -p</c>, a cache restore), but no tool sets a status-change time: every write, rename or replacement moves it.
/// Times in nanoseconds since 1970 (100 ns steps where only FileInfo is available: on Windows, or when the runtime's stat
/// does not check out against FileInfo for this file).
/// </summary>
public readonly record struct FileStamp(long Length, long ModifiedNs, long ChangedNs, long Device, long Inode)
{
    /// <summary>The stamp of the file (links followed), or null when it does not exist or is not a regular file.</summary>
    public static FileStamp? Of(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var info = new FileInfo(path);
        if (!info.Exists || RegularFile.KindOf(path) is not null)
        {
            return null;
        }

        if (info.LinkTarget is not null)
        {
            info = info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info;
        }

        var modified = (info.LastWriteTimeUtc - DateTime.UnixEpoch).Ticks * 100;
        var basic = new FileStamp(info.Length, modified, 0, 0, 0);
        if (OperatingSystem.IsWindows())
        {
            return basic;
        }

        try
        {
            if (SystemNative.Stat(path, out var status) != 0)
            {
                return basic;
            }

            // The runtime's layout checked against FileInfo's view of the same file: any other layout keeps the basic stamp.
            var nativeModified = (status.MTime * 1_000_000_000) + status.MTimeNsec;
            return status.Size == info.Length && nativeModified / 100 == modified / 100
                ? new FileStamp(status.Size, nativeModified, (status.CTime * 1_000_000_000) + status.CTimeNsec, status.Dev, status.Ino)
                : basic;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return basic;
        }
    }
}
