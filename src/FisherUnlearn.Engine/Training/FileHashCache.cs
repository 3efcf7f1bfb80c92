using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.IO;

namespace FisherUnlearn.Engine.Training;

/// <summary>SHA-256 of files, remembered per path and <see cref="FileStamp"/>, so one run hashes each data file once; with
/// a <see cref="FileHashStore"/>, also between runs. Thread-safe.</summary>
public sealed class FileHashCache(FileHashStore? store = null)
{
    private readonly Dictionary<string, (FileStamp Stamp, string Hash)> entries = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    /// <summary>A cache that keeps its hashes in the workspace's output folder between commands.</summary>
    public static FileHashCache ForWorkspace(Workspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        return new FileHashCache(FileHashStore.ForOutput(workspace.OutputDirectory));
    }

    /// <summary>The file's hash, or <c>missing</c> when it does not exist.</summary>
    /// <exception cref="EngineException">FUL1027: the path leads to a FIFO, a device or a socket.</exception>
    public string Hash(string path)
    {
        var full = Path.GetFullPath(path);
        var stamp = FileStamp.Of(full);
        // A link that leads nowhere (content not fetched, a loop) is as good as missing: what reads the file says why.
        if (stamp is null && RegularFile.Absence(full) is not null)
        {
            return "missing";
        }

        lock (gate)
        {
            if (stamp is not null && entries.TryGetValue(full, out var entry) && entry.Stamp == stamp)
            {
                return entry.Hash;
            }
        }

        string hash;
        try
        {
            hash = store is not null ? store.Hash(full) : ContentHash.OfFile(full);
        }
        catch (NotARegularFileException ex)
        {
            throw new EngineException(ex.Diagnostic, ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            // An input the user cannot read (no permission): named, at the file, not taken for an output folder's problem.
            throw new EngineException(Diagnostic.Create(DiagnosticCatalogue.UnreadableFile, new SourceLocation(full), $"'{full}' (permission denied: check its permissions and owner)"), ex);
        }

        if (stamp is { } read)
        {
            lock (gate)
            {
                entries[full] = (read, hash);
            }
        }

        return hash;
    }
}
