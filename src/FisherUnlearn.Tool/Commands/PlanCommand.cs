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
    /// <summary>GitHub Actions' limit on the jobs of one matrix.</summary>
    public const int MaxMatrixJobs = 256;

    public static Command Create(CliContext context, GlobalOptions options)
    {
        var removal = new Argument<string>("removal") { Description = "The removal request's id (or the path of its .removal.json)." };
        var explain = new Option<string?>("--explain") { Description = "Explain why this model is (or is not) affected.", HelpName = "model" };
        var check = new Option<bool>("--check") { Description = "Exit 3 when an affected model's output is missing or stale (for CI gates and build systems)." };
        var matrix = new Option<bool>("--matrix") { Description = "Print a GitHub Actions job matrix that shards the plan ({\"include\":[{\"removal\":\"forget-3\",\"shard\":\"1/3\"},...]})." };
        var maxJobs = new Option<int>("--max-jobs") { Description = "With --matrix: at most this many jobs, 1-256 (default 8; GitHub allows 256).", DefaultValueFactory = _ => 8, HelpName = "n" };
        var method = MethodOption.Create("With --check: the method the outputs were made with (default: the removal's method, else unlearn.json's, else fiun).");
        var output = new Option<string?>("--out") { Description = "With --check: the output root (default: 'output' of unlearn.json).", HelpName = "dir" };
        var command = new Command("plan", "Work out which models a removal request affects: roots, descendants, why, and the work order.")
        {
            removal,
            explain,
            check,
            matrix,
            maxJobs,
            method,
            output,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var env = new CommandEnvironment(context, options, parseResult);
            if (UsageProblem(parseResult, explain, check, matrix, maxJobs, method, output) is { } problem)
            {
                // Options that would be silently ignored: a CI gate written as 'plan --matrix --check' must not pass.
                env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null, problem));
                return Task.FromResult(ExitCodes.InvalidInput);
            }

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
                env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.ModelNotFound, null, explainId, EditDistance.DidYouMeanOrKnown(explainId, analysis.Workspace.Models.Keys)));
                return Task.FromResult(ExitCodes.InvalidInput);
            }

            if (plan.IsEmpty)
            {
                env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.NothingAffected, request.Value.Location, plan.RemovalId));
            }

            if (parseResult.GetValue(matrix))
            {
                if (parseResult.GetValue(maxJobs) is var requestedJobs and (< 1 or > MaxMatrixJobs))
                {
                    env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null,
                        $"--max-jobs must be between 1 and {MaxMatrixJobs}" + (requestedJobs > MaxMatrixJobs ? " (GitHub Actions refuses a matrix of more jobs)" : string.Empty)));
                    return Task.FromResult(ExitCodes.InvalidInput);
                }

                // One line, so it can go straight into $GITHUB_OUTPUT: matrix=<json>
                var jobs = Shard.For(plan, parseResult.GetValue(maxJobs));
                var include = new Newtonsoft.Json.Linq.JArray(plan.IsEmpty ? [] : jobs.Select(j => new Newtonsoft.Json.Linq.JObject { ["removal"] = plan.RemovalId, ["shard"] = j.ToString() }));
                context.Out.WriteLine(new Newtonsoft.Json.Linq.JObject { ["include"] = include }.ToString(Newtonsoft.Json.Formatting.None));
                return Task.FromResult(ExitCodes.Ok);
            }

            if (parseResult.GetValue(check))
            {
                return Task.FromResult(Check(env, analysis, request.Value, plan, parseResult.GetValue(method), parseResult.GetValue(output)));
            }

            if (env.Json)
            {
                var document = JsonDocuments.Plan(plan);
                if (explainId is not null)
                {
                    document["explanation"] = new Newtonsoft.Json.Linq.JObject { ["model"] = explainId, ["text"] = Planner.Explain(plan, explainId) };
                }

                env.WriteJson(document);
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

    // --matrix, --check and --explain each choose what plan prints, so at most one; --method and --out say how --check
    // looks, so only with it; --max-jobs only with --matrix. Null when the options fit together.
    private static string? UsageProblem(ParseResult parseResult, Option<string?> explain, Option<bool> check, Option<bool> matrix, Option<int> maxJobs, Option<string?> method, Option<string?> output)
    {
        var modes = new[] { ("--matrix", parseResult.GetValue(matrix)), ("--check", parseResult.GetValue(check)), ("--explain", parseResult.GetValue(explain) is not null) }
            .Where(m => m.Item2).Select(m => m.Item1).ToList();
        if (modes.Count > 1)
        {
            return $"{string.Join(" and ", modes)} choose different outputs of plan: use one of them per call";
        }

        var checkOnly = new[] { ("--method", parseResult.GetValue(method) is not null), ("--out", parseResult.GetValue(output) is not null) }
            .Where(m => m.Item2).Select(m => m.Item1).ToList();
        if (checkOnly.Count > 0 && !parseResult.GetValue(check))
        {
            return checkOnly.Count == 1
                ? $"{checkOnly[0]} applies only with --check (which outputs to look for); the plan itself does not depend on it"
                : $"{string.Join(" and ", checkOnly)} apply only with --check (which outputs to look for); the plan itself does not depend on them";
        }

        return parseResult.GetResult(maxJobs) is { Implicit: false } && !parseResult.GetValue(matrix)
            ? "--max-jobs applies only with --matrix (how many jobs the matrix may have)"
            : null;
    }

    private static int Check(CommandEnvironment env, Lineage.WorkspaceAnalysis analysis, Lineage.Manifests.RemovalManifest removal, RemovalPlan plan, string? method, string? output)
    {
        if (env.OutputIsFile(output))
        {
            return ExitCodes.InvalidInput;
        }

        Engine.Unlearning.UnlearnSettings settings;
        try
        {
            settings = Engine.Unlearning.UnlearnSettings.From(removal, analysis.Workspace.Settings, method);
        }
        catch (Engine.EngineException ex)
        {
            env.Diagnostics.Write(ex.Diagnostic); // a bad --method (manifest settings were checked with the workspace)
            return ExitCodes.InvalidInput;
        }

        var root = output is null ? null : Path.GetFullPath(Path.Combine(env.Context.CurrentDirectory, output));
        var directory = Engine.Unlearning.RemovalRunner.RemovalOutputDirectory(analysis.Workspace, removal.Id, root);
        var states = Running.OutputFreshness.Check(analysis, plan, settings.Method, directory);
        var todo = states.Where(s => s.Value.State != Running.OutputState.Done).ToList();
        foreach (var (id, (state, _, _)) in todo)
        {
            env.Diagnostics.Log($"{(state == Running.OutputState.Stale ? "stale" : "missing")}: {id}");
        }

        // Outputs of models the request no longer affects: named, but not pending work (an MSBuild build never has them as
        // outputs, and -question must agree with this check); 'run' removes them.
        var leftovers = Running.UnaffectedOutputs.Find(directory, plan);
        // A checkpoint of the affected lineages that is not there stops 'run' (FUL4104), one that cannot be read fails it:
        // 'train' comes first, as 'status' says.
        var checkpoints = CheckpointTrouble.Find(analysis, plan, env.Context.DisplayMessage);
        foreach (var id in leftovers)
        {
            env.Diagnostics.Log($"no longer affected: {id} (its output is still there; 'run' removes it)");
        }

        if (env.Json)
        {
            env.WriteJson(new Newtonsoft.Json.Linq.JObject
            {
                ["schemaVersion"] = JsonDocuments.SchemaVersion,
                ["removal"] = removal.Id,
                ["upToDate"] = todo.Count == 0,
                ["models"] = new Newtonsoft.Json.Linq.JArray(states.Select(s => new Newtonsoft.Json.Linq.JObject { ["id"] = s.Key, ["state"] = s.Value.State.ToString().ToLowerInvariant() })),
                ["leftovers"] = new Newtonsoft.Json.Linq.JArray(leftovers),
                ["missingCheckpoints"] = new Newtonsoft.Json.Linq.JArray(checkpoints.Missing),
                ["unreadableCheckpoints"] = checkpoints.UnreadableJson(),
                ["untrainedCheckpoints"] = new Newtonsoft.Json.Linq.JArray(checkpoints.Untrained),
            });
        }

        var run = $"'dotnet unlearn run {removal.Id}{(method is null ? string.Empty : $" --method {method}")}{(output is null ? string.Empty : $" --out {Lineage.Text.ShellWord.Quote(output)}")}'";
        // Outputs made with another method than the one checked (a 'run --method retrain' checked without --method) are
        // stale for this check: say which method made them, so the check can be told.
        var madeWith = todo.Where(s => s.Value.State == Running.OutputState.Stale).Select(s => s.Value.Record?.Outcome.Method)
            .Where(m => m is not null && !string.Equals(m, settings.Method, StringComparison.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        // Also when --method named another one (QA: '--check --method ssd' on fiun outputs said only "stale").
        var otherMethod = madeWith.Count != 1 ? string.Empty
            : method is null ? $" (they were made with '{madeWith[0]}': add '--method {madeWith[0]}' to check those)"
            : $" (they were made with '{madeWith[0]}': '--method {madeWith[0]}' checks those)";
        env.Diagnostics.Log(todo.Count > 0 && checkpoints.Any
            ? $"'{removal.Id}': {todo.Count} of {states.Count} outputs are missing or stale; {checkpoints.Advice(run)}"
            : todo.Count > 0 && checkpoints.UntrainedNote(run) is { } first
            ? $"'{removal.Id}': {todo.Count} of {states.Count} outputs are missing or stale{otherMethod}; {first}"
            : todo.Count > 0
            ? $"'{removal.Id}': {todo.Count} of {states.Count} outputs are missing or stale{otherMethod}; run {run}."
            : $"'{removal.Id}': all {states.Count} outputs are up to date{(checkpoints.UntrainedNote(run) is { } note ? $" with the checkpoints as they are, but {note}" : ".")}"
                + (leftovers.Count > 0 ? $" The folder still holds outputs of {leftovers.Count} model(s) it no longer affects; {run} removes them." : string.Empty));
        return todo.Count == 0 ? ExitCodes.Ok : ExitCodes.WorkPending;
    }
}
