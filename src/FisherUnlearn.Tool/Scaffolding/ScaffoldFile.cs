using FisherUnlearn.Lineage.IO;

namespace FisherUnlearn.Tool.Scaffolding;

/// <summary>What happened to one file a scaffolding step wanted to write.</summary>
internal enum ScaffoldOutcome
{
    /// <summary>The file did not exist and was written.</summary>
    Created,

    /// <summary>The file existed and was replaced (only with <c>--force</c>).</summary>
    Overwritten,

    /// <summary>The file existed with the content that would have been written (line ends aside: a git checkout may
    /// turn '\n' into "\r\n"): left as it is.</summary>
    Unchanged,

    /// <summary>The file existed as the tool's other scaffolding writes it (init's <c>unlearn.json</c> where the demo
    /// goes, the demo's where init goes), which means the same: left as it is, and not the user's.</summary>
    Equivalent,

    /// <summary>The file existed with other content (a user's file): left as it is.</summary>
    Skipped,

    /// <summary>An example file of a workspace that already existed, deleted since (its README says to): not written
    /// again, since it would join the user's network (only with <c>--force</c>).</summary>
    Removed,

    /// <summary>The file existed exactly as an earlier version of the tool wrote it (nobody edited it since): replaced with
    /// this version's.</summary>
    Updated,

    /// <summary>An example not written because the folder already holds lineage manifests: it would join their network, and
    /// its removal request could name their models (only with <c>--force</c>).</summary>
    Withheld,
}

/// <summary>Writes scaffolded files without ever clobbering a user's file by accident: content goes to a temporary
/// file in the target folder first and is then moved into place, with <c>overwrite: false</c> unless forced, so a
/// file that appears between the check and the move is still never replaced.</summary>
internal static class ScaffoldFile
{
    /// <summary>
    /// What stands in the way of writing <paramref name="relatives"/> under <paramref name="root"/>: a folder where a file
    /// goes, or a file where a folder goes. Checked before anything is written (found in QA: <c>init</c> wrote
    /// <c>unlearn.json</c>, then stopped at a file named <c>examples</c>, and called a folder named <c>unlearn.json</c> a
    /// file), so a scaffold is written whole or not at all. Null when nothing does.
    /// </summary>
    public static string? Obstacle(string root, IEnumerable<string> relatives)
    {
        ArgumentNullException.ThrowIfNull(relatives);
        // The folder itself, or one on the way to it, is a file (QA: 'demo afile' said .NET's "already exists").
        if (Lineage.IO.RegularFile.FileAtOrAbove(Path.GetFullPath(root)) is { } file)
        {
            return $"'{file}' is a file, and the scaffold writes into a folder {(file == Path.GetFullPath(root) ? "there" : "under it")}: move or rename that file, or scaffold into another folder.";
        }

        foreach (var relative in relatives)
        {
            var parts = relative.Split('/');
            var path = Path.GetFullPath(root);
            for (var i = 0; i < parts.Length; i++)
            {
                path = Path.Combine(path, parts[i]);
                var last = i == parts.Length - 1;
                if (last && Directory.Exists(path))
                {
                    return $"'{path}' is a folder, and the scaffold writes a file there ({relative}): move or rename that folder, or scaffold into another one.";
                }

                if (!last && File.Exists(path))
                {
                    return $"'{path}' is a file, and the scaffold writes a folder there ({relative}): move or rename that file, or scaffold into another folder.";
                }
            }
        }

        return null;
    }

    /// <param name="equivalent">What the tool's other scaffolding writes at this path (<see cref="ToolWrittenFiles"/>):
    /// found there, the file is the tool's, not the user's, and is kept unless <paramref name="overwrite"/>.</param>
    /// <param name="earlier">What earlier versions of this scaffolding wrote at this path: found there, the file is the
    /// tool's as it was, and is brought up to date.</param>
    public static ScaffoldOutcome Write(string path, byte[] content, bool overwrite, IReadOnlyList<byte[]>? equivalent = null, IEnumerable<byte[]>? earlier = null)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            var existing = File.ReadAllBytes(full);
            if (SameContent(existing, content))
            {
                return ScaffoldOutcome.Unchanged;
            }

            if (!overwrite && earlier?.Any(e => SameContent(existing, e)) == true)
            {
                AtomicFile.WriteAllBytes(full, content);
                return ScaffoldOutcome.Updated;
            }

            if (!overwrite)
            {
                return equivalent?.Any(e => SameContent(existing, e)) == true ? ScaffoldOutcome.Equivalent : ScaffoldOutcome.Skipped;
            }

            AtomicFile.WriteAllBytes(full, content);
            return ScaffoldOutcome.Overwritten;
        }

        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temporary = AtomicFile.TemporaryPathFor(full);
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
                if (SameContent(File.ReadAllBytes(full), content))
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

    /// <summary>The same bytes; for text (UTF-8 without NUL), the same text with any line ends and with or without a
    /// UTF-8 BOM, so a file checked out with "\r\n" (git's core.autocrlf on Windows) or saved by an editor that adds or
    /// drops the BOM is still recognised as the one written.</summary>
    public static bool SameContent(ReadOnlySpan<byte> existing, ReadOnlySpan<byte> content)
    {
        if (existing.SequenceEqual(content))
        {
            return true;
        }

        return IsText(existing) && IsText(content) && LineEndsAsLf(existing).AsSpan().SequenceEqual(LineEndsAsLf(content));
    }

    private static bool IsText(ReadOnlySpan<byte> bytes) => !bytes.Contains((byte)0) && System.Text.Unicode.Utf8.IsValid(bytes);

    private static byte[] LineEndsAsLf(ReadOnlySpan<byte> bytes)
    {
        bytes = bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? bytes[3..] : bytes;
        var lf = new byte[bytes.Length];
        var n = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != '\r')
            {
                lf[n++] = bytes[i];
            }
            else if (i + 1 >= bytes.Length || bytes[i + 1] != '\n')
            {
                lf[n++] = (byte)'\n';
            }
        }

        return lf[..n];
    }
}
