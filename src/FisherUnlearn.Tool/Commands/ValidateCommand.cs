using System.CommandLine;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Output;

namespace FisherUnlearn.Tool.Commands;

/// <summary><c>dotnet unlearn validate</c>: checks every manifest of the workspace and lists all problems.</summary>
internal static class ValidateCommand
{
    public static Command Create(CliContext context, GlobalOptions options)
    {
        var command = new Command("validate", "Check every lineage, dataset and removal manifest; list all problems, not just the first.");
        command.SetAction((parseResult, cancellationToken) =>
        {
            var env = new CommandEnvironment(context, options, parseResult);
            var analysis = env.Analyze(cancellationToken);
            if (analysis is null)
            {
                return Task.FromResult(ExitCodes.InvalidInput);
            }

            var errors = analysis.Diagnostics.Count(d => d.IsError);
            if (env.Json)
            {
                env.WriteJson(JsonDocuments.Validation(analysis, context));
            }
            else if (errors == 0)
            {
                var ws = analysis.Workspace;
                env.Diagnostics.Log($"{Counted.Of(ws.Models.Count, "model")}, {Counted.Of(ws.Datasets.Count, "dataset")}, {Counted.Of(ws.Removals.Count, "removal request")}: valid.");
            }
            else
            {
                env.Diagnostics.Log($"{Counted.Of(errors, "error")} in {Counted.Of(analysis.Diagnostics.Where(d => d.IsError).Select(d => d.Location.File).Distinct().Count(), "file")}.");
            }

            return Task.FromResult(errors == 0 ? ExitCodes.Ok : ExitCodes.InvalidInput);
        });
        return command;
    }
}
