using System.CommandLine;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Scaffolding;

namespace FisherUnlearn.Tool.Commands;

/// <summary>
/// <c>dotnet unlearn demo [&lt;dir&gt;]</c>: the whole job end to end on the embedded sample (seven models over 10,000 MNIST
/// digits): creates or reuses the workspace in <c>&lt;dir&gt;</c> (default <c>./unlearn-demo</c>), trains what is missing,
/// harvests, unlearns digit 3 (removal <c>forget-3</c>) and verifies it against the retrained reference, then prints
/// the table and where the reports are. Every step is incremental, so a second run trains and unlearns nothing.
/// </summary>
internal static class DemoCommand
{
    public const string DefaultDirectory = "unlearn-demo";
    public const string Removal = "forget-3";

    public static Command Create(CliContext context, GlobalOptions options)
    {
        var directory = new Argument<string>("dir") { Description = "Where to create (or reuse) the demo workspace (default: --workspace if given, else ./unlearn-demo).", DefaultValueFactory = _ => DefaultDirectory, Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("demo", "Create the sample workspace from embedded data and run a removal end to end: train, harvest, run, verify.")
        {
            directory,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var env = new CommandEnvironment(context, options, parseResult);
            // The folder is the argument or, as for every other command, --workspace; given both, they must agree.
            var named = parseResult.GetResult(directory) is { Tokens.Count: > 0 } ? parseResult.GetValue(directory) : null;
            var workspace = parseResult.GetValue(options.Workspace) is { Length: > 0 } w ? w : null;
            if (named is not null && workspace is not null
                && !string.Equals(FullPath(context, named), FullPath(context, workspace), StringComparison.Ordinal))
            {
                env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null,
                    $"demo got two folders, '{named}' and --workspace '{workspace}'; give one"));
                return ExitCodes.InvalidInput;
            }

            var root = FullPath(context, named ?? workspace ?? DefaultDirectory);
            if (ScaffoldFile.Obstacle(root, DemoWorkspace.Files) is { } obstacle)
            {
                env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.FileSystemError, null, obstacle));
                return ExitCodes.InvalidInput;
            }

            var files = DemoWorkspace.Materialize(root, cancellationToken);
            env.Diagnostics.Log($"demo workspace {context.Display(root)}: {files.Created.Count} files created, {files.Reused.Count} reused"
                + (files.Kept.Count > 0 ? $", {files.Kept.Count} changed by you and kept ({string.Join(", ", files.Kept)})" : string.Empty));

            // Each step is the real command, so the demo shows exactly what a user would run by hand. Its request forgets one
            // label, so the harvest plans single labels only: the default pairs would make it about four times longer here.
            var steps = new[]
            {
                new[] { "train" },
                ["harvest", "--plan-labels", "1"],
                ["run", Removal],
            };
            // Paths in the steps' messages are shown from where the user is, as every command shows them.
            var quiet = new CliContext(TextWriter.Null, context.Error, context.GetEnvironmentVariable, context.CurrentDirectory, context.ErrorIsTerminal);
            var common = CommonArguments(env, root);
            foreach (var step in steps)
            {
                env.Diagnostics.Log($"> dotnet unlearn {string.Join(' ', step)}");
                var exit = await CliApp.RunAsync([.. step, .. common], quiet, cancellationToken).ConfigureAwait(false);
                if (exit != ExitCodes.Ok)
                {
                    // The step's diagnostics went to stderr; --json's failure document lists them too.
                    foreach (var diagnostic in quiet.Reported)
                    {
                        context.Record(diagnostic);
                    }

                    return exit;
                }
            }

            env.Diagnostics.Log($"> dotnet unlearn verify {Removal} --reference retrain");
            var verify = await CliApp.RunAsync(["verify", Removal, "--reference", "retrain", .. common, .. env.Json ? new[] { "--json" } : []],
                new CliContext(context.Out, context.Error, context.GetEnvironmentVariable, context.CurrentDirectory, context.ErrorIsTerminal), cancellationToken).ConfigureAwait(false);
            var quoted = Lineage.Text.ShellWord.Quote(context.Display(root));
            env.Diagnostics.Log($"try next: dotnet unlearn plan {Removal} --workspace {quoted}, or dotnet unlearn graph --removal {Removal} --workspace {quoted} --output lineage.html");
            env.Diagnostics.Log($"the same with MSBuild (one NoTargets training project per model): dotnet build {context.Display(Path.Combine(root, "Models.sln"))} -t:Unlearn -m -p:FisherUnlearnBuildVersion=<version> (docs/msbuild.md)");
            return verify;
        });
        return command;
    }

    private static string FullPath(CliContext context, string path) =>
        Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine(context.CurrentDirectory, path)));

    private static string[] CommonArguments(CommandEnvironment env, string root) =>
        ["--workspace", root, "--verbosity", env.Verbosity.ToString().ToLowerInvariant(), .. env.NoProgress ? new[] { "--no-progress" } : []];
}
