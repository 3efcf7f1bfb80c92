using System.Globalization;

namespace FisherUnlearn.Lineage.IO;

/// <summary>
/// An exclusive, advisory lock on an output folder, held for as long as the object lives. It is a lock file opened
/// with <see cref="FileShare.None"/> (an <c>flock</c> on Unix, a share lock on Windows), so the operating system
/// releases it when the holder dies: a killed run never leaves a stale lock behind. A side file records the holder's
/// process id for the message the second run prints (the lock file itself cannot be read while it is held).
/// </summary>
public sealed class OutputLock : IDisposable
{
    public const string FileName = ".unlearn.lock";

    private const string OwnerSuffix = ".owner";

    private readonly FileStream stream;

    private OutputLock(FileStream stream, string path)
    {
        this.stream = stream;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Takes the lock on <paramref name="directory"/> (created if missing), or returns null and the holder's
    /// description when another process has it. <paramref name="scope"/> names a part of the folder that may be
    /// written independently of the others (a shard), so runs of different parts do not wait for each other.</summary>
    public static OutputLock? TryAcquire(string directory, out string? holder, string? scope = null) =>
        TryAcquire(directory, scope, out holder, retryIfRemoved: true);

    private static OutputLock? TryAcquire(string directory, string? scope, out string? holder, bool retryIfRemoved)
    {
        Directory.CreateDirectory(directory);
        var path = System.IO.Path.Combine(directory, scope is null ? FileName : $".unlearn-{scope}.lock");
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 4096, FileOptions.DeleteOnClose);
            File.WriteAllText(path + OwnerSuffix, string.Create(CultureInfo.InvariantCulture,
                $"pid {Environment.ProcessId} since {DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ssZ}"));
            holder = null;
            return new OutputLock(stream, path);
        }
        catch (DirectoryNotFoundException) when (retryIfRemoved)
        {
            // A run that failed before writing anything takes away the empty folder its lock made (RunCoordinator): it
            // went between the two steps above, which is no holder. Made again, once.
            return TryAcquire(directory, scope, out holder, retryIfRemoved: false);
        }
        catch (IOException ex) when (!OnReadOnlyFileSystem(ex))
        {
            // Held by another process (which may release it, and its file go, a moment later: CI caught a check of the
            // file here failing two --only runs that raced). A folder that refuses the file is UnauthorizedAccessException,
            // a read-only file system the exception below: neither is another holder.
            holder = ReadHolder(path);
            return null;
        }
    }

    // EROFS (30 on Linux and macOS, the errno .NET gives as the HResult there), or Windows' ERROR_WRITE_PROTECT (QA: verify on
    // a read-only mount said another process was writing, FUL3007).
    private static bool OnReadOnlyFileSystem(IOException ex) =>
        OperatingSystem.IsWindows() ? (ex.HResult & 0xFFFF) == 19 : ex.HResult == 30;

    /// <summary>Scopes that guard a short section (writing the shared reports, publishing a summary), not outputs: a
    /// whole-folder writer does not count them as writers of the folder's outputs.</summary>
    private static readonly string[] SectionScopes = ["report", "msbuild-summary"];

    /// <summary>How long a writer of a part waits for a probe of the whole-folder lock: other parts probe it too, each for
    /// a moment, while a whole-folder writer holds it for its whole run.</summary>
    private static readonly TimeSpan ProbeWait = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The lock of a writer of the whole folder (a whole run, verify): the folder's lock, and then no writer of a part
    /// (an --only run, a shard) may hold its own. Writers of parts take <see cref="TryAcquirePart"/>, which checks the
    /// other way round, so a whole and a partial writer never both go on: whichever checks second finds the other.
    /// Null, with the holder, when one does.
    /// </summary>
    public static OutputLock? TryAcquireWhole(string directory, out string? holder)
    {
        var whole = TryAcquire(directory, out holder);
        if (whole is null)
        {
            return null;
        }

        foreach (var file in Directory.EnumerateFiles(directory, ".unlearn-*.lock"))
        {
            var scope = System.IO.Path.GetFileName(file)[".unlearn-".Length..^".lock".Length];
            if (SectionScopes.Contains(scope, StringComparer.Ordinal))
            {
                continue;
            }

            using var part = TryAcquire(directory, out holder, scope);
            if (part is null)
            {
                whole.Dispose();
                return null;
            }
        }

        holder = null;
        return whole;
    }

    /// <summary>As <see cref="TryAcquireWhole"/>, waiting up to <paramref name="timeout"/> (for a short writer of the whole
    /// folder, such as a merge of the reports, that other writers may just be finishing before).</summary>
    public static OutputLock? WaitWhole(string directory, TimeSpan timeout, out string? holder) =>
        Retrying(timeout, out holder, (out string? h) => TryAcquireWhole(directory, out h));

    /// <summary>The lock of a writer of one part of the folder (<paramref name="scope"/>: a model, a shard): its own lock,
    /// and then no writer of the whole folder may hold the folder's (probed: waited for a moment, since other parts probe
    /// it too). Null, with the holder, when one does.</summary>
    public static OutputLock? TryAcquirePart(string directory, string scope, out string? holder)
    {
        var part = TryAcquire(directory, out holder, scope);
        if (part is null)
        {
            return null;
        }

        using var whole = Wait(directory, ProbeWait, out holder);
        if (whole is null)
        {
            part.Dispose();
            return null;
        }

        holder = null;
        return part;
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the lock (for short critical sections such as writing a
    /// shared report), or returns null and the holder's description.</summary>
    public static OutputLock? Wait(string directory, TimeSpan timeout, out string? holder, string? scope = null) =>
        Retrying(timeout, out holder, (out string? h) => TryAcquire(directory, out h, scope));

    private delegate OutputLock? Attempt(out string? holder);

    // Tries until the lock is taken or the timeout has passed, every 50 ms.
    private static OutputLock? Retrying(TimeSpan timeout, out string? holder, Attempt attempt)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var taken = attempt(out holder);
            if (taken is not null || clock.Elapsed >= timeout)
            {
                return taken;
            }

            Thread.Sleep(50);
        }
    }

    public void Dispose()
    {
        try
        {
            File.Delete(Path + OwnerSuffix);
        }
        catch (IOException)
        {
        }

        stream.Dispose();
    }

    private static string ReadHolder(string path)
    {
        try
        {
            var content = File.ReadAllText(path + OwnerSuffix).Trim();
            return content.Length == 0 ? "another process" : content;
        }
        catch (IOException)
        {
            return "another process";
        }
        catch (UnauthorizedAccessException)
        {
            return "another process";
        }
    }
}
