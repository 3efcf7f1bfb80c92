using System.CommandLine;
using System.Globalization;
using FisherUnlearn.Engine;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Output;
using FisherUnlearn.Tool.Running;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Commands;

/// <summary>
/// <c>dotnet unlearn status [--out dir] [--json]</c>: for each removal of the workspace, whether its outputs are
/// <c>done</c> (every affected model's output exists and is up to date), <c>stale</c> (all exist, but an input changed
/// since) or <c>pending</c> (some are missing). The same judgement as <c>run</c>'s incremental skip and <c>plan --check</c>:
/// <see cref="OutputFreshness"/> (the recorded <c>JobKey</c> of each output against the current one, for the method
/// <c>run &lt;removal&gt;</c> would use). Read-only; loads no model. Exit codes: 0
/// (whatever the states: use <c>plan --check</c> to fail on pending work); 2 bad workspace.
/// </summary>
internal static class StatusCommand
{
    public const string Done = "done";
    public const string Stale = "stale";
    public const string Pending = "pending";

    public static Command Create(CliContext context, GlobalOptions options)
    {
        var output = new Option<string?>("--out") { Description = "The output root 'run' wrote to (default: 'output' of unlearn.json, artifacts/unlearn).", HelpName = "dir" };
        // A folder of outputs made with another method ('run --method ssd --out ...') is judged by that method (QA: judged by
        // the workspace's, status suggested a run that would have replaced them).
        var method = MethodOption.Create("The method the outputs were made with (default: each removal's method, else unlearn.json's, else fiun).");
        var command = new Command("status", "For each removal request: done, stale (an input changed since) or pending (outputs missing).") { output, method };
        command.SetAction((parseResult, cancellationToken) =>
            Task.FromResult(Run(new CommandEnvironment(context, options, parseResult), parseResult.GetValue(output), parseResult.GetValue(method), cancellationToken)));
        return command;
    }

    private sealed record ModelStatus(string Id, OutputState State);

    /// <param name="Checkpoints">Checkpoints of the affected lineages (affected models and their ancestors) that are
    /// missing or cannot be read: 'run' stops or fails at them, so 'train' (or a fixed file) comes first.</param>
    private sealed record RemovalStatus(string Id, string OutputDirectory, IReadOnlyList<ModelStatus> Models, CheckpointTrouble Checkpoints,
        IReadOnlyList<string> Leftovers)
    {
        public int Done => Models.Count(m => m.State == OutputState.Done);

        public int Stale => Models.Count(m => m.State == OutputState.Stale);

        public int Missing => Models.Count(m => m.State == OutputState.Missing);

        // Outputs of models the request no longer affects are named, but leave the state to the affected models': the
        // MSBuild build (which never has them as outputs) and 'plan --check' must agree on what is up to date.
        public string State => Missing > 0 ? Pending : Stale > 0 ? StatusCommand.Stale : StatusCommand.Done;
    }

