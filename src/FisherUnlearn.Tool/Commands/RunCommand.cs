using System.CommandLine;
using System.Globalization;
using FisherUnlearn.Engine;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Text;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Output;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Commands;

/// <summary>
/// <c>dotnet unlearn run &lt;removal&gt; [--method m] [--out dir] [--only model] [--threads n] [--json]</c>: unlearns every
/// affected model into <c>&lt;out&gt;/&lt;removal-id&gt;/&lt;model-id&gt;.safetensors</c> and writes <c>report.json</c> there.
/// Exit codes: 0 every model done; 1 a model failed (the others' outputs are kept); 2 bad input (manifests, unknown
/// removal, method or model, missing checkpoints: run 'dotnet unlearn train').
/// </summary>
internal static class RunCommand
{
    public static Command Create(CliContext context, GlobalOptions options)
    {
        var removal = new Argument<string>("removal") { Description = "The removal request: its id or the path of its .removal.json." };
        var method = new Option<string?>("--method") { Description = "fiun (default), ssd or retrain; overrides the removal's and unlearn.json's.", HelpName = "method" };
        var output = new Option<string?>("--out") { Description = "Output root (default: 'output' of unlearn.json, artifacts/unlearn).", HelpName = "dir" };
        var only = new Option<string?>("--only") { Description = "Unlearn only this affected model.", HelpName = "model" };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads (default: 'threads' of unlearn.json, else 1).", HelpName = "n" };
        var command = new Command("run", "Produce the unlearned checkpoint of every affected model, and report.json.") { removal, method, output, only, threads };
        command.SetAction((parseResult, cancellationToken) => Task.FromResult(Run(new CommandEnvironment(context, options, parseResult),
            parseResult.GetValue(removal)!, parseResult.GetValue(method), parseResult.GetValue(output), parseResult.GetValue(only), parseResult.GetValue(threads), cancellationToken)));
        return command;
    }

    private static int Run(CommandEnvironment env, string removalName, string? method, string? output, string? only, int? threads, CancellationToken cancellationToken)
    {
        if (threads is < 1)
        {
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null, $"--threads must be at least 1, not {threads}"));
            return ExitCodes.InvalidInput;
        }

        var analysis = env.LoadValidWorkspace(cancellationToken);
        if (analysis is null)
        {
            return ExitCodes.InvalidInput;
        }

        var workspace = analysis.Workspace;
        var found = RemovalLookup.Find(workspace, removalName, env.Context);
        if (!found.Succeeded)
        {
            env.Diagnostics.Write(found.Diagnostics);
            return ExitCodes.InvalidInput;
        }

        var removal = found.Value!;
        var plan = Lineage.Planning.Planner.Plan(workspace, analysis.Graph, removal);
        if (only is not null && !plan.IsAffected(only))
        {
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.ModelNotFound, null, only,
                $" among the models affected by '{removal.Id}' ({NameList.Quoted([.. plan.Affected.Select(a => a.Id)])})"));
            return ExitCodes.InvalidInput;
        }

        var missing = plan.Affected.Where(a => only is null || a.Id == only).Select(a => workspace.Models[a.Id]).Where(m => !File.Exists(m.CheckpointPath)).ToList();
        if (missing.Count > 0)
        {
            foreach (var model in missing)
            {
                env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UnlearningCheckpointMissing, model.Location, model.Id, env.Context.Display(model.CheckpointPath)));
            }

            return ExitCodes.InvalidInput;
        }

        RunResult result;
        try
        {
            TorchRuntime.Configure(threads ?? workspace.Settings.Threads ?? 1);
            var outputRoot = output is null ? null : Path.GetFullPath(Path.Combine(env.Context.CurrentDirectory, output));
            result = RemovalRunner.Run(analysis, removal, new RunOptions { Method = method, OutputDirectory = outputRoot, Only = only, Log = env.Diagnostics.Log }, cancellationToken);
        }
        catch (EngineException ex)
        {
            env.Diagnostics.Write(ex.Diagnostic);
            return ex.Code == DiagnosticCatalogue.NativeLoadFailed.Code ? ExitCodes.Failed : ExitCodes.InvalidInput;
        }

        foreach (var failed in result.Models.Where(m => !m.Succeeded))
        {
            env.Diagnostics.Write(failed.Error!);
            env.Diagnostics.Detail(failed.Exception?.ToString() ?? string.Empty);
        }

        var report = RunReport.Write(result);
        env.Diagnostics.Log(string.Create(CultureInfo.InvariantCulture,
            $"{result.Models.Count(m => m.Succeeded)} unlearned ({result.Settings.Method}), {result.Models.Count(m => !m.Succeeded)} failed, in {result.Seconds:0.00} s; report: {env.Context.Display(report)}"));
        if (env.Json)
        {
            env.WriteJson(new JObject
            {
                ["schemaVersion"] = JsonDocuments.SchemaVersion,
                ["removal"] = result.RemovalId,
                ["seconds"] = Math.Round(result.Seconds, 3),
                ["models"] = new JArray(result.Models.Select(m => new JObject
                {
                    ["id"] = m.Id,
                    ["role"] = m.Role.ToString().ToLowerInvariant(),
                    ["method"] = m.Method,
                    ["seconds"] = Math.Round(m.Seconds, 3),
                    ["output"] = m.OutputPath is null ? null : env.Context.Display(m.OutputPath),
                })),
            });
        }

        return result.Succeeded ? ExitCodes.Ok : ExitCodes.Failed;
    }
}
