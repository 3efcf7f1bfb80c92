using System.CommandLine;
using FisherUnlearn.Engine;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Running;

namespace FisherUnlearn.Tool.Commands;

/// <summary>
/// <c>dotnet-unlearn worker &lt;removal&gt; --model &lt;id&gt; ...</c> (hidden): one job of a parallel <c>run</c>, in a process of its
/// own. Writes the model's checkpoint and job record, and prints the record as one JSON line on stdout.
/// Exit 0 when the model was unlearned, 1 when it failed, 2 for bad input.
/// </summary>
internal static class WorkerCommand
{
    public static Command Create(CliContext context, GlobalOptions options)
    {
        var removal = new Argument<string>("removal");
        var model = new Option<string>("--model") { Required = true };
        var method = new Option<string?>("--method");
        var output = new Option<string?>("--out");
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 1 };
        var command = new Command("worker", "Run one job of a parallel 'run' (used by 'run --parallel'; not meant to be called by hand).")
        {
            removal, model, method, output, threads,
        };
        command.Hidden = true;
        command.SetAction((parseResult, cancellationToken) =>
        {
            var env = new CommandEnvironment(context, options, parseResult);
            var analysis = env.LoadValidWorkspace(cancellationToken);
            var found = analysis is null ? null : RemovalLookup.Find(analysis.Workspace, parseResult.GetValue(removal)!, context);
            if (analysis is null || found?.Value is null)
            {
                env.Diagnostics.Write(found?.Diagnostics ?? []);
                return Task.FromResult(ExitCodes.InvalidInput);
            }

            try
            {
                var modelId = parseResult.GetValue(model)!;
                var settings = UnlearnSettings.From(found.Value, analysis.Workspace.Settings, parseResult.GetValue(method));
                var plan = Planner.Plan(analysis.Workspace, analysis.Graph, found.Value);
                var outputRoot = parseResult.GetValue(output);
                var directory = RemovalRunner.RemovalOutputDirectory(analysis.Workspace, found.Value.Id, outputRoot);
                TorchRuntime.Configure(parseResult.GetValue(threads));
                var outcome = new UnlearningJob(analysis.Workspace.Root, found.Value.Id, modelId, settings, directory)
                    .Run(analysis, plan, new JobResources(), measure: true, cancellationToken);
                var record = new JobRecord(JobKey.Compute(analysis, plan, modelId, settings.Method), outcome);
                if (outcome.Succeeded)
                {
                    record.Write(directory);
                }
                else
                {
                    env.Diagnostics.Write(outcome.Error!);
                }

                context.Out.WriteLine(record.ToJson().ToString(Newtonsoft.Json.Formatting.None));
                return Task.FromResult(outcome.Succeeded ? ExitCodes.Ok : ExitCodes.Failed);
            }
            catch (EngineException ex)
            {
                env.Diagnostics.Write(ex.Diagnostic);
                return Task.FromResult(ExitCodes.InvalidInput);
            }
        });
        return command;
    }
}
