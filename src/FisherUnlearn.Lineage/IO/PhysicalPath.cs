namespace FisherUnlearn.Lineage.IO;

/// <summary>
/// Where a path really leads: every symbolic link along it resolved (like POSIX <c>realpath</c>, also for a path whose
/// last parts do not exist yet). Two paths name the same file when their physical paths are equal, so an output folder
/// that is a link into a model's folder cannot pass for a different place than that model's checkpoint.
/// </summary>
public static class PhysicalPath
{
    // As Linux: more links than this on one path is a loop (ELOOP); the path is then taken as written.
    private const int MaxLinks = 40;

    public static string Of(string path)
    {
        var full = Path.GetFullPath(path);
        return Resolve(full, 0) ?? full;
    }

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> lead to the same place.</summary>
    public static bool Same(string a, string b) => string.Equals(Of(a), Of(b), StringComparison.Ordinal);

    private static string? Resolve(string full, int links)
    {
        var root = Path.GetPathRoot(full) ?? string.Empty;
        var parts = full[root.Length..].Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
        var current = root;
        for (var i = 0; i < parts.Length; i++)
        {
            var next = Path.Combine(current, parts[i]);
            string? target;
            try
            {
                target = new FileInfo(next).LinkTarget;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                target = null;
            }

            if (target is null)
            {
                current = next;
                continue;
            }

            if (links >= MaxLinks)
            {
                return null;
            }

            // A relative target is relative to the folder holding the link; the rest of the path follows the target.
            var resolved = Path.GetFullPath(target, current);
            return Resolve(Path.Combine([resolved, .. parts[(i + 1)..]]), links + 1);
        }

        return current;
    }
}
