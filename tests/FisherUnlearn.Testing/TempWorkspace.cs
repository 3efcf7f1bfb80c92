using System.Text;

namespace FisherUnlearn.Testing;

/// <summary>
/// A temporary folder for one test: write files by relative path (folders are created), read them back, and the
/// whole tree is deleted on dispose. <see cref="Root"/> is an absolute, fully resolved path without a trailing
/// separator. Text is written as UTF-8 without a BOM.
/// <code>
/// using var ws = new TempWorkspace();
/// ws.Write("models/a.lineage.json", "{ ... }");
/// var workspace = WorkspaceLoader.Load(ws.Root);
/// </code>
/// </summary>
public sealed class TempWorkspace : IDisposable
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <param name="prefix">Start of the folder name, to tell test folders apart when one is left behind.</param>
    public TempWorkspace(string prefix = "fiun")
    {
        var info = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}"));
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(info.FullName));
    }

    public string Root { get; }

    /// <summary>The absolute path of a file or folder given relative to <see cref="Root"/> ('/' or '\' separators).</summary>
    public string PathOf(string relativePath) =>
        Path.GetFullPath(Path.Combine(Root, relativePath.Replace('\\', '/').Replace('/', Path.DirectorySeparatorChar)));

    /// <summary>Writes a text file (UTF-8, no BOM); returns its absolute path.</summary>
    public string Write(string relativePath, string content) => WriteBytes(relativePath, Utf8NoBom.GetBytes(content));

    /// <summary>Writes a file byte for byte; returns its absolute path.</summary>
    public string WriteBytes(string relativePath, byte[] content)
    {
        var path = PathOf(relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>Creates a folder (and its parents); returns its absolute path.</summary>
    public string CreateDirectory(string relativePath) => Directory.CreateDirectory(PathOf(relativePath)).FullName;

    public string ReadText(string relativePath) => File.ReadAllText(PathOf(relativePath));

    public byte[] ReadBytes(string relativePath) => File.ReadAllBytes(PathOf(relativePath));

    public bool Exists(string relativePath) => File.Exists(PathOf(relativePath)) || Directory.Exists(PathOf(relativePath));

    /// <summary>Deletes a file or a folder tree, if present.</summary>
    public void Delete(string relativePath)
    {
        var path = PathOf(relativePath);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        else
        {
            File.Delete(path);
        }
    }

    /// <summary>Every file under <see cref="Root"/>, relative with '/' separators, in ordinal order.</summary>
    public IReadOnlyList<string> Files() =>
        [.. Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)];

    /// <summary>Every file under <see cref="Root"/> (as <see cref="Files"/>) with its bytes in hex: compare two to see that
    /// nothing was written, replaced or removed.</summary>
    public IReadOnlyDictionary<string, string> Contents() =>
        Files().ToDictionary(f => f, f => Convert.ToHexString(File.ReadAllBytes(PathOf(f))), StringComparer.Ordinal);

    /// <summary>Makes a FIFO (named pipe) at a relative path, replacing any file there (Unix only: <c>mkfifo</c>);
    /// returns its absolute path. Opening it for reading blocks until a writer comes.</summary>
    public string MakeFifo(string relativePath)
    {
        var path = PathOf(relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Delete(path);
        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        return mkfifo.ExitCode == 0 ? path : throw new InvalidOperationException($"mkfifo {path} exited with {mkfifo.ExitCode}");
    }

    /// <summary>Replaces the file at a relative path with a symbolic link to <paramref name="target"/> (such as
    /// <c>/dev/zero</c>); returns its absolute path.</summary>
    public string Link(string relativePath, string target)
    {
        var path = PathOf(relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Delete(path);
        File.CreateSymbolicLink(path, target);
        return path;
    }

    public override string ToString() => Root;

    public void Dispose()
    {
        // Best effort: a file still open (a process the test started) must not turn a pass into a failure.
        for (var attempt = 0; attempt < 3 && Directory.Exists(Root); attempt++)
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Thread.Sleep(50);
            }
        }
    }
}
