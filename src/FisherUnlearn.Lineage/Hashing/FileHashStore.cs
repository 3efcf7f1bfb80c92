using System.Text.Json;
using System.Text.Json.Nodes;
using FisherUnlearn.Lineage.IO;

namespace FisherUnlearn.Lineage.Hashing;

/// <summary>
/// The SHA-256 of large files (checkpoints, data files, outputs) remembered between commands, by <see cref="FileStamp"/>,
/// the way git's index remembers what it hashed: a file whose stamp (size, modification and status-change times, device,
/// inode) is the one recorded is not read again. A no-op <c>run</c> over big checkpoints then stats them instead of
/// hashing gigabytes, and a request answered from forget plans reads no checkpoint twice.
/// <para>
/// A hash is recorded only when it was taken more than <see cref="Settle"/> after the file last changed (the later of its
/// modification and status-change times), so that a write in the same tick of the file system's clock as the hashing
/// cannot go unnoticed (git's "racy" entries); a file written moments ago is hashed each time until it has settled, and
/// so is one whose stamp is not <see cref="FileStamp.Complete"/> (a time past 2262, an unexpected runtime). Files under
/// <see cref="MinLength"/> bytes are cheaper to hash than to look up and are never recorded.
/// </para>
/// <para>
/// Kept in <c>&lt;output&gt;/.file-hashes.json</c>, written atomically (merged with what other processes wrote meanwhile)
/// once a command has hashed about as many bytes as the file holds; processes that write at once may lose each other's
/// newest entries (they hash those files once more), never mix them. At most <see cref="MaxEntries"/> files, those
/// hashed most recently; files gone are dropped. A missing, damaged or foreign file is an empty store. Thread-safe.
/// </para>
/// </summary>
public sealed class FileHashStore
{
    public const string FileName = ".file-hashes.json";
    public const int SchemaVersion = 1;

    /// <summary>Files smaller than this are hashed each time.</summary>
    public const long MinLength = 64 * 1024;

    /// <summary>The store keeps at most this many files, those hashed most recently.</summary>
    public const int MaxEntries = 10_000;

    /// <summary>How long after it last changed a file's hash may be recorded (covers file systems whose clock ticks in
    /// seconds, such as FAT's two).</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(3);

    private readonly Lock gate = new();
    private Dictionary<string, Entry>? entries;
    private readonly long settleNs;
    private readonly bool keep;
    private long pendingBytes;
    private long storeBytes;

    /// <param name="path">The store file.</param>
    /// <param name="keep">False: only read recorded hashes, never write the file (MSBuild's <c>-question</c>, which must
    /// leave everything as it was).</param>
    public FileHashStore(string path, bool keep = true)
        : this(path, Settle, keep)
    {
    }

    // Tests shorten the settle time: a status-change time cannot be set back, so a file a test writes is never older.
    internal FileHashStore(string path, TimeSpan settle, bool keep = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        Path = System.IO.Path.GetFullPath(path);
        settleNs = (long)settle.TotalNanoseconds;
        this.keep = keep;
    }

    /// <summary>The store file.</summary>
    public string Path { get; }

    /// <summary>The store of a workspace's output folder.</summary>
    public static FileHashStore ForOutput(string outputDirectory, bool keep = true) => new(System.IO.Path.Combine(outputDirectory, FileName), keep);

    /// <summary>Files hashed (read) through this instance; the others came from the store.</summary>
    public int Hashed { get; private set; }

    /// <summary>The file's SHA-256 (lowercase hex): the recorded one when its stamp is unchanged, else computed (and
    /// recorded when the file is large enough, settled, and did not change while it was read).</summary>
    /// <exception cref="NotARegularFileException">The path leads to a FIFO, a device or a socket.</exception>
    public string Hash(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = System.IO.Path.GetFullPath(path);
        var statted = DateTime.UtcNow;
        var before = FileStamp.Of(full);
        if (before is { Length: >= MinLength, Complete: true } stamp && Trusted(full, stamp) is { } known)
        {
            return known;
        }

        var hash = ContentHash.OfFile(full);
        lock (gate)
        {
            Hashed++;
        }

        if (before is { } read && FileStamp.Of(full) == read)
        {
            Keep(full, read, hash, statted);
        }

        return hash;
    }

    private string? Trusted(string full, FileStamp stamp)
    {
        lock (gate)
        {
            return Loaded().TryGetValue(full, out var entry) && entry.Stamp == stamp ? entry.Sha256 : null;
        }
    }

