using FisherUnlearn.Lineage.IO;

namespace FisherUnlearn.Tool.Scaffolding;

/// <summary>What happened to one file a scaffolding step wanted to write.</summary>
internal enum ScaffoldOutcome
{
    /// <summary>The file did not exist and was written.</summary>
    Created,

    /// <summary>The file existed and was replaced (only with <c>--force</c>).</summary>
    Overwritten,

    /// <summary>The file existed with exactly the bytes that would have been written: left as it is.</summary>
    Unchanged,

    /// <summary>The file existed with other content (a user's file): left as it is.</summary>
    Skipped,
}

/// <summary>Writes scaffolded files without ever clobbering a user's file by accident: content goes to a temporary
/// file in the target folder first and is then moved into place, with <c>overwrite: false</c> unless forced, so a
/// file that appears between the check and the move is still never replaced.</summary>
internal static class ScaffoldFile
{
    public static ScaffoldOutcome Write(string path, byte[] content, bool overwrite)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            if (SameBytes(full, content))
            {
                return ScaffoldOutcome.Unchanged;
            }

            if (!overwrite)
            {
                return ScaffoldOutcome.Skipped;
            }

            AtomicFile.WriteAllBytes(full, content);
            return ScaffoldOutcome.Overwritten;
        }

        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            try
            {
                File.Move(temporary, full, overwrite: false);
                return ScaffoldOutcome.Created;
            }
            catch (IOException) when (File.Exists(full))
            {
                // Someone created it meanwhile: theirs wins unless forced.
                if (SameBytes(full, content))
                {
                    return ScaffoldOutcome.Unchanged;
                }

                if (!overwrite)
                {
                    return ScaffoldOutcome.Skipped;
                }

                File.Move(temporary, full, overwrite: true);
                return ScaffoldOutcome.Overwritten;
            }
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    public static bool SameBytes(string path, ReadOnlySpan<byte> content)
    {
        var info = new FileInfo(path);
        return info.Exists && info.Length == content.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(content);
    }
}
