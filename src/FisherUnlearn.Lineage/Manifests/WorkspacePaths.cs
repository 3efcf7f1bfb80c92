namespace FisherUnlearn.Lineage.Manifests;

/// <summary>Paths written in manifests: relative to the manifest's folder, inside the workspace.</summary>
internal static class WorkspacePaths
{
    /// <summary>File names compare case-sensitively on Linux, case-insensitively where the file system usually is.</summary>
    public static StringComparison Comparison { get; } =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    /// <summary>The absolute path, or null when <paramref name="relative"/> is absolute or leaves the workspace.</summary>
    public static string? Resolve(string workspaceRoot, string baseDirectory, string relative)
    {
        var normalized = relative.Replace('\\', '/');
        if (IsAbsolute(normalized))
        {
            return null;
        }

        var full = Path.GetFullPath(Path.Combine(baseDirectory, normalized));
        return IsInside(workspaceRoot, full) ? full : null;
    }

    /// <summary>Why <paramref name="path"/> cannot name a file at all, or null: a NUL character (no file system takes
    /// one), or nothing but spaces (a folder named "   " is never what was meant).</summary>
    public static string? Unusable(string path) =>
        path.Contains('\0', StringComparison.Ordinal) ? "holds a NUL character (\\u0000), which no file name can"
        : path.Length > 0 && string.IsNullOrWhiteSpace(path) ? "is nothing but white space"
        : null;

    public static bool IsAbsolute(string path) =>
        path.StartsWith('/') || Path.IsPathRooted(path)
        || (path.Length >= 2 && path[1] == ':' && char.IsAsciiLetter(path[0]));

    public static bool IsInside(string workspaceRoot, string fullPath)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(workspaceRoot));
        if (fullPath.Length == root.Length)
        {
            return string.Equals(fullPath, root, Comparison);
        }

        return fullPath.Length > root.Length
            && fullPath.StartsWith(root, Comparison)
            && (fullPath[root.Length] == Path.DirectorySeparatorChar || fullPath[root.Length] == Path.AltDirectorySeparatorChar
                || root.EndsWith(Path.DirectorySeparatorChar));
    }
}
