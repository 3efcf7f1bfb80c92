using System.CommandLine;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Output;
using FisherUnlearn.Tool.Scaffolding;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Commands;

/// <summary>
/// <c>dotnet unlearn init</c>: scaffolds a workspace in an existing folder (normally a repository): <c>unlearn.json</c>
/// with the defaults spelled out, example manifests with a README under <c>examples/</c>, and the JSON Schemas under
/// <c>.unlearn/schemas/</c> (see <see cref="InitTemplates"/>). An existing file is never replaced (it is reported as
/// skipped) unless <c>--force</c> is given; one that already has the scaffolded content (line ends aside), or the
/// demo's <c>unlearn.json</c> (the same settings), is left as it is and counted as up to date.
/// </summary>
internal static class InitCommand
{
    public static Command Create(CliContext context, GlobalOptions options)
    {
        var force = new Option<bool>("--force") { Description = "Overwrite files that exist with other content, and scaffold inside another workspace." };
        var command = new Command("init", "Scaffold unlearn.json, example manifests (examples/) and the JSON Schemas (.unlearn/schemas/) in the workspace folder; existing files are kept unless --force.")
        {
            force,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var env = new CommandEnvironment(context, options, parseResult, discover: false);
            if (!Directory.Exists(env.WorkspaceRoot))
            {
                env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.WorkspaceNotFound, null, context.Display(env.WorkspaceRoot)));
                return Task.FromResult(ExitCodes.InvalidInput);
            }

