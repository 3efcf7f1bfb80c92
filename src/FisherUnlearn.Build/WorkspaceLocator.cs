using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Build;

/// <summary>Finds the workspace root of a project: the folder of the nearest <c>unlearn.json</c> above the project (its
/// own folder included), else the nearest repository root (a folder holding <c>.git</c>, a folder or a worktree's file),
/// else the project's folder.</summary>
public static class WorkspaceLocator
{
    public static string Find(string projectDirectory)
    {
        var start = Path.GetFullPath(projectDirectory);
        return FindAbove(start, dir => File.Exists(Path.Combine(dir, WorkspaceSettings.FileName)))
            ?? FindAbove(start, dir => Directory.Exists(Path.Combine(dir, ".git")) || File.Exists(Path.Combine(dir, ".git")))
            ?? Path.TrimEndingDirectorySeparator(start);
    }

    private static string? FindAbove(string start, Func<string, bool> matches)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (matches(dir.FullName))
            {
                return Path.TrimEndingDirectorySeparator(dir.FullName);
            }
        }

        return null;
    }
}
