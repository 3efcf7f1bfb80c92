using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Discovery;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Text;

namespace FisherUnlearn.Tool.Cli;

/// <summary>Finds the removal request a command names, by id or by the path of its manifest.</summary>
internal static class RemovalLookup
{
    public static Result<RemovalManifest> Find(Workspace workspace, string idOrPath, CliContext context)
    {
        if (workspace.Removals.TryGetValue(idOrPath, out var byId))
        {
            return Result<RemovalManifest>.Success(byId);
        }

        if (idOrPath.EndsWith(".removal.json", StringComparison.OrdinalIgnoreCase))
        {
            var full = Path.GetFullPath(Path.Combine(context.CurrentDirectory, idOrPath));
            var byPath = workspace.Removals.Values.FirstOrDefault(r => string.Equals(r.ManifestPath, full, StringComparison.Ordinal));
            if (byPath is not null)
            {
                return Result<RemovalManifest>.Success(byPath);
            }
        }

        if (idOrPath.StartsWith('-'))
        {
            // "run --bogus", or "run -- -x": no removal id starts with '-', and no manifest of the workspace is at that path.
            return Result<RemovalManifest>.Failure([Diagnostic.Create(DiagnosticCatalogue.UsageError, null,
                $"'{idOrPath}' is neither an option of this command nor a removal request: removal ids do not start with '-', and no .removal.json of the workspace is at that path; see 'dotnet unlearn <command> --help'")]);
        }

        var known = NameList.Quoted([.. workspace.Removals.Keys]) + (PathHint(workspace, idOrPath, context) ?? EditDistance.DidYouMean(idOrPath, workspace.Removals.Keys));
        return Result<RemovalManifest>.Failure([Diagnostic.Create(DiagnosticCatalogue.RemovalNotFound, null, idOrPath, known)]);
    }

    /// <summary>What is wrong with a removal named by a path the workspace did not load (QA: a manifest outside the
    /// workspace read "No removal request" alone, as if nothing were at that path).</summary>
    private static string? PathHint(Workspace workspace, string idOrPath, CliContext context)
    {
        var full = Path.GetFullPath(Path.Combine(context.CurrentDirectory, idOrPath));
        var looksLikePath = idOrPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || idOrPath.Contains('/', StringComparison.Ordinal)
            || idOrPath.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal);
        if (!File.Exists(full))
        {
            // An id that is no request is answered by the known ids; a folder or a path that leads nowhere is said so.
            return Directory.Exists(full) ? $". '{idOrPath}' is a folder: name a .removal.json file in it, or the request's id"
                : looksLikePath ? $". No file is at '{idOrPath}': check the path (relative to the current folder), or name the request by its id"
                : null;
        }

        var root = Path.GetFullPath(workspace.Root);
        var (reason, detail) = WorkspaceLoader.WhyNotDiscovered(root, workspace.Settings, full);
        var shown = detail is null ? null : Path.GetRelativePath(root, detail).Replace('\\', '/');
        return reason switch
        {
            Undiscovered.Outside => $". '{idOrPath}' lies outside the workspace ({(context.Display(root) is "." ? "the current folder" : $"'{context.Display(root)}'")}), and only the workspace's manifests are read: move the file into it, or pass the --workspace that holds it",
            Undiscovered.SuffixCase => $". '{idOrPath}' is not read: its suffix must be '.removal.json' in lower case (file names are case-sensitive here); rename it",
            Undiscovered.NotAManifestName => $". '{idOrPath}' is not a removal manifest: its name must end in .removal.json; rename it",
            Undiscovered.AlwaysExcluded => $". '{idOrPath}' is in the workspace but not among its manifests: a {detail!.Trim('*', '/')}/ folder is never searched; move it out of there",
            Undiscovered.NestedWorkspace => $". '{idOrPath}' is in the workspace but not among its manifests: '{shown}' holds an unlearn.json, a workspace of its own: pass --workspace {shown} (from the workspace's folder), or move the file",
            Undiscovered.Globs => $". '{idOrPath}' is in the workspace but not among its manifests: unlearn.json's 'include'/'exclude' globs leave it out; change them or move the file",
            // Read, but as another kind or with errors the workspace reported already.
            _ => null,
        };
    }
}
