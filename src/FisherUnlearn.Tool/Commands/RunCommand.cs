using System.CommandLine;
using System.Globalization;
using FisherUnlearn.Engine;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Engine.Verification;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Text;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Tool.Output;
using FisherUnlearn.Tool.Running;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Commands;

/// <summary>
/// <c>dotnet unlearn run &lt;removal&gt;</c>: unlearns every affected model into <c>&lt;out&gt;/&lt;removal-id&gt;/&lt;model-id&gt;.safetensors</c>
/// and writes <c>report.json</c> there. Incremental (models whose inputs are unchanged are skipped; <c>--force</c> redoes
/// them), parallel (<c>--parallel</c> worker processes with <c>--threads</c> each), shardable across CI jobs
/// (<c>--shard i/n</c>, then <c>--merge</c>), and safe (the output folder is locked; writes are atomic).
/// Exit codes: 0 every model done or up to date; 1 a model failed (the others' outputs are kept) or another run holds
/// the output folder; 2 bad input (manifests, unknown removal, method or model, missing checkpoints); 130 cancelled.
/// </summary>
internal static class RunCommand
{
    public static Command Create(CliContext context, GlobalOptions options)
    {
        var removal = new Argument<string>("removal") { Description = "The removal request: its id or the path of its .removal.json." };
        var method = MethodOption.Create("fiun, ssd or retrain; overrides the removal's method and unlearn.json's (default: the removal's, else unlearn.json's, else fiun).");
        var output = new Option<string?>("--out") { Description = "Output root (default: 'output' of unlearn.json, artifacts/unlearn).", HelpName = "dir" };
        var only = new Option<string?>("--only") { Description = "Unlearn only this affected model.", HelpName = "model" };
        var parallel = new Option<int?>("--parallel") { Description = "Worker processes at once (default: 'parallelism' of unlearn.json, else the number of cores).", HelpName = "n" };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads per worker (default: 'threads' of unlearn.json, else cores / parallel).", HelpName = "n" };
        var shard = new Option<string?>("--shard") { Description = "Do only share i of n of the plan (for CI fan-out; see 'plan --matrix').", HelpName = "i/n" };
        var force = new Option<bool>("--force") { Description = "Redo every model, even those whose outputs are up to date." };
        var merge = new Option<bool>("--merge") { Description = "Compute nothing: gather the results of all shards into report.json." };
        var command = new Command("run", "Produce the unlearned checkpoint of every affected model, and the reports (report.json, report.md, report.html).")
        {
            removal, method, output, only, parallel, threads, shard, force, merge,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var env = new CommandEnvironment(context, options, parseResult);
            var outputRoot = parseResult.GetValue(output) is { } o ? Path.GetFullPath(Path.Combine(context.CurrentDirectory, o)) : null;
            return Task.FromResult(Run(env, parseResult.GetValue(removal)!, parseResult.GetValue(merge), new Options(
                parseResult.GetValue(method), outputRoot, parseResult.GetValue(only), parseResult.GetValue(parallel), parseResult.GetValue(threads),
                parseResult.GetValue(shard), parseResult.GetValue(force)), cancellationToken));
        });
        return command;
    }

    private sealed record Options(string? Method, string? OutputRoot, string? Only, int? Parallel, int? Threads, string? Shard, bool Force);

    private static int Run(CommandEnvironment env, string removalName, bool merge, Options options, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (ConcurrencyOptions.Check((ConcurrencyOptions.Parallel, options.Parallel), (ConcurrencyOptions.Threads, options.Threads)) is { } outOfRange)
        {
            env.Diagnostics.Write(outOfRange);
            return ExitCodes.InvalidInput;
        }

        if (env.OutputIsFile(options.OutputRoot))
        {
            return ExitCodes.InvalidInput;
        }

        if (merge && (options.Shard is not null || options.Only is not null || options.Force))
        {
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null,
                "--merge computes nothing: it gathers what every shard wrote, so it takes no --shard, --only or --force."));
            return ExitCodes.InvalidInput;
        }

        if (options.Shard is not null && options.Only is not null)
        {
            // Found in QA: --only m --shard 2/2 ran nothing and exited 0 when m fell in the other shard.
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null,
                "--only and --shard each choose the models to run: --only names them, --shard takes a share of every affected model. Use one."));
            return ExitCodes.InvalidInput;
        }

        var shard = Shard.All;
        if (options.Shard is not null && !Shard.TryParse(options.Shard, out shard))
        {
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.ShardInvalid, null, options.Shard));
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
        if (plan.IsEmpty)
        {
            // Samples of a split no model trains on (the test split) affect nothing, but an index outside the split is
            // still a mistake in the request, not "nothing to do".
            if (removal.Samples.Count > 0 && !SampleIndices.Fit(env, removal, workspace))
            {
                return ExitCodes.InvalidInput;
            }

            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.NothingAffected, removal.Location, removal.Id));
            var removed = merge ? [] : RemoveUnaffectedOutputs(env, removal, plan, RemovalRunner.RemovalOutputDirectory(workspace, removal.Id, options.OutputRoot));

            if (env.Context.InGitHubActions)
            {
                // No report is written, but a workflow's later steps still read this step's outputs: they say that
                // nothing was affected (and so no target missed) rather than being empty.
                Reports.GitHubSummary.PublishNothingAffected(env.Context, Reports.ReportModel.FromPlan(analysis, removal, method: string.Empty), env.Diagnostics.Log);
            }

            return WriteJson(env, removal.Id, null, [], removed: removed);
        }

        if (merge)
        {
            return Merge(env, analysis, removal, options);
        }

        if (options.Only is not null && !plan.IsAffected(options.Only))
        {
            var affected = NameList.Quoted([.. plan.Affected.Select(a => a.Id)]);
            env.Diagnostics.Write(workspace.Models.ContainsKey(options.Only)
                ? Diagnostic.Create(DiagnosticCatalogue.UsageError, null, $"Model '{options.Only}' is not affected by '{removal.Id}', so it has nothing to unlearn ('dotnet unlearn plan {removal.Id} --explain {options.Only}' says why). Affected: {affected}.")
                : Diagnostic.Create(DiagnosticCatalogue.ModelNotFound, null, options.Only, $"{NearMiss(options.Only, plan, workspace, removal.Id)}; '{removal.Id}' affects {affected}"));
            return ExitCodes.InvalidInput;
        }

        var considered = shard.Select(plan).Where(id => options.Only is null || id == options.Only).ToHashSet(StringComparer.Ordinal);
        // Every ancestor's checkpoint too: each output's job key covers them, so one computed without them would not
        // match a run (or a merge) that has them.
        var missing = plan.Affected.Where(a => considered.Contains(a.Id))
            .SelectMany(a => analysis.Graph.Ancestors(a.Id).Append(a.Id)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(id => workspace.Models[id]).Where(m => !CheckpointPresence.IsPresent(m.CheckpointPath)).ToList();
        if (missing.Count > 0)
        {
            foreach (var model in missing)
            {
                env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UnlearningCheckpointMissing, model.CheckpointLocation ?? model.Location, model.Id, env.Context.Display(model.CheckpointPath), CheckpointPresence.Absence(model.CheckpointPath),
                    plan.IsAffected(model.Id) ? DiagnosticCatalogue.AffectedModel : "is an ancestor that the affected models' unlearning depends on (it is not affected itself)",
                    DiagnosticCatalogue.CheckpointMissingAdvice(model)));
            }

            return ExitCodes.InvalidInput;
        }

        // Outputs that would land on a checkpoint or a data file (an --out inside a model's or the data's folder): refused
        // before anything is written.
        var removalDirectory = RemovalRunner.RemovalOutputDirectory(workspace, removal.Id, options.OutputRoot);
        // Physical paths: an output folder that is a symbolic link into a model's folder must not pass for another place.
        var checkpoints = workspace.InputOwners();
        var clashes = considered.Order(StringComparer.Ordinal)
            .Select(id => (Id: id, Output: UnlearningJob.OutputPathOf(removalDirectory, id)))
            .Select(o => (o.Id, o.Output, Physical: PhysicalPath.Of(o.Output)))
            .Where(o => checkpoints.ContainsKey(o.Physical))
            .Select(o => Diagnostic.Create(DiagnosticCatalogue.UnlearningWouldOverwrite, null, o.Id, env.Context.Display(o.Output), checkpoints[o.Physical]))
            .ToList();
        if (clashes.Count > 0)
        {
            env.Diagnostics.Write(clashes);
            return ExitCodes.InvalidInput;
        }

        // A checkpoint 'train' would make again (its recipe, data or parents changed since): unlearned as it is, but said, since
        // the next 'train' would leave these outputs out of date.
        env.Diagnostics.Write(UntrainedCheckpoints.Warnings(analysis, considered));

        var cores = Environment.ProcessorCount;
        var parallel = Math.Max(1, Math.Min(options.Parallel ?? workspace.Settings.Parallelism ?? cores, Math.Max(1, considered.Count)));
        var request = new RunRequest
        {
            StartedAt = started,
            Method = options.Method,
            OutputRoot = options.OutputRoot,
            Only = options.Only,
            Shard = shard,
            Parallel = parallel,
            Threads = options.Threads ?? workspace.Settings.Threads ?? Math.Max(1, cores / parallel),
            Force = options.Force,
        };

        RunSummary summary;
        try
        {
            using var progress = env.CreateProgress();
            summary = new RunCoordinator(progress).Run(analysis, removal, request, cancellationToken);
        }
        catch (EngineException ex)
        {
            env.Diagnostics.Write(ex);
            return ex.Code == DiagnosticCatalogue.OutputLocked.Code || ex.Code == DiagnosticCatalogue.NativeLoadFailed.Code || ex.Code == DiagnosticCatalogue.OutOfMemory.Code
                ? ExitCodes.Failed : ExitCodes.InvalidInput;
        }

        var result = summary.Result;
        // Said before the reports are written again, which can fail the same way.
        if (summary.Reports.Removed && !shard.IsAll)
        {
            env.Diagnostics.Log($"removed the reports of '{removal.Id}', which showed outputs this shard replaced: 'run {removal.Id} --merge' writes them again.");
        }
        else if (summary.Reports.Failure is { } why)
        {
            env.Diagnostics.Log($"warning: could not remove the reports of '{removal.Id}' before replacing outputs they show ({why}); a run stopped before its end would have left them showing the earlier outputs.");
        }

        var failed = result.Models.Where(m => summary.Considered.Contains(m.Id) && !m.Succeeded).ToList();
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var model in failed)
        {
            // One line per distinct error: libtorch failing to load in every worker (FUL3003) is one problem, and the
            // progress lines already name each model that failed.
            if (written.Add(model.Error!.ToCanonicalString()))
            {
                env.Diagnostics.Write(model.Error!);
            }

            if (model.Exception is { } exception && model.Error!.Code == DiagnosticCatalogue.UnlearningFailed.Code)
            {
                // What FUL4100 promises "--verbosity detailed" shows: where inside the engine it failed.
                env.Diagnostics.Detail($"{model.Id}: {exception}");
            }
        }

        // FUL4072: a retrained model the removal left no training sample, whose output is then what its training starts
        // from; also for an output an earlier run made (its record keeps the parameters), as FUL4069 is said on every run.
        foreach (var model in result.Models.Where(m => m.Succeeded && summary.Considered.Contains(m.Id)))
        {
            if (model.Parameters?["trainedNothing"] is { } start && start.GetValueKind() == System.Text.Json.JsonValueKind.String
                && analysis.Workspace.Models.TryGetValue(model.Id, out var manifest))
            {
                env.Diagnostics.Write(ReferenceRetrainer.NothingLeftWarning(manifest, start.GetValue<string>(), removal.Id));
            }
        }

        if (summary.Removed.Count > 0)
        {
            env.Diagnostics.Log($"removed the outputs of {NameList.Quoted(summary.Removed)}: '{removal.Id}' no longer affects {(summary.Removed.Count == 1 ? "it" : "them")}.");
        }

        // Train data deleted since the harvest: the models were unlearned from it, but their MIA rates are not measured.
        if (result.Models.Any(m => m.Succeeded && summary.Considered.Contains(m.Id) && !summary.Reused.Contains(m.Id)))
        {
            env.Diagnostics.Write(DeletedTrainData.Warnings(analysis, plan));
        }

        // A model whose calibration found no setting that meets its target was still written (with the setting that came
        // closest): say so here, not only in report.json, so the run's log does not read as a plain success.
        foreach (var model in result.Models.Where(m => m.Succeeded && summary.Considered.Contains(m.Id) && !summary.Reused.Contains(m.Id)))
        {
            if (model.Parameters?["calibration"]?["targetMet"] is { } met && met.GetValueKind() == System.Text.Json.JsonValueKind.False)
            {
                var target = model.Parameters["calibration"]?["target"]?.GetValue<double>();
                var reached = model.Parameters["calibration"]?["forgetAccuracy"]?.GetValue<double>();
                env.Diagnostics.Log(string.Create(CultureInfo.InvariantCulture,
                    $"warning: {model.Id}: no setting reached the calibration target (forget {reached:P1} on its slice, target {target:P1}); the closest was written. '{VerifyCommandLine(removal, options)}' measures it; docs/methods.md says what to try."));
            }
        }

        // A run that found every output up to date changes nothing, so it leaves the reports as they are: they keep the
        // times of the work that made the outputs (and verify's measurements), not this no-op's. It still publishes them
        // in GitHub Actions: a workflow's later steps read this step's outputs (report-html, targets-met) whether or not
        // the outputs had to be made again. Unless the reports no longer describe the outputs: the removal manifest
        // changed in a way no output depends on (its reason, which they quote), a manifest they name moved or changed in
        // what no output depends on (a dataset manifest's paths), or they list outputs other than the current ones (made by
        // shards or --only runs since): then they are written again.
        var current = !shard.IsAll || summary.Computed > 0 || failed.Count > 0 ? null : ReportOfTheseOutputs(result, analysis, removal);
        string? report;
        Reports.ReportModel? verdict;
        if (!shard.IsAll)
        {
            // A shard judges its own models' targets (the request's verdict waits for the merge).
            (report, verdict) = (null, Reports.ReportModel.FromRun(analysis, removal, result));
        }
        else if (current is { SameManifest: true, Complete: true })
        {
            Reports.GitHubSummary.PublishExisting(env.Context, current.Value.Model, current.Value.Files, env.Diagnostics.Log);
            (report, verdict) = (current.Value.Files.Json, current.Value.Model);
        }
        else
        {
            // A manifest changed only in its reason, or report.md or report.html gone (a partial artifact): written again,
            // with what was known of these same outputs (verify's measurements and verdict).
            (report, verdict) = WriteReports(env, analysis, removal, result, madeByThisRun: summary.Reused.Count == 0 && result.Models.All(m => summary.Considered.Contains(m.Id)),
                earlier: current?.Model);
        }

        var unchanged = result.Models.Count(m => m.Succeeded && m.Unchanged && summary.Considered.Contains(m.Id) && !summary.Reused.Contains(m.Id));
        env.Diagnostics.Log(string.Create(CultureInfo.InvariantCulture,
            $"{summary.Computed - failed.Count - unchanged} unlearned ({result.Settings.Method}), {(unchanged > 0 ? $"{unchanged} written unchanged, " : string.Empty)}{summary.Reused.Count} up to date, {failed.Count} failed, in {result.Seconds:0.00} s")
            + (report is not null ? $"; report: {env.Context.Display(report)}" : shard.IsAll ? string.Empty : $" (shard {shard}; gather with 'run {removal.Id} --merge')"));
        if (summary.Considered.Count == 0)
        {
            env.Diagnostics.Log(shard.IsAll
                ? "nothing to do: no model is selected."
                : $"nothing to do: shard {shard} holds no model (the removal affects {plan.Affected.Count}; 'dotnet unlearn plan {removal.Id} --matrix' lists the shards that do).");
        }
        else if (summary.Computed == 0 && failed.Count == 0)
        {
            env.Diagnostics.Log("nothing to do: every output is up to date (use --force to redo).");
        }

        SayMissedTargets(env, removal, verdict, summary.Considered, VerifyCommandLine(removal, options), shard.IsAll ? null : $"'run {removal.Id} --merge' writes the report once every shard is done");
        var exit = WriteJson(env, removal.Id, result, summary.Considered, summary.Reused, summary.Removed, verdict, wholeRequest: shard.IsAll);
        return failed.Count > 0 ? ExitCodes.Failed : exit;
    }

    // The model of the workspace the user most likely meant, said to be unaffected when it is (QA: a near miss of an unaffected
    // model got no suggestion, where 'harvest --model' gave one).
    private static string NearMiss(string only, Lineage.Planning.RemovalPlan plan, Lineage.Workspace workspace, string removalId) =>
        EditDistance.Closest(only, workspace.Models.Keys) is not { } meant ? string.Empty
        : plan.IsAffected(meant) ? $" (did you mean '{meant}'?)"
        : $" (did you mean '{meant}'? '{removalId}' does not affect it)";

    /// <summary>The targets the run's own measurements (or verify's, kept with these outputs) found missed, on stderr: the
    /// reports say it, and so does the terminal (found in QA: '--method ssd' left report.md at "Targets missed by 6 of 6
    /// models" while the run said only "0 failed"). The run still exits 0: it did its work; `verify` is the gate.</summary>
    private static void SayMissedTargets(CommandEnvironment env, RemovalManifest removal, Reports.ReportModel? verdict, IReadOnlyList<string> considered,
        string verify, string? noReport = null)
    {
        if (verdict is null)
        {
            return;
        }

        var missed = verdict.Models.Where(m => considered.Contains(m.Id) && m.Succeeded && verdict.MissedCodes(m).Count > 0)
            .Select(m => $"{m.Id} ({string.Join(", ", verdict.MissedCodes(m))})").ToList();
        if (missed.Count > 0)
        {
            var message = $"targets missed by {missed.Count} of {considered.Count} models{(verdict.Verification is null ? " by this run's own measurements" : string.Empty)}: "
                + $"{string.Join(", ", missed)}; {noReport ?? "report.md says how"}, and '{verify}' judges them (exit 1 when missed).";
            env.Diagnostics.Log(message);
            // In Actions also on the workflow's page, at the removal's targets (QA: only the log and the outputs said it).
            env.Diagnostics.ActionsWarning("Targets missed", message, removal.TargetsLocation ?? removal.Location);
        }
    }

    /// <summary>The verify command for what this run made: with its --method and --out, which verify needs to find these
    /// outputs (QA: the advice after 'run --method ssd' said 'verify forget-3', which then failed with FUL5009).</summary>
    private static string VerifyCommandLine(RemovalManifest removal, Options options) =>
        $"dotnet unlearn verify {removal.Id}{(options.Method is { } method ? $" --method {method}" : string.Empty)}{(options.OutputRoot is { } output ? $" --out {Lineage.Text.ShellWord.Quote(output)}" : string.Empty)}";

    // How long a merge waits for the folder's other writers.
    private static readonly TimeSpan MergeWait = TimeSpan.FromSeconds(20);

    private static int Merge(CommandEnvironment env, WorkspaceAnalysis analysis, RemovalManifest removal, Options options)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var plan = Lineage.Planning.Planner.Plan(analysis.Workspace, analysis.Graph, removal);
        var directory = RemovalRunner.RemovalOutputDirectory(analysis.Workspace, removal.Id, options.OutputRoot);
        // A merge rewrites the reports from every record: not while a run or verify holds the folder (verify's verdict
        // would be lost to a report without it). It waits a little: under 'dotnet build -m' the last --only runs may be
        // releasing their parts as the build publishes the summary with a merge.
        if (!env.TryHoldOutputFolder(directory, MergeWait, out var folderLock))
        {
            return ExitCodes.Failed;
        }

        using var held = folderLock;

        // The shards' method, when they agree and --method does not say: a merge takes what its shards were run with.
        var recorded = plan.Affected.Select(a => JobRecord.TryRead(directory, a.Id, workspaceRoot: null)?.Outcome.Method).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        UnlearnSettings settings;
        try
        {
            settings = UnlearnSettings.From(removal, analysis.Workspace.Settings, options.Method ?? (recorded.Count == 1 ? recorded[0] : null));
        }
        catch (EngineException ex)
        {
            env.Diagnostics.Write(ex.Diagnostic);
            return ExitCodes.InvalidInput;
        }

        // Only results made for the current inputs and method, whose output is still there, are merged.
        var freshness = OutputFreshness.Check(analysis, plan, settings.Method, directory);
        // A model whose shard failed left a record of the failure (for the current inputs): merged as failed, with its error.
        bool FailedNow(string id) => freshness[id] is { State: OutputState.Missing, Record: { Outcome.Succeeded: false } record } && record.Key == freshness[id].Key;
        var failed = plan.Affected.Where(a => FailedNow(a.Id)).Select(a => freshness[a.Id].Record!.Outcome).ToList();
        var outcomes = plan.Affected.Where(a => freshness[a.Id].State == OutputState.Done || FailedNow(a.Id)).Select(a => freshness[a.Id].Record!.Outcome).ToList();
        var missing = plan.Affected.Where(a => freshness[a.Id].State == OutputState.Missing && !FailedNow(a.Id)).Select(a => a.Id).ToList();
        var stale = plan.Affected.Where(a => freshness[a.Id].State == OutputState.Stale).Select(a => a.Id).ToList();
        var result = new RunResult(removal.Id, analysis.Workspace.ManifestHashes.GetValueOrDefault(removal.ManifestPath) ?? string.Empty, settings, directory, outcomes, RunCoordinator.TotalSeconds(outcomes));
        Reports.ReportModel? verdict = null;
        if (outcomes.Count == 0)
        {
            // Nothing to merge (no shard ran, or every result is for other inputs or another --method): a report of that
            // would only say "no current output" for every model, and would replace the reports there, which may be a
            // complete, verified run's. They are left as they are; the diagnostics below say what is missing. A merge of
            // some results still writes the reports of what it merged, every other model listed as without an output.
            env.Diagnostics.Log($"merged 0 of {plan.Affected.Count} models ({settings.Method}): nothing to merge; the reports are left as they were.");
        }
        else
        {
            // A merge of exactly the outputs the reports there show (merged again after verify) keeps verify's measurements
            // and verdict, as a rerun does; of other outputs, they go.
            (var report, verdict) = WriteReports(env, analysis, removal, result, madeByThisRun: false, earlier: ReportOfTheseOutputs(result)?.Model);
            env.Diagnostics.Log($"merged {outcomes.Count - failed.Count} of {plan.Affected.Count} models ({settings.Method}{(failed.Count > 0 ? $"; {failed.Count} failed in their shard" : string.Empty)}) into {(report is null ? "(report busy)" : env.Context.Display(report))}");
            SayMissedTargets(env, removal, verdict, [.. outcomes.Select(o => o.Id)], VerifyCommandLine(removal, options));
        }

        foreach (var model in failed)
        {
            env.Diagnostics.Write(model.Error!);
        }

        if (missing.Count > 0)
        {
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.ShardResultsMissing, removal.Location, NameList.Quoted(missing), removal.Id));
        }

        if (stale.Count > 0)
        {
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.ShardResultsStale, removal.Location, NameList.Quoted(stale), removal.Id, settings.Method));
        }

        // The merge's own wall time, not the sum of its shards' model times that the report shows (QA).
        var exit = WriteJson(env, removal.Id, result with { Seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds }, [.. outcomes.Select(o => o.Id)], verdict: verdict);
        return missing.Count + stale.Count + failed.Count > 0 ? ExitCodes.Failed : exit;
    }

    /// <summary>A request that affects no model any more: the outputs earlier versions of it made, and their reports, go
    /// (under the folder's lock; left when another run holds it).</summary>
    private static IReadOnlyList<string> RemoveUnaffectedOutputs(CommandEnvironment env, RemovalManifest removal, RemovalPlan plan, string directory)
    {
        if (!Directory.Exists(Path.Combine(directory, JobRecordFiles.FolderName)))
        {
            return [];
        }

        using var outputLock = OutputLock.TryAcquire(directory, out _);
        if (outputLock is null)
        {
            return [];
        }

        var removed = UnaffectedOutputs.Remove(directory, plan);
        if (removed.Count == 0)
        {
            return removed;
        }

        foreach (var (path, why) in Reports.ReportWriter.DeleteAll(directory))
        {
            env.Diagnostics.Log($"could not remove {env.Context.Display(path)}: {why}");
        }

        env.Diagnostics.Log($"removed the outputs of {NameList.Quoted([.. removed])} and their reports: '{removal.Id}' no longer affects any model.");
        return removed;
    }

    /// <summary>The removal's report (report.json) when it lists as done exactly the outputs of <paramref name="result"/>
    /// (same models, same output hashes), whether it was written for the removal manifest of its hash (else only what no
    /// output depends on changed, such as its reason), and whether report.md and report.html are there too; null when
    /// report.json is missing, unreadable or of other outputs.</summary>
    private static (Reports.ReportModel Model, Reports.ReportFiles Files, bool SameManifest, bool Complete)? ReportOfTheseOutputs(RunResult result,
        WorkspaceAnalysis? analysis = null, RemovalManifest? removal = null)
    {
        var files = Reports.ReportWriter.FilesIn(result.OutputDirectory);
        if (!File.Exists(files.Json))
        {
            return null;
        }

        Reports.ReportModel model;
        try
        {
            model = RunReport.Read(files.Json);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return null;
        }

        static string Done(string id, string? sha256) => id + " " + sha256;
        var reported = model.Models.Where(m => m.Status == "done").Select(m => Done(m.Id, m.OutputSha256)).ToHashSet(StringComparer.Ordinal);
        var outputs = result.Models.Where(m => m.Succeeded).Select(m => Done(m.Id, m.OutputSha256)).ToHashSet(StringComparer.Ordinal);
        // The manifests the report names (paths and hashes) must be today's too: a dataset manifest moved or edited in what
        // no output depends on leaves the outputs up to date, and the report then names a file that is gone (QA).
        var sameManifests = analysis is null || removal is null
            || model.Manifests.SequenceEqual(Reports.ReportModel.FromPlan(analysis, removal, result.Settings.Method).Manifests);
        return reported.SetEquals(outputs)
            ? (model, files, sameManifests && string.Equals(model.RemovalSha256, result.ManifestSha256, StringComparison.Ordinal), File.Exists(files.Markdown) && File.Exists(files.Html))
            : null;
    }

    /// <summary>report.json, report.md and report.html next to the outputs, and in GitHub Actions the step summary. Several
    /// runs may finish at once (one per project under 'dotnet build -m'): each gathers every recorded result under a
    /// short report lock, so the last one to write has them all.</summary>
    private static (string? Json, Reports.ReportModel? Model) WriteReports(CommandEnvironment env, WorkspaceAnalysis analysis, RemovalManifest removal, RunResult result,
        bool madeByThisRun, Reports.ReportModel? earlier = null)
    {
        using var reportLock = OutputLock.Wait(result.OutputDirectory, TimeSpan.FromMinutes(2), out var holder, "report");
        if (reportLock is null)
        {
            // The outputs are done and recorded; only the shared report is late. 'run --merge' rewrites it.
            env.Diagnostics.Log($"the report is busy ({holder}); outputs are written; run '{removal.Id} --merge' to refresh the report.");
            return (null, null);
        }

        var gathered = RunCoordinator.Gather(analysis, result, Lineage.Planning.Planner.Plan(analysis.Workspace, analysis.Graph, removal));
        // The report's time is this run's wall time when this run made every output the report shows; with outputs of
        // other runs in it (up to date, other shards, --only runs), the sum of each model's own time, as a merge and a
        // report rebuilt by verify count it.
        var whole = madeByThisRun && gathered.Models.Count == result.Models.Count;
        result = gathered with { Seconds = whole ? result.Seconds : RunCoordinator.TotalSeconds(gathered.Models) };
        var model = Reports.ReportModel.FromRun(analysis, removal, result);
        if (earlier is not null)
        {
            model = model.KeepingMeasurementsOf(earlier);
        }

        var files = Reports.ReportWriter.WriteAll(result.OutputDirectory, model);
        Reports.GitHubSummary.Publish(env.Context, model, files, env.Diagnostics.Log);
        return (files.Json, model);
    }

    /// <summary>The document of <c>run --json</c>; <paramref name="result"/> is null when the removal affects no model,
    /// which still names the removal (as <c>verify</c> and <c>plan --check</c> do) with no models and no time.</summary>
    private static int WriteJson(CommandEnvironment env, string removalId, RunResult? result, IReadOnlyList<string> considered, IReadOnlySet<string>? reused = null,
        IReadOnlyList<string>? removed = null, Reports.ReportModel? verdict = null, bool wholeRequest = true)
    {
        if (env.Json)
        {
            var entries = verdict?.Models.ToDictionary(m => m.Id, StringComparer.Ordinal);
            env.WriteJson(new JObject
            {
                ["schemaVersion"] = JsonDocuments.SchemaVersion,
                ["removal"] = removalId,
                ["seconds"] = result is null ? 0 : Math.Round(result.Seconds, 3),
                // As report.json gives it (null while only verify can judge, and for a shard, whose request is judged once merged).
                ["targetsMet"] = result is null ? true : wholeRequest ? verdict?.TargetsVerdict : null,
                ["models"] = new JArray((result?.Models ?? []).Where(m => considered.Contains(m.Id)).Select(m => new JObject
                {
                    ["id"] = m.Id,
                    ["role"] = m.Role.ToString().ToLowerInvariant(),
                    ["method"] = m.Method,
                    ["status"] = reused?.Contains(m.Id) == true ? "up-to-date" : m.Succeeded ? "done" : "failed",
                    ["seconds"] = Math.Round(m.Seconds, 3),
                    ["output"] = m.OutputPath is null ? null : env.Context.Display(m.OutputPath),
                    ["unchanged"] = m.Succeeded && m.Unchanged,
                    // Why a model failed, in the document itself (not only on stderr), as the failure document does.
                    ["error"] = m.Error is null ? null : JsonDocuments.Diagnostic(env.Context, m.Error),
                    // The codes of the targets it missed, as report.json's 'missed' (QA: only the reports said so).
                    ["missed"] = new JArray(entries?.GetValueOrDefault(m.Id) is { } entry ? verdict!.MissedCodes(entry) : []),
                })),
                // Models the request no longer affects, whose earlier outputs this run removed from the folder.
                ["removed"] = new JArray(removed ?? []),
            });
        }

        return ExitCodes.Ok;
    }
}
