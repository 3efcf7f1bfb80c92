namespace FisherUnlearn.Lineage.IO;

/// <summary>Paths as reports, job records and GitHub annotations show them: relative to a root folder, with '/'
/// separators on every system.</summary>
public static class RelativePath
{
    /// <summary><paramref name="path"/> relative to <paramref name="root"/> with '/' separators when it lies inside it;
    /// null when it lies outside (another drive, or up from the root) or either is not fully qualified.</summary>
    public static string? Within(string root, string path)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(path);
        if (!Path.IsPathFullyQualified(path) || !Path.IsPathFullyQualified(root))
        {
            return null;
        }

        var relative = Path.GetRelativePath(root, path);
        return relative == ".." || relative.StartsWith("../", StringComparison.Ordinal) || relative.StartsWith(@"..\", StringComparison.Ordinal)
            || Path.IsPathFullyQualified(relative)
            ? null
            : relative.Replace('\\', '/');
    }
}