            // Inside another workspace (a project folder of it), an unlearn.json here would split that workspace: its models
            // under this folder would silently leave its network, and every removal would miss them.
            var overwrite = parseResult.GetValue(force);
            if (!overwrite && EnclosingWorkspace(env.WorkspaceRoot) is { } enclosing)
            {
                env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null,
                    $"'{context.Display(env.WorkspaceRoot)}' is inside the workspace '{context.Display(enclosing)}' (it holds unlearn.json): an unlearn.json here would start a workspace of its own, and the models under this folder would leave that one's network and its removals. Run 'dotnet unlearn init' at the workspace's root, or pass --force to start a nested workspace on purpose."));
                return Task.FromResult(ExitCodes.InvalidInput);
            }

            if (ScaffoldFile.Obstacle(env.WorkspaceRoot, InitTemplates.Files().Select(f => f.Path)) is { } obstacle)
            {
                env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.FileSystemError, null, obstacle));
                return Task.FromResult(ExitCodes.InvalidInput);
            }

            // Once init has made this workspace (its unlearn.json and schemas are there), an example that is not there was
            // deleted on purpose (examples/README.md says to, once copied): written again, it would join the user's network,
            // and its request could name their models. (A demo workspace has no schemas yet: init adds the examples.)
            var existing = File.Exists(Path.Combine(env.WorkspaceRoot, Lineage.Manifests.WorkspaceSettings.FileName))
                && Directory.Exists(Path.Combine(env.WorkspaceRoot, InitTemplates.SchemaFolder));
            // A folder that already has models of its own (a repository adopting the tool, the demo's folder) gets no
            // examples: they would join its network, a request of theirs could name its models, and 'train' would stop at
            // the examples' data files, which are not there (found in QA: 'forget-3' went from 6 affected models to 8 and
            // 'run' failed with FUL4104 for the examples).
            var network = overwrite ? 0 : LineageManifestsOutsideExamples(env.WorkspaceRoot);
            var results = new List<(string Path, ScaffoldOutcome Outcome)>();
            foreach (var (relative, content) in InitTemplates.Files())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var path = Path.Combine(env.WorkspaceRoot, relative.Replace('/', Path.DirectorySeparatorChar));
                // Withheld before removed: in a folder with models of its own the examples were never written, so a second
                // init must not call them removed since (QA).
                var outcome = network > 0 && InitTemplates.IsExample(relative) && !File.Exists(path) ? ScaffoldOutcome.Withheld
                    : existing && !overwrite && InitTemplates.IsExample(relative) && !File.Exists(path) ? ScaffoldOutcome.Removed
                    : ScaffoldFile.Write(path, content, overwrite, ToolWrittenFiles.At(relative), InitTemplates.Earlier(relative));
                results.Add((relative, outcome));
                var shown = context.Display(Path.GetFullPath(path));
                switch (outcome)
                {
                    case ScaffoldOutcome.Created:
                        env.Diagnostics.Detail($"created {shown}");
                        break;
                    case ScaffoldOutcome.Overwritten:
                        env.Diagnostics.Log($"overwrote {shown} (--force)");
                        break;
                    case ScaffoldOutcome.Updated:
                        env.Diagnostics.Log($"updated {shown}: it was as an earlier version of init wrote it");
                        break;
                    case ScaffoldOutcome.Unchanged:
                        env.Diagnostics.Detail($"{shown} is up to date");
                        break;
                    case ScaffoldOutcome.Removed:
                        env.Diagnostics.Detail($"{shown} not written again: an example of an existing workspace, removed since (--force writes it)");
                        break;
                    case ScaffoldOutcome.Withheld:
                        env.Diagnostics.Detail($"{shown} not written: the folder has models of its own (--force writes it)");
                        break;
                    case ScaffoldOutcome.Equivalent:
                        env.Diagnostics.Detail($"{shown} is up to date: as the tool wrote it ('dotnet unlearn demo', or an earlier init), with the same settings (--force writes this init's)");
                        break;
                    default:
                        env.Diagnostics.Log($"skipped {shown}: it exists (use --force to overwrite)");
                        break;
                }
            }

            // A .gitignore where the folder has none; one that is there is the user's, kept even with --force (it may
            // ignore the output folder already, or in a file further up).
            var (ignoreName, ignoreContent) = InitTemplates.GitIgnore;
            var ignorePath = Path.Combine(env.WorkspaceRoot, ignoreName);
            if (!File.Exists(ignorePath) && !Directory.Exists(ignorePath))
            {
                ScaffoldFile.Write(ignorePath, ignoreContent, overwrite: false);
                results.Add((ignoreName, ScaffoldOutcome.Created));
                env.Diagnostics.Detail($"created {context.Display(Path.GetFullPath(ignorePath))}");
            }

            if (env.Json)
            {
                env.WriteJson(Document(env.WorkspaceRoot, context, results));
            }

            var created = results.Count(r => r.Outcome is ScaffoldOutcome.Created);
            var overwritten = results.Count(r => r.Outcome is ScaffoldOutcome.Overwritten);
            var unchanged = results.Count(r => r.Outcome is ScaffoldOutcome.Unchanged or ScaffoldOutcome.Equivalent);
            var skipped = results.Count(r => r.Outcome is ScaffoldOutcome.Skipped);
            var removed = results.Count(r => r.Outcome is ScaffoldOutcome.Removed);
            var withheld = results.Count(r => r.Outcome is ScaffoldOutcome.Withheld);
            var updated = results.Count(r => r.Outcome is ScaffoldOutcome.Updated);
            env.Diagnostics.Log($"init {context.Display(env.WorkspaceRoot)}: {created} created, {overwritten} overwritten, {unchanged} already up to date, {skipped} skipped (yours differ; --force overwrites)"
                + (updated > 0 ? $", {updated} updated from an earlier version's" : string.Empty)
                + (removed > 0 ? $", {removed} removed examples not written again (--force writes them)" : string.Empty)
                + (withheld > 0 ? $", {withheld} examples not written: the folder already has {network} lineage manifest{(network == 1 ? "" : "s")}, whose network they would join (--force writes them)" : string.Empty)
                + (existing || withheld > 0 ? ". Next: 'dotnet unlearn validate'." : ". Next: edit the examples, then 'dotnet unlearn validate'."));
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    // The nearest folder above root holding unlearn.json, when root itself holds none.
    private static string? EnclosingWorkspace(string root)
    {
        if (File.Exists(Path.Combine(root, Lineage.Manifests.WorkspaceSettings.FileName)) || Path.GetDirectoryName(Path.GetFullPath(root)) is not { } parent)
        {
            return null;
        }

        var found = CommandEnvironment.FindWorkspaceRoot(parent);
        return File.Exists(Path.Combine(found, Lineage.Manifests.WorkspaceSettings.FileName)) ? found : null;
    }

    private static JObject Document(string workspaceRoot, CliContext context, List<(string Path, ScaffoldOutcome Outcome)> results) => new()
    {
        ["schemaVersion"] = JsonDocuments.SchemaVersion,
        ["workspace"] = context.Display(workspaceRoot),
        ["created"] = Paths(results, ScaffoldOutcome.Created),
        ["overwritten"] = Paths(results, ScaffoldOutcome.Overwritten),
        ["unchanged"] = new JArray(results.Where(r => r.Outcome is ScaffoldOutcome.Unchanged or ScaffoldOutcome.Equivalent).Select(r => r.Path)),
        ["skipped"] = Paths(results, ScaffoldOutcome.Skipped),
        ["removed"] = Paths(results, ScaffoldOutcome.Removed),
        ["withheld"] = Paths(results, ScaffoldOutcome.Withheld),
        ["updated"] = Paths(results, ScaffoldOutcome.Updated),
    };

    // The lineage manifests discovery finds under root (with the default globs) that are not init's examples.
    private static int LineageManifestsOutsideExamples(string root) =>
        Lineage.Discovery.WorkspaceLoader.Discover(root, new Lineage.Manifests.WorkspaceSettings())
            .Count(path => path.EndsWith(".lineage.json", StringComparison.Ordinal) && !InitTemplates.IsExample(Path.GetRelativePath(root, path).Replace('\\', '/')));

    private static JArray Paths(List<(string Path, ScaffoldOutcome Outcome)> results, ScaffoldOutcome outcome) =>
        new(results.Where(r => r.Outcome == outcome).Select(r => r.Path));
}