    // statted: when the stamp was taken, before the hashing. Settled is judged at that moment (as git does), not after
    // the hashing: a write during a long hash, in the same tick of a coarse clock as the one before, keeps the stamp.
    private void Keep(string full, FileStamp stamp, string hash, DateTime statted)
    {
        // Only a complete stamp of a file that last changed (modified, or replaced with an old modification time: cp -p)
        // more than Settle ago is worth a write: anything else is hashed again next time anyway.
        var recorded = DateTime.UtcNow;
        var stattedNs = (statted - DateTime.UnixEpoch).Ticks * 100;
        if (!keep || stamp.Length < MinLength || !stamp.Complete || stattedNs - stamp.LatestNs <= settleNs)
        {
            return;
        }

        var entry = new Entry(stamp, hash, recorded.Ticks);
        lock (gate)
        {
            entries = Loaded();
            if (entries.TryGetValue(full, out var old) && old.Stamp == stamp && old.Sha256 == hash)
            {
                return;
            }

            entries[full] = entry;
            // Writing the store costs about its size; hashing cost at least the bytes hashed since the last write. Writing
            // only once those reach the store's size keeps the writes within the hashing's own cost (a command that hashes
            // thousands of files does not rewrite the store thousands of times); what is left unwritten at the end is
            // smaller than the store and simply hashed again next time.
            pendingBytes += stamp.Length;
            if (pendingBytes < storeBytes)
            {
                return;
            }

            // What other processes recorded meanwhile is kept; for the same file the later record wins.
            foreach (var (file, theirs) in Read(Path))
            {
                if (!entries.TryGetValue(file, out var mine) || mine.Recorded < theirs.Recorded)
                {
                    entries[file] = theirs;
                }
            }

            // Files gone since are dropped, and the store keeps the most recently hashed MaxEntries.
            entries = entries.Where(e => File.Exists(e.Key)).OrderByDescending(e => e.Value.Recorded).Take(MaxEntries)
                .ToDictionary(StringComparer.Ordinal);
            if (!Directory.Exists(System.IO.Path.GetDirectoryName(Path)))
            {
                return; // No output folder yet (status in a fresh clone): not created just for this.
            }

            try
            {
                var written = entries;
                AtomicFile.Write(Path, stream =>
                {
                    Write(stream, written);
                    storeBytes = stream.Position;
                }, durable: false);
                pendingBytes = 0;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A read-only output folder: the hashes are simply computed again next time.
            }
        }
    }

    // The entries, read from the store file on first use (under the gate).
    private Dictionary<string, Entry> Loaded()
    {
        if (entries is null)
        {
            entries = Read(Path);
            // A store over its cap (written by hand, or by another version) is rewritten at the first hash kept.
            storeBytes = entries.Count is > 0 and <= MaxEntries ? new FileInfo(Path).Length : 0;
        }

        return entries;
    }

    private static void Write(Stream stream, Dictionary<string, Entry> entries)
    {
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
        writer.WriteStartObject();
        writer.WriteNumber("schemaVersion", SchemaVersion);
        writer.WriteStartObject("files");
        foreach (var (file, entry) in entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            writer.WriteStartArray(file);
            writer.WriteStringValue(entry.Sha256);
            writer.WriteNumberValue(entry.Stamp.Length);
            writer.WriteNumberValue(entry.Stamp.ModifiedNs);
            writer.WriteNumberValue(entry.Stamp.ChangedNs);
            writer.WriteNumberValue(entry.Stamp.Device);
            writer.WriteNumberValue(entry.Stamp.Inode);
            writer.WriteNumberValue(entry.Recorded);
            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.Flush();
    }

    private static Dictionary<string, Entry> Read(string path)
    {
        var result = new Dictionary<string, Entry>(StringComparer.Ordinal);
        try
        {
            if (!File.Exists(path))
            {
                return result;
            }

            RegularFile.Ensure(path);
            if (JsonNode.Parse(File.ReadAllBytes(path)) is not JsonObject root || Number(root["schemaVersion"]) != SchemaVersion
                || root["files"] is not JsonObject files)
            {
                return result;
            }

            foreach (var (file, value) in files)
            {
                if (value is JsonArray { Count: 7 } a && Text(a[0]) is { Length: 64 } sha && sha.All(char.IsAsciiHexDigitLower)
                    && Number(a[1]) is { } length && Number(a[2]) is { } modified && Number(a[3]) is { } changed && Number(a[4]) is { } device
                    && Number(a[5]) is { } inode && Number(a[6]) is { } recorded)
                {
                    result[file] = new Entry(new FileStamp(length, modified, changed, device, inode) { Complete = true }, sha, recorded);
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A damaged store (also one JSON refuses to hold, such as a key given twice) is an empty one: every file is
            // hashed again, and the store rewritten whole at the first hash kept.
            result.Clear();
        }

        return result;
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue(out string? text) ? text : null;

    private static long? Number(JsonNode? node) => node is JsonValue value && value.TryGetValue(out long number) ? number : null;

    private sealed record Entry(FileStamp Stamp, string Sha256, long Recorded);
}
