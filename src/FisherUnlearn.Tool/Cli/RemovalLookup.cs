using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
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

        var known = NameList.Quoted([.. workspace.Removals.Keys]) + EditDistance.DidYouMean(idOrPath, workspace.Removals.Keys);
        return Result<RemovalManifest>.Failure([Diagnostic.Create(DiagnosticCatalogue.RemovalNotFound, null, idOrPath, known)]);
    }
}
