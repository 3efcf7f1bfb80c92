namespace FisherUnlearn.Tool.Scaffolding;

/// <summary>
/// What the tool's two scaffolders write, by path: <c>init</c> (<see cref="InitTemplates"/>) and <c>demo</c>
/// (<see cref="DemoWorkspace"/>). Both write <c>unlearn.json</c>, with the same settings (the defaults; init spells them
/// out with comments), so each recognises the other's as the tool's and keeps it instead of calling it "changed by you"
/// (DemoWorkspaceTests checks that the two read as the same settings).
/// </summary>
internal static class ToolWrittenFiles
{
    /// <summary>Every content the tool writes at <paramref name="relativePath"/> ('/' separators).</summary>
    public static IReadOnlyList<byte[]> At(string relativePath)
    {
        var path = relativePath.Replace('\\', '/');
        var contents = InitTemplates.Files().Where(f => f.Path == path).Select(f => f.Content).Concat(InitTemplates.Earlier(path)).ToList();
        if (DemoWorkspace.Files.Contains(path, StringComparer.Ordinal))
        {
            contents.Add(DemoWorkspace.Read(path));
        }

        return contents;
    }
}
