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
    public static OutputLock? TryAcquire(string directory, out string? holder, string? scope = null)
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
        catch (IOException)
        {
            holder = ReadHolder(path);
            return null;
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the lock (for short critical sections such as writing a
    /// shared report), or returns null and the holder's description.</summary>
    public static OutputLock? Wait(string directory, TimeSpan timeout, out string? holder, string? scope = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var taken = TryAcquire(directory, out holder, scope);
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