    private static int Run(CommandEnvironment env, string? output, string? method, CancellationToken cancellationToken)
    {
        var analysis = env.LoadValidWorkspace(cancellationToken);
        if (analysis is null)
        {
            return ExitCodes.InvalidInput;
        }

        var workspace = analysis.Workspace;
        if (env.OutputIsFile(output))
        {
            return ExitCodes.InvalidInput;
        }

        var outputRoot = output is null ? null : Path.GetFullPath(Path.Combine(env.Context.CurrentDirectory, output));
        if (method is not null && string.IsNullOrWhiteSpace(method))
        {
            // Said once, exit 2, as plan --check does (review: an error per removal, then exit 0).
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null, $"--method needs a method: {string.Join(", ", Lineage.Manifests.RemovalManifest.Methods)}."));
            return ExitCodes.InvalidInput;
        }

        var files = FileHashCache.ForWorkspace(workspace);
        var statuses = new List<RemovalStatus>();
        foreach (var removal in workspace.Removals.Values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            UnlearnSettings settings;
            try
            {
                settings = UnlearnSettings.From(removal, workspace.Settings, method);
            }
            catch (EngineException ex)
            {
                env.Diagnostics.Write(ex.Diagnostic);
                settings = new UnlearnSettings { Method = method?.Trim().ToLowerInvariant() ?? removal.Method ?? workspace.Settings.Method ?? UnlearnSettings.Fiun };
            }

            var plan = Planner.Plan(workspace, analysis.Graph, removal);
            var directory = RemovalRunner.RemovalOutputDirectory(workspace, removal.Id, outputRoot);
            var states = OutputFreshness.Check(analysis, plan, settings.Method, directory, files: files);
            var models = plan.Affected.Select(a => new ModelStatus(a.Id, states[a.Id].State)).ToList();
            statuses.Add(new RemovalStatus(removal.Id, directory, models, CheckpointTrouble.Find(analysis, plan, env.Context.DisplayMessage, files), UnaffectedOutputs.Find(directory, plan)));
        }

        if (env.Json)
        {
            env.WriteJson(new JObject
            {
                ["schemaVersion"] = JsonDocuments.SchemaVersion,
                ["removals"] = new JArray(statuses.Select(s => new JObject
                {
                    ["id"] = s.Id,
                    ["state"] = s.State,
                    ["affected"] = s.Models.Count,
                    ["done"] = s.Done,
                    ["stale"] = s.Stale,
                    ["missing"] = s.Missing,
                    ["output"] = env.Context.Display(s.OutputDirectory),
                    ["models"] = new JArray(s.Models.Select(m => new JObject { ["id"] = m.Id, ["state"] = Name(m.State) })),
                    ["missingCheckpoints"] = new JArray(s.Checkpoints.Missing),
                    ["unreadableCheckpoints"] = s.Checkpoints.UnreadableJson(),
                    ["untrainedCheckpoints"] = new JArray(s.Checkpoints.Untrained),
                    ["leftovers"] = new JArray(s.Leftovers),
                })),
            });
            return ExitCodes.Ok;
        }

        if (statuses.Count == 0)
        {
            env.Context.Out.WriteLine("No removal requests (*.removal.json) in the workspace.");
            return ExitCodes.Ok;
        }

        var table = new TextTable("REMOVAL", "STATE", "AFFECTED", "DONE", "STALE", "MISSING");
        foreach (var s in statuses)
        {
            table.Add(s.Id, s.State, Count(s.Models.Count), Count(s.Done), Count(s.Stale), Count(s.Missing));
        }

        env.Context.Out.Write(table.ToString());
        var todo = statuses.Where(s => s.State != Done || s.Leftovers.Count > 0 || s.Checkpoints.Untrained.Count > 0).ToList();
        if (todo.Count > 0)
        {
            env.Context.Out.WriteLine();
            foreach (var s in todo)
            {
                var names = s.Models.Where(m => m.State != OutputState.Done).Select(m => $"{m.Id} ({Name(m.State)})")
                    .Concat(s.Leftovers.Select(id => $"{id} (no longer affected, but its output is still there: 'run' removes it)"));
                // The same output folder it checked: a plain 'run' would write to the default one. A missing checkpoint
                // stops 'run' (FUL4104), an unreadable one fails it: 'train' makes it first (or the path or file is wrong).
                var run = $"'dotnet unlearn run {s.Id}{(method is null ? string.Empty : $" --method {method.Trim().ToLowerInvariant()}")}{(output is null ? string.Empty : $" --out {Lineage.Text.ShellWord.Quote(output)}")}'";
                var untrained = s.Checkpoints.UntrainedNote(run);
                env.Context.Out.WriteLine(s.Checkpoints.Any
                    ? $"{s.Id}: {string.Join(", ", names)}; {s.Checkpoints.Advice(run)}"
                    : !names.Any() ? $"{s.Id}: every output is up to date with the checkpoints as they are, but {untrained}"
                    : untrained is not null ? $"{s.Id}: {string.Join(", ", names)}; {untrained}"
                    : $"{s.Id}: {string.Join(", ", names)}; run {run}.");
            }
        }

        return ExitCodes.Ok;
    }

    private static string Name(OutputState state) => state switch
    {
        OutputState.Done => "done",
        OutputState.Stale => "stale",
        _ => "missing",
    };

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);
}
