namespace FisherUnlearn.Lineage.IO;

/// <summary>
/// What tells one version of a file from another without reading it, as git's index does: its size, its modification
/// time and, on Unix, its status-change time, device and inode. Tools can set a modification time back (<c>touch -d</c>,
/// <c>cp -p</c>, a cache restore), but not a status-change time: writes, renames and replacements move it (except further
/// writes through a memory mapping to pages already written since the last sync, as for git). Times in nanoseconds since
/// 1970 (100 ns steps on Windows). <see cref="Complete"/> says whether the stamp has all of these: only then may a hash be
/// remembered by it (<see cref="Hashing.FileHashStore"/>).
/// </summary>
public readonly record struct FileStamp(long Length, long ModifiedNs, long ChangedNs, long Device, long Inode)
{
    /// <summary>True when the stamp holds everything the platform offers: on Unix the runtime's stat of the file, checked
    /// against FileInfo and with times that fit; on Windows the size and a modification time that fits.</summary>
    public bool Complete { get; init; }

    /// <summary>The latest of the two times: when the file last changed in any way a stamp can see.</summary>
    public long LatestNs => Math.Max(ModifiedNs, ChangedNs);

    /// <summary>The stamp of the file (links followed), or null when it does not exist or is not a regular file.</summary>
    public static FileStamp? Of(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var info = new FileInfo(path);
        if (RegularFile.Absence(path) is not null)
        {
            return null;
        }

        if (info.LinkTarget is not null)
        {
            info = info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info;
        }

        var ticks = (info.LastWriteTimeUtc - DateTime.UnixEpoch).Ticks;
        var fits = ticks is > long.MinValue / 100 and < long.MaxValue / 100; // nanoseconds as a long: 1678 to 2262
        var basic = new FileStamp(info.Length, fits ? ticks * 100 : 0, 0, 0, 0) { Complete = fits && OperatingSystem.IsWindows() };
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

            if ((status.Mode & SystemNative.TypeMask) != SystemNative.Regular)
            {
                return null; // a FIFO, a device or a socket (RegularFile), from the same stat
            }

            if (status.Size != info.Length
                || status.MTimeNsec is < 0 or > 999_999_999 || status.CTimeNsec is < 0 or > 999_999_999)
            {
                return basic;
            }

            long nativeTicks;
            long modified;
            long changed;
            try
            {
                checked
                {
                    nativeTicks = (status.MTime * 10_000_000) + (status.MTimeNsec / 100);
                    modified = (status.MTime * 1_000_000_000) + status.MTimeNsec;
                    changed = (status.CTime * 1_000_000_000) + status.CTimeNsec;
                }
            }
            catch (OverflowException)
            {
                return basic; // a time past 2262 or before 1678: no complete stamp, the file is hashed each time
            }

            // The runtime's layout checked against FileInfo's view of the same file: any other layout keeps the basic stamp.
            return nativeTicks == ticks
                ? new FileStamp(status.Size, modified, changed, status.Dev, status.Ino) { Complete = true }
                : basic;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return basic;
        }
    }
}
