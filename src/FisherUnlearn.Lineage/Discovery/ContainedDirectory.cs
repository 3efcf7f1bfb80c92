using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Lineage.Manifests;
using Microsoft.Extensions.FileSystemGlobbing.Abstractions;

namespace FisherUnlearn.Lineage.Discovery;

/// <summary>
/// A folder of the workspace as the glob matcher walks it, except that symbolic links to folders below the root are not
/// followed. One that leads inside the workspace leads to a folder the walk reads where it is (following it read every
/// manifest there twice: duplicate ids), or to itself; one out of the workspace (<c>ln -s .. up</c>, a link to
/// <c>/</c>) would make discovery read, and report errors in, manifests of other projects or walk the whole disk. The
/// root itself may be a link. Links out of the workspace are recorded in <see cref="Boundary.LinksOut"/>, once the
/// matcher actually descends into them (an excluded one is never entered, so never reported). So are folders that cannot
/// be listed (<see cref="Boundary.UnreadableFolders"/>): the stock walker skips them silently, and the models in them
/// would leave the network without a word.
/// </summary>
internal sealed class ContainedDirectory : DirectoryInfoBase
{
    private readonly DirectoryInfo directory;
    private readonly Boundary boundary;
    private readonly bool isParentPath;

    public ContainedDirectory(DirectoryInfo directory, Boundary boundary)
        : this(directory, boundary, isParentPath: false)
    {
    }

    private ContainedDirectory(DirectoryInfo directory, Boundary boundary, bool isParentPath)
    {
        this.directory = directory;
        this.boundary = boundary;
        this.isParentPath = isParentPath;
    }

    public override string Name => isParentPath ? ".." : directory.Name;

    public override string FullName => directory.FullName;

    public override DirectoryInfoBase? ParentDirectory => directory.Parent is { } parent ? new ContainedDirectory(parent, boundary) : null;

    public override IEnumerable<FileSystemInfoBase> EnumerateFileSystemInfos()
    {
        if (!directory.Exists || !boundary.MayEnter(directory))
        {
            yield break;
        }

        IEnumerable<FileSystemInfo> entries;
        try
        {
            entries = directory.EnumerateFileSystemInfos("*", SearchOption.TopDirectoryOnly).ToList();
        }
        catch (DirectoryNotFoundException)
        {
            yield break; // gone while walking: nothing of it is left to read
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            boundary.Unreadable(directory.FullName, ex.Message);
            yield break; // its manifests cannot be read: recorded, so the network does not silently lose its models
        }

        foreach (var entry in entries)
        {
            if (entry is DirectoryInfo folder)
            {
                yield return new ContainedDirectory(folder, boundary);
            }
            else if (entry is FileInfo file)
            {
                yield return new FileInfoWrapper(file);
            }
        }
    }

    public override DirectoryInfoBase GetDirectory(string path) =>
        string.Equals(path, "..", StringComparison.Ordinal)
            ? new ContainedDirectory(new DirectoryInfo(Path.Combine(directory.FullName, path)), boundary, isParentPath: true)
            : new ContainedDirectory(new DirectoryInfo(Path.Combine(directory.FullName, path)), boundary);

    public override FileInfoBase GetFile(string path) => new FileInfoWrapper(new FileInfo(Path.Combine(directory.FullName, path)));

    /// <summary>The workspace root a walk stays in, and the folder links it did not follow out of it.</summary>
    internal sealed class Boundary(string root)
    {
        private readonly string givenRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        private readonly string physicalRoot = Path.TrimEndingDirectorySeparator(PhysicalPath.Of(root));
        private readonly SortedDictionary<string, string> linksOut = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, string> unreadable = new(StringComparer.Ordinal);

        /// <summary>Each folder link that leads out of the workspace, by its path, with where it leads.</summary>
        public IReadOnlyDictionary<string, string> LinksOut => linksOut;

        /// <summary>Each folder the walk entered but could not list, by its path, with the system's reason.</summary>
        public IReadOnlyDictionary<string, string> UnreadableFolders => unreadable;

        public void Unreadable(string folder, string reason)
        {
            lock (unreadable)
            {
                unreadable[folder] = reason;
            }
        }

        public bool MayEnter(DirectoryInfo folder)
        {
            if (folder.LinkTarget is null || string.Equals(Path.TrimEndingDirectorySeparator(folder.FullName), givenRoot, WorkspacePaths.Comparison))
            {
                return true;
            }

            var target = Path.TrimEndingDirectorySeparator(PhysicalPath.Of(folder.FullName));
            if (!Inside(target, physicalRoot))
            {
                linksOut[folder.FullName] = target;
            }

            return false;
        }

        private static bool Inside(string path, string folder) =>
            string.Equals(path, folder, WorkspacePaths.Comparison)
            || path.StartsWith(folder + Path.DirectorySeparatorChar, WorkspacePaths.Comparison);
    }
}
