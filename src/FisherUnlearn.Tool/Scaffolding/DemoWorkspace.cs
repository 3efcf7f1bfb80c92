using System.Reflection;

namespace FisherUnlearn.Tool.Scaffolding;

/// <summary>What <see cref="DemoWorkspace.Materialize"/> did, as paths relative to the demo folder ('/' separators,
/// ordinal order).</summary>
/// <param name="Created">Files that did not exist and were written.</param>
/// <param name="Reused">Files that existed with the embedded content (line ends aside), or as <c>init</c> writes them
/// (its <c>unlearn.json</c>: the same settings): left as they are.</param>
/// <param name="Kept">Files that existed with other content (changed by the user): left as they are, not
/// overwritten. The demo may then behave differently; the caller reports them.</param>
internal sealed record DemoMaterialization(IReadOnlyList<string> Created, IReadOnlyList<string> Reused, IReadOnlyList<string> Kept);

/// <summary>
/// The sample workspace of <c>dotnet unlearn demo</c> (samples/digits: seven models on MNIST digits, two removal
/// requests), embedded in the tool assembly so the installed tool needs no repository. The project embeds the
/// manifests, <c>unlearn.json</c>, the four gzipped IDX files and their ATTRIBUTION.md under resource names
/// <c>demo/digits/&lt;relative path&gt;</c>; outputs (bin/, obj/, artifacts/) are not embedded.
/// </summary>
internal static class DemoWorkspace
{
    public const string ResourcePrefix = "demo/digits/";

    private static Assembly Assembly => typeof(DemoWorkspace).Assembly;

    // Relative path ('/' separators) -> resource name. %(RecursiveDir) uses '\' when the tool is built on Windows.
    private static readonly Dictionary<string, string> ResourceNames = Assembly.GetManifestResourceNames()
        .Where(n => n.Replace('\\', '/').StartsWith(ResourcePrefix, StringComparison.Ordinal))
        .ToDictionary(n => n.Replace('\\', '/')[ResourcePrefix.Length..], n => n, StringComparer.Ordinal);

    /// <summary>The embedded files as paths relative to the demo folder ('/' separators), in ordinal order.</summary>
    public static IReadOnlyList<string> Files { get; } = [.. ResourceNames.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The bytes of one embedded file, by its relative path.</summary>
    public static byte[] Read(string relativePath)
    {
        using var stream = Open(relativePath);
        using var copy = new MemoryStream(checked((int)stream.Length));
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>
    /// Writes the demo workspace into <paramref name="directory"/> (created if needed). Each file is written
    /// atomically (temporary file, then rename), so an interrupted run leaves whole files only. A file that exists
    /// as the tool writes it is reused; one that exists with other content is never overwritten, only reported in
    /// <see cref="DemoMaterialization.Kept"/>. Safe to call again on the same folder.
    /// </summary>
    public static DemoMaterialization Materialize(string directory, CancellationToken cancellationToken = default)
    {
        var root = Path.GetFullPath(directory);
        Directory.CreateDirectory(root);
        var created = new List<string>();
        var reused = new List<string>();
        var kept = new List<string>();
        foreach (var relative in Files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = Path.Combine(root, relative.Replace('/', Path.DirectorySeparatorChar));
            var outcome = ScaffoldFile.Write(path, Read(relative), overwrite: false, ToolWrittenFiles.At(relative));
            (outcome switch
            {
                ScaffoldOutcome.Created => created,
                ScaffoldOutcome.Unchanged or ScaffoldOutcome.Equivalent => reused,
                _ => kept,
            }).Add(relative);
        }

        return new DemoMaterialization(created, reused, kept);
    }

    private static Stream Open(string relativePath) =>
        ResourceNames.TryGetValue(relativePath.Replace('\\', '/'), out var name) && Assembly.GetManifestResourceStream(name) is { } stream
            ? stream
            : throw new ArgumentException($"'{relativePath}' is not a file of the embedded demo workspace.", nameof(relativePath));
}
