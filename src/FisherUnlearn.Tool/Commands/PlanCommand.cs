using System.CommandLine;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Lineage.Text;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Output;

namespace FisherUnlearn.Tool.Commands;

/// <summary><c>dotnet unlearn plan &lt;removal&gt;</c>: which models a removal request affects, and why.</summary>
internal static class PlanCommand
{
    public static Command Create(CliContext context, GlobalOptions options)
    {
        var removal = new Argument<string>("removal") { Description = "The removal request's id (or the path of its .removal.json)." };
        var explain = new Option<string?>("--explain") { Description = "Explain why this model is (or is not) affected.", HelpName = "model" };
        var command = new Command("plan", "Work out which models a removal request affects: roots, descendants, why, and the work order.")
        {
            removal,
            explain,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var env = new CommandEnvironment(context, options, parseResult);
            var analysis = env.LoadValidWorkspace(cancellationToken);
            if (analysis is null)
            {
                return Task.FromResult(ExitCodes.InvalidInput);
            }

            var request = RemovalLookup.Find(analysis.Workspace, parseResult.GetValue(removal)!, context);
            if (request.Value is null)
            {
                env.Diagnostics.Write(request.Diagnostics);
                return Task.FromResult(ExitCodes.InvalidInput);
            }

            var plan = Planner.Plan(analysis.Workspace, analysis.Graph, request.Value);
            var explainId = parseResult.GetValue(explain);
            if (explainId is not null && !analysis.Workspace.Models.ContainsKey(explainId))
            {
                env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.ModelNotFound, null, explainId, EditDistance.DidYouMean(explainId, analysis.Workspace.Models.Keys)));
                return Task.FromResult(ExitCodes.InvalidInput);
            }

            if (plan.IsEmpty)
            {
                env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.NothingAffected, request.Value.Location, plan.RemovalId));
            }

            if (env.Json)
            {
                env.WriteJson(JsonDocuments.Plan(plan));
            }
            else if (explainId is not null)
            {
                context.Out.WriteLine(Planner.Explain(plan, explainId));
            }
            else
            {
                context.Out.Write(PlanText.Render(plan, request.Value));
            }

            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}
