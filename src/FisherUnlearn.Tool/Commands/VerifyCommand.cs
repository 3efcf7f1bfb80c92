using System.CommandLine;
using System.Globalization;
using FisherUnlearn.Engine;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Verification;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Output;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Commands;

/// <summary>
/// <c>dotnet unlearn verify &lt;removal&gt; [--reference retrain] [--out dir] [--json]</c>: forget/retain/test accuracy and
/// MIA rate of every affected model before, after (the outputs of 'run') and for the retrained reference. Exit codes: 0
/// targets met; 1 a target missed; 2 bad input (including missing outputs: run 'dotnet unlearn run' first).
/// </summary>
internal static class VerifyCommand
{
    public static Command Create(CliContext context, GlobalOptions options)
    {
        var removal = new Argument<string>("removal") { Description = "The removal request: its id or the path of its .removal.json." };
        var reference = new Option<string?>("--reference") { Description = "Also measure the exact reference: 'retrain'.", HelpName = "kind" };
        reference.AcceptOnlyFromAmong("retrain");
        var output = new Option<string?>("--out") { Description = "The output root 'run' wrote to.", HelpName = "dir" };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads (default: 'threads' of unlearn.json, else 1).", HelpName = "n" };
        var command = new Command("verify", "Measure forget/retain/test accuracy and MIA before and after unlearning; exit 1 when the removal's targets are missed.")
        {
            removal, reference, output, threads,
        };
        command.SetAction((parseResult, cancellationToken) => Task.FromResult(Run(new CommandEnvironment(context, options, parseResult),
            parseResult.GetValue(removal)!, parseResult.GetValue(reference) == "retrain", parseResult.GetValue(output), parseResult.GetValue(threads), cancellationToken)));
        return command;
    }

    private static int Run(CommandEnvironment env, string removalName, bool reference, string? output, int? threads, CancellationToken cancellationToken)
    {
        var analysis = env.LoadValidWorkspace(cancellationToken);
        if (analysis is null)
        {
            return ExitCodes.InvalidInput;
        }

        var found = RemovalLookup.Find(analysis.Workspace, removalName, env.Context);
        if (!found.Succeeded)
        {
            env.Diagnostics.Write(found.Diagnostics);
            return ExitCodes.InvalidInput;
        }

        VerificationResult result;
        try
        {
            TorchRuntime.Configure(threads ?? analysis.Workspace.Settings.Threads ?? 1);
            var outputRoot = output is null ? null : Path.GetFullPath(Path.Combine(env.Context.CurrentDirectory, output));
            result = Verifier.Verify(analysis, found.Value!, new VerifyOptions { OutputDirectory = outputRoot, Reference = reference, Log = env.Diagnostics.Detail }, cancellationToken);
        }
        catch (EngineException ex)
        {
            env.Diagnostics.Write(ex.Diagnostic);
            return ex.Code == DiagnosticCatalogue.NativeLoadFailed.Code ? ExitCodes.Failed : ExitCodes.InvalidInput;
        }

        foreach (var model in result.Models)
        {
            env.Diagnostics.Write(model.Missed);
        }

        if (env.Json)
        {
            env.WriteJson(new JObject
            {
                ["schemaVersion"] = JsonDocuments.SchemaVersion,
                ["removal"] = result.RemovalId,
                ["targetsMet"] = result.TargetsMet,
                ["models"] = new JArray(result.Models.Select(m => new JObject
                {
                    ["id"] = m.Id,
                    ["role"] = m.Role.ToString().ToLowerInvariant(),
                    ["before"] = RunReport.Metrics(m.Before),
                    ["after"] = RunReport.Metrics(m.After),
                    ["reference"] = RunReport.Metrics(m.Reference),
                    ["missed"] = new JArray(m.Missed.Select(d => d.Code)),
                })),
                ["referenceSeconds"] = result.ReferenceSeconds is { } s ? Math.Round(s, 3) : null,
                ["seconds"] = Math.Round(result.Seconds, 3),
            });
        }
        else
        {
            var table = new TextTable("model", "role", "state", "forget %", "retain %", "test %", "MIA %");
            foreach (var m in result.Models)
            {
                foreach (var (state, metrics) in new[] { ("before", m.Before), ("after", m.After), ("reference", m.Reference) })
                {
                    if (metrics is not null)
                    {
                        table.Add(state == "before" ? m.Id : string.Empty, state == "before" ? m.Role.ToString().ToLowerInvariant() : string.Empty, state,
                            RunReport.Percent(metrics.ForgetAccuracy), RunReport.Percent(metrics.RetainAccuracy), RunReport.Percent(metrics.TestAccuracy), RunReport.Percent(metrics.Mia));
                    }
                }
            }

            env.Context.Out.Write(table.ToString());
            if (result.ReferenceSeconds is { } seconds)
            {
                env.Context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Retraining the reference took {seconds:0.00} s."));
            }

            env.Context.Out.WriteLine(result.TargetsMet ? "Targets met." : "Targets missed: see the errors above.");
        }

        return result.TargetsMet ? ExitCodes.Ok : ExitCodes.Failed;
    }
}
