using System.CommandLine;
using System.Globalization;
using FisherUnlearn.Engine;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Engine.Verification;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Text;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Output;
using FisherUnlearn.Tool.Reports;
using FisherUnlearn.Tool.Running;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Commands;

/// <summary>
/// <c>dotnet unlearn verify &lt;removal&gt; [--reference retrain] [--out dir] [--json]</c>: forget/retain/test accuracy and
/// MIA rate of every affected model before, after (the outputs of 'run') and for the retrained reference. Exit codes: 0
/// targets met; 1 a target missed, or an output out of date or missing (deleted since the run, or a partial run:
/// FUL5001, the model listed as "no output yet"); 2 bad input, or verify before run wrote anything (FUL5001: run
/// 'dotnet unlearn run' first).
/// Refreshes report.json, report.md and report.html with the metrics (and reference) it measured, and in GitHub Actions
/// appends the report to the step summary and sets the step's outputs (<see cref="GitHubSummary"/>).
/// </summary>
internal static class VerifyCommand
{
    public static Command Create(CliContext context, GlobalOptions options)
    {
        var removal = new Argument<string>("removal") { Description = "The removal request: its id or the path of its .removal.json." };
        var reference = new Option<string?>("--reference") { Description = "Also measure the exact reference: 'retrain'.", HelpName = "kind" };
        reference.AcceptOnlyFromAmong("retrain");
        var output = new Option<string?>("--out") { Description = "The output root 'run' wrote to.", HelpName = "dir" };
        var method = MethodOption.Create("The method the outputs were made with, when 'run' was given --method (default: the removal's method, else unlearn.json's, else fiun); outputs made with another are not verified (FUL5009).");
        var threads = new Option<int?>("--threads") { Description = "libtorch threads (default: 'threads' of unlearn.json, else 1).", HelpName = "n" };
        var parallel = new Option<int?>("--parallel")
        {
            Description = "Models measured at once, each on its own thread (default: 'parallelism' of unlearn.json, else the number of cores divided by --threads).",
            HelpName = "n",
        };
        var command = new Command("verify", "Measure forget/retain/test accuracy and MIA before and after unlearning; exit 1 when the removal's targets are missed.")
        {
            removal, reference, method, output, threads, parallel,
        };
        command.SetAction((parseResult, cancellationToken) => Task.FromResult(Run(new CommandEnvironment(context, options, parseResult),
            parseResult.GetValue(removal)!, parseResult.GetValue(reference) == "retrain", parseResult.GetValue(method), parseResult.GetValue(output),
            parseResult.GetValue(threads), parseResult.GetValue(parallel), cancellationToken)));
        return command;
    }

    private static int Run(CommandEnvironment env, string removalName, bool reference, string? methodOverride, string? output, int? threads, int? parallel,
        CancellationToken cancellationToken)
    {
        if (ConcurrencyOptions.Check((ConcurrencyOptions.Parallel, parallel), (ConcurrencyOptions.Threads, threads)) is { } outOfRange)
        {
            env.Diagnostics.Write(outOfRange);
            return ExitCodes.InvalidInput;
        }

        if (env.OutputIsFile(output))
        {
            return ExitCodes.InvalidInput;
        }

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

        // The method the outputs must have been made with to be the current request's, as for status and 'plan --check'.
        string method;
        bool methodGiven;
        try
        {
            method = UnlearnSettings.From(found.Value!, analysis.Workspace.Settings, methodOverride).Method;
            // '--method fiun' for a request that asks for fiun anyway is the same question as no --method.
            methodGiven = methodOverride is not null && method != UnlearnSettings.From(found.Value!, analysis.Workspace.Settings).Method;
        }
        catch (EngineException ex)
        {
            env.Diagnostics.Write(ex.Diagnostic); // a bad --method (the manifests' settings were checked with the workspace)
            return ExitCodes.InvalidInput;
        }

        // One plan for the command: the freshness checks, the live table and the reports all work from it.
        var plan = Lineage.Planning.Planner.Plan(analysis.Workspace, analysis.Graph, found.Value!);
        var outputRoot = output is null ? null : Path.GetFullPath(Path.Combine(env.Context.CurrentDirectory, output));
        // As run: an index outside its split is a mistake in the request (FUL2013, exit 2), not "nothing to do", nor outputs
        // to measure (QA: verify measured the earlier outputs, and before any run sent the user to a run that refuses it).
        // Read once: the measurements below reuse the split the check decodes.
        var splits = new SplitCache();
        if (found.Value!.Samples.Count > 0 && !SampleIndices.Fit(env, found.Value!, analysis.Workspace, splits))
        {
            return ExitCodes.InvalidInput;
        }

        if (plan.IsEmpty)
        {
            // As run: nothing to measure, so no report (run writes none either) and no table; in Actions the same
            // "nothing to do" summary and outputs as run's.
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.NothingAffected, found.Value!.Location, found.Value!.Id));
            WarnAboutLeftovers(env, analysis, found.Value!, plan, outputRoot);
            GitHubSummary.PublishNothingAffected(env.Context, ReportModel.FromPlan(analysis, found.Value!, method: string.Empty), env.Diagnostics.Log);
            if (env.Json)
            {
                env.WriteJson(new JObject
                {
                    ["schemaVersion"] = JsonDocuments.SchemaVersion,
                    ["removal"] = found.Value!.Id,
                    ["targetsMet"] = true,
                    ["targetsChecked"] = found.Value!.Targets is not null,
                    ["models"] = new JArray(),
                    ["referenceSeconds"] = null,
                    ["referenceReused"] = null,
                    ["seconds"] = 0,
                });
            }

            return ExitCodes.Ok;
        }

        // A checkpoint train would make again: its outputs are measured as they are, and a reference retrains from the recipe
        // as it is now, so it is said here as run says it (QA).
        env.Diagnostics.Write(UntrainedCheckpoints.Warnings(analysis, plan.Affected.Select(a => a.Id)));

        // Verify reads the outputs it certifies, writes the reference and merges into the reports: no run may replace an
        // output meanwhile, or the reports would certify a file that was never measured (QA: an --only run's ssd output
        // listed as verified with the fiun output's 0.0% forget accuracy). It holds the folder as a whole run does.
        var directory = RemovalRunner.RemovalOutputDirectory(analysis.Workspace, plan.RemovalId, outputRoot);
        if (!env.TryHoldOutputFolder(directory, TimeSpan.Zero, out var outputLock, readOnly: true))
        {
            return ExitCodes.Failed;
        }

        using var held = outputLock;

        VerificationResult result;
        var uncertified = UncertifiedOutputs(analysis, plan, outputRoot, method);
        if (methodGiven && uncertified.OtherMethod.Count > 0)
        {
            // An explicit --method that is not what made the outputs: a question about other outputs than these, so nothing
            // is measured, and the reports (and a workflow's outputs) are left as they describe the request.
            env.Diagnostics.Write(uncertified.Diagnostics(found.Value!, method, methodGiven: true).Where(d => d.Code == DiagnosticCatalogue.VerifiedOutputOtherMethod.Code));
            env.Diagnostics.Log("nothing measured; the reports are left as they were.");
            return ExitCodes.Failed;
        }

        // Every output gone after a run (its reports or job records are there): the request is as unverified as when one
        // output is gone, so the reports are refreshed to say so and the exit code is 1; before any run, the verifier's
        // FUL5001 (exit 2: a precondition not met).
        var absent = plan.Affected.Where(a => !File.Exists(UnlearningJob.OutputPathOf(directory, a.Id))).Select(a => a.Id).ToList();
        var allGone = absent.Count == plan.Affected.Count && RunLeftTraces(directory, plan);

        // In a terminal, a live table while the reference retrains (epochs) and the models are measured.
        var live = env.ShowsLiveProgress && !allGone ? new LiveProgress(env.Context.Error, "result") : null;
        try
        {
            result = allGone ? new VerificationResult(plan.RemovalId, [], null, 0) { MissingOutputs = absent } : Measure();
        }
        catch (EngineException ex)
        {
            live?.Dispose();
            env.Diagnostics.Write(ex);
            return ex.Code == DiagnosticCatalogue.NativeLoadFailed.Code || ex.Code == DiagnosticCatalogue.OutOfMemory.Code ? ExitCodes.Failed : ExitCodes.InvalidInput;
        }
        finally
        {
            live?.Dispose();
        }

        VerificationResult Measure()
        {
            var threadsPerModel = threads ?? analysis.Workspace.Settings.Threads ?? 1;
            TorchRuntime.Configure(threadsPerModel);
            live?.Planned([.. plan.Affected.Select(a => a.Id)]);
            var lines = new Lock(); // models measured at once write their lines one at a time
            var measured = Verifier.Verify(analysis, found.Value!, new VerifyOptions
            {
                Splits = splits,
                OutputDirectory = outputRoot,
                OutputArgument = output,
                Reference = reference,
                OutputMethod = method,
                Parallelism = Math.Max(1, parallel ?? analysis.Workspace.Settings.Parallelism ?? Environment.ProcessorCount / threadsPerModel),
                Log = live is null ? env.Diagnostics.Detail : null,
                Phase = live is null ? null : live.Update,
                // Without the table, a line as each model's reference is ready and as each model is measured. With detail
                // lines, the engine's line about each reference (with its path or its training) says it already.
                ReferenceReady = live is null && !env.Diagnostics.ShowsDetail ? (id, reused) => env.Diagnostics.Log(reused ? $"reference up to date: {id}" : $"reference retrained: {id}") : null,
                Measured = model =>
                {
                    if (live is null)
                    {
                        lock (lines)
                        {
                            env.Diagnostics.Log($"verified {model.Id}: {Outcome(model)}{(model.Missed.Count == 0 ? string.Empty : $"; missed {string.Join(", ", model.Missed.Select(d => d.Code).Distinct())}")}");
                        }
                    }
                    else
                    {
                        live.Complete(model.Id, model.Missed.Count == 0 ? "done" : "missed", Outcome(model));
                    }
                },
            }, cancellationToken);
            // Rounded as report.json stores it, so the message, the reports and a later reuse show the same number.
            measured = measured with { ReferenceSeconds = measured.ReferenceSeconds is { } took ? Math.Round(took, 3) : null };
            foreach (var id in measured.MissingOutputs)
            {
                live?.Complete(id, "missing", "no output");
            }

            return measured;
        }

        env.Diagnostics.Write(DeletedTrainData.Warnings(analysis, plan));
        env.Diagnostics.Write(result.ReferenceWarnings); // FUL4072
        WarnAboutLeftovers(env, analysis, found.Value!, plan, outputRoot);

        foreach (var model in result.Models)
        {
            env.Diagnostics.Write(model.Missed);
        }

        // An output damaged since the run: its read error (the others were measured).
        env.Diagnostics.Write(result.UnreadableOutputs.OrderBy(u => u.Key, StringComparer.Ordinal).Select(u => u.Value));
        if (result.MissingOutputs.Count > 0)
        {
            env.Diagnostics.Write(MissingOutputs(env, found.Value!, directory, output, result.MissingOutputs));
        }

        env.Diagnostics.Write(uncertified.Diagnostics(found.Value!, method));
        RefreshReports(env, analysis, found.Value!, plan, outputRoot, result, uncertified);

        if (env.Json)
        {
            env.WriteJson(new JObject
            {
                ["schemaVersion"] = JsonDocuments.SchemaVersion,
                ["removal"] = result.RemovalId,
                ["targetsMet"] = result.TargetsMet && uncertified.IsEmpty, // out-of-date, unrecorded or missing outputs verify nothing of the current request
                ["targetsChecked"] = found.Value!.Targets is not null, // false: measured only, no target to miss
                ["models"] = new JArray(plan.Affected.Select(a => result.Models.FirstOrDefault(m => m.Id == a.Id) is { } m ? new JObject
                {
                    ["id"] = m.Id,
                    ["role"] = m.Role.ToString().ToLowerInvariant(),
                    ["before"] = RunReport.Metrics(m.Before),
                    ["after"] = RunReport.Metrics(m.After),
                    ["reference"] = RunReport.Metrics(m.Reference),
                    // "stale": measured, but made before an input changed or changed since (FUL5006), or with another method
                    // (FUL5009); "unrecorded": measured, but without the job record that says what made it (FUL5007). None is
                    // the current request's.
                    ["status"] = uncertified.Status(m.Id),
                    ["missed"] = new JArray(m.Missed.Select(d => d.Code).Concat(uncertified.Code(m.Id) is { } code ? [code] : [])),
                }
                // "stale" with no metrics: an output damaged since the run (its read error, and FUL5006 when its job
                // record no longer vouches for it); "missing": no output to measure (deleted since the run, or a partial
                // run): FUL5001.
                : result.UnreadableOutputs.TryGetValue(a.Id, out var unreadable)
                    ? Unmeasured(a, ReportEntry.StaleStatus, [unreadable.Code, .. uncertified.Code(a.Id) is { } why ? [why] : Array.Empty<string>()])
                    : Unmeasured(a, ReportEntry.MissingStatus, [DiagnosticCatalogue.UnlearnedOutputMissing.Code]))),
                ["referenceSeconds"] = result.ReferenceSeconds is { } s ? Math.Round(s, 3) : null,
                ["referenceReused"] = result.ReferenceSeconds is null ? null : result.ReferenceReused,
                ["seconds"] = Math.Round(result.Seconds, 3),
            });
        }
        else
        {
            var table = new TextTable("model", "role", "state", "forget %", "retain %", "test %", "MIA %");
            var uninformative = false;
            var unmeasured = false;
            foreach (var m in result.Models)
            {
                foreach (var (state, metrics) in new[] { ("before", m.Before), ("after", m.After), ("reference", m.Reference) })
                {
                    if (metrics is not null)
                    {
                        table.Add(state == "before" ? m.Id : string.Empty, state == "before" ? m.Role.ToString().ToLowerInvariant() : string.Empty, state,
                            RunReport.Percent(metrics.ForgetAccuracy), RunReport.Percent(metrics.RetainAccuracy), RunReport.Percent(metrics.TestAccuracy),
                            RunReport.Percent(metrics.Mia) + (metrics.MiaInformative == false ? MarkdownReport.MiaMark : string.Empty));
                        uninformative |= metrics.MiaInformative == false;
                        unmeasured |= metrics.ForgetAccuracy is null || metrics.RetainAccuracy is null || metrics.TestAccuracy is null || metrics.Mia is null;
                    }
                }
            }

            if (result.Models.Count > 0)
            {
                env.Context.Out.Write(table.ToString());
            }

            if (uninformative)
            {
                env.Context.Out.WriteLine(MarkdownReport.UninformativeMiaNote);
            }

            if (unmeasured)
            {
                // The table's own dash is ASCII ("-"); the note speaks of the reports' "–" as the same thing.
                env.Context.Out.WriteLine("-" + MarkdownReport.UnmeasuredNote[1..]);
            }
            if (result.ReferenceReused)
            {
                env.Context.Out.WriteLine(result.ReferenceSecondsComplete && result.ReferenceSeconds is { } took
                    ? string.Create(CultureInfo.InvariantCulture, $"The retrained reference was up to date: reused, not retrained (retraining it took {took:0.00} s).")
                    : "The retrained reference was up to date: reused, not retrained.");
            }
            else if (result.ReferenceSeconds is { } seconds)
            {
                env.Context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Retraining the reference took {seconds:0.00} s."));
            }

            env.Context.Out.WriteLine(result.MissingOutputs.Count > 0 ? "Not verified: some outputs are missing (see the error above)."
                : result.UnreadableOutputs.Count > 0 ? "Not verified: some outputs cannot be read (see the error above)."
                : uncertified.Stale.Count > 0 ? "Not verified: some outputs are out of date (see the error above)."
                : uncertified.OtherMethod.Count > 0 ? $"Not verified: some outputs were made with another method than '{method}' (see the error above)."
                : uncertified.Unrecorded.Count > 0 ? "Not verified: some outputs have no record of what made them (see the error above)."
                : !result.TargetsMet ? "Targets missed: see the errors above."
                : found.Value!.Targets is { MaxForgetAccuracy: not null } or { MaxRetainDrop: not null } ? "Targets met."
                : $"Measured only: '{found.Value!.Id}' sets no targets, so nothing was checked. Add 'targets' (maxForgetAccuracy, maxRetainDrop) to its removal manifest for verify to check them.");
        }

        return result.TargetsMet && uncertified.IsEmpty ? ExitCodes.Ok : ExitCodes.Failed;
    }

    // verify --json's entry for an affected model with nothing measured.
    private static JObject Unmeasured(Lineage.Planning.AffectedModel model, string status, string[] missed) => new()
    {
        ["id"] = model.Id,
        ["role"] = model.Role.ToString().ToLowerInvariant(),
        ["before"] = null,
        ["after"] = null,
        ["reference"] = null,
        ["status"] = status,
        ["missed"] = new JArray(missed),
    };

    // Whether a run wrote to the removal's folder: one of its reports, or the job record of an affected model.
    private static bool RunLeftTraces(string directory, Lineage.Planning.RemovalPlan plan) =>
        new[] { RunReport.FileName, MarkdownReport.FileName, HtmlReport.FileName }.Any(f => File.Exists(Path.Combine(directory, f)))
        || plan.Affected.Any(a => File.Exists(JobRecord.PathOf(directory, a.Id)));

    // FUL5001 for the affected models without an output, all named at once, as the verifier names them before any run.
    private static Diagnostic MissingOutputs(CommandEnvironment env, RemovalManifest removal, string directory, string? output, IReadOnlyList<string> missing) =>
        Verifier.OutputsMissing(removal, missing, env.Context.Display(missing.Count == 1 ? UnlearningJob.OutputPathOf(directory, missing[0]) : directory), output);

    // FUL5010: outputs in the removal's folder of models it no longer affects (run removes them).
    private static void WarnAboutLeftovers(CommandEnvironment env, WorkspaceAnalysis analysis, RemovalManifest removal, Lineage.Planning.RemovalPlan plan, string? outputRoot)
    {
        if (UnaffectedOutputs.Find(RemovalRunner.RemovalOutputDirectory(analysis.Workspace, plan.RemovalId, outputRoot), plan) is { Count: > 0 } leftovers)
        {
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UnaffectedOutputsLeft, removal.Location, removal.Id, NameList.Quoted([.. leftovers])));
        }
    }

    // The after state in a few words for the live table: "forget 0.0%, retain 97.0%".
    private static string Outcome(ModelVerification model) =>
        string.Join(", ", new[] { ("forget", model.After.ForgetAccuracy), ("retain", model.After.RetainAccuracy) }
            .Where(m => m.Item2 is not null).Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Item1} {m.Item2 * 100:0.0}%")));

    // Outputs made before an input changed (or changed since they were written), with another method than the request's,
    // or without the job record that says what made them (a copy of the original checkpoint passes for an output by its
    // name alone), are measured as they are, but they are not the current request's: verify reports them (FUL5006,
    // FUL5009, FUL5007), lists them as such in the reports and exits 1. An output file that is not there at all is the
    // verifier's FUL5001.
    private static UncertifiedOutputs UncertifiedOutputs(WorkspaceAnalysis analysis, Lineage.Planning.RemovalPlan plan, string? outputRoot, string method)
    {
        var directory = RemovalRunner.RemovalOutputDirectory(analysis.Workspace, plan.RemovalId, outputRoot);
        // As status and 'plan --check' judge them: against the request's method; an output changed after it was written is
        // stale too.
        var states = OutputFreshness.Check(analysis, plan, method, directory);
        var stale = states.Where(s => s.Value.State == OutputState.Stale).ToList();
        static bool OtherMethod(JobRecord? record, string method) => record is not null && record.Outcome.Method != method;
        return new UncertifiedOutputs(
            [.. stale.Where(s => !OtherMethod(s.Value.Record, method)).Select(s => s.Key)],
            stale.Where(s => OtherMethod(s.Value.Record, method)).ToDictionary(s => s.Key, s => s.Value.Record!.Outcome.Method, StringComparer.Ordinal),
            [.. states.Where(s => s.Value.State == OutputState.Missing && File.Exists(UnlearningJob.OutputPathOf(directory, s.Key))).Select(s => s.Key)]);
    }

    // Without report.json, the job records still say what the run did for each model (method, settings, time, hashes),
    // as 'run --merge' gathers them; null when there are none (or the removal's settings are invalid).
    private static ReportModel? FromJobRecords(WorkspaceAnalysis analysis, RemovalManifest removal, Lineage.Planning.RemovalPlan plan, string directory)
    {
        // A record copied under another model's name is not that model's (its output is then stale: FUL5006).
        var outcomes = plan.Affected.Select(a => JobRecord.TryRead(directory, a.Id, analysis.Workspace.Root)?.Outcome is { } o && o.Id == a.Id ? o : null)
            .OfType<ModelOutcome>().ToList();
        if (outcomes.Count == 0)
        {
            return null;
        }

        try
        {
            var methods = outcomes.Select(o => o.Method).Distinct(StringComparer.Ordinal).ToList();
            var settings = UnlearnSettings.From(removal, analysis.Workspace.Settings, methods.Count == 1 ? methods[0] : null);
            var hash = analysis.Workspace.ManifestHashes.GetValueOrDefault(removal.ManifestPath) ?? string.Empty;
            return ReportModel.FromRun(analysis, removal, new RunResult(removal.Id, hash, settings, directory, outcomes, RunCoordinator.TotalSeconds(outcomes)));
        }
        catch (EngineException)
        {
            return null;
        }
    }

    /// <summary>report.json (the run's, with verify's metrics merged in; when it is missing or unreadable, rebuilt from the
    /// job records, else from the plan), report.md and report.html; then the GitHub step summary and outputs. A failure to
    /// write is a warning (FUL5011), not fatal: the measurements are printed (and in --json) all the same.</summary>
    private static void RefreshReports(CommandEnvironment env, WorkspaceAnalysis analysis, RemovalManifest removal, Lineage.Planning.RemovalPlan plan, string? outputRoot, VerificationResult result,
        UncertifiedOutputs uncertified)
    {
        var directory = RemovalRunner.RemovalOutputDirectory(analysis.Workspace, removal.Id, outputRoot);
        var jsonPath = Path.Combine(directory, RunReport.FileName);
        ReportModel? run = null;
        if (File.Exists(jsonPath))
        {
            try
            {
                run = RunReport.Read(jsonPath);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException or FormatException or InvalidCastException or ArgumentException)
            {
                env.Diagnostics.Log($"{env.Context.Display(jsonPath)} is unreadable ({ex.Message}); writing a new one from the job records and the plan");
            }
        }

        var recorded = FromJobRecords(analysis, removal, plan, directory);
        run ??= recorded;
        string method;
        try
        {
            method = run?.Method is { Length: > 0 } m ? m : UnlearnSettings.From(removal, analysis.Workspace.Settings).Method;
        }
        catch (EngineException)
        {
            method = removal.Method ?? UnlearnSettings.Fiun;
        }

        var planned = ReportModel.FromPlan(analysis, removal, method);
        // The run's wall time stands for the models it made only while those are the models listed (a model deleted from
        // the workspace since is no longer listed): else the listed models' own times, added up (docs/reports.md).
        var sameModels = run is not null && run.Models.Select(r => r.Id).ToHashSet(StringComparer.Ordinal).SetEquals(planned.Models.Select(p => p.Id));
        var model = run is null ? planned : planned with
        {
            // The run's own record wins (what was done, with which inputs); the workspace fills what an older report lacks.
            // Outputs all certified for the current request are made from the current manifests (edits since changed only
            // what no output depends on, such as the reason): those are the provenance an auditor re-hashes.
            RemovalSha256 = uncertified.IsEmpty ? planned.RemovalSha256 ?? run.RemovalSha256 : run.RemovalSha256 ?? planned.RemovalSha256,
            ToolVersion = run.ToolVersion.Length > 0 ? run.ToolVersion : planned.ToolVersion,
            Seconds = run.Seconds,
            // A model the run's report lists as missing has an output now (verify measured it): its record tells what made it.
            Models = [.. planned.Models.Select(p => (run.Models.FirstOrDefault(r => r.Id == p.Id && !r.Missing)
                    ?? recorded?.Models.FirstOrDefault(r => r.Id == p.Id && !r.Missing)) is { } r
                ? r with { UpstreamRoots = r.UpstreamRoots.Count > 0 ? r.UpstreamRoots : p.UpstreamRoots }
                : p)],
            Manifests = uncertified.IsEmpty || run.Manifests.Count == 0 ? planned.Manifests : run.Manifests,
        };
        if (run is not null && !sameModels)
        {
            model = model with { Seconds = model.Models.Sum(m => m.Seconds) };
        }

        // A reused reference from an older version, which did not record its training time, cost only its loading: the
        // report then keeps the time its retraining took when it was made.
        model = model.WithVerification(!result.ReferenceSecondsComplete && run?.Verification?.ReferenceSeconds is { } retrained
            ? result with { ReferenceSeconds = retrained }
            : result, analysis.Workspace.Root);
        // Out-of-date and unrecorded outputs are measured, but not the current request's: listed as such, so the report is
        // not green. A missing output (deleted since the run) is "no output yet", whatever the run's report or its job
        // record said of it.
        var missing = result.MissingOutputs.ToHashSet(StringComparer.Ordinal);
        // The plan's entry for a model with nothing measured (no metrics), whatever the run's report said of it.
        ReportEntry Unmeasured(ReportEntry m) => (planned.Models.FirstOrDefault(p => p.Id == m.Id) ?? m) with { Before = null, After = null, Reference = null };
        model = model with
        {
            Models = [.. model.Models.Select(m => missing.Contains(m.Id)
                ? Unmeasured(m) with
                {
                    Status = ReportEntry.MissingStatus,
                    Output = null,
                    // A model whose run failed keeps why (QA: "run 'dotnet unlearn run'" alone, which failed the same way).
                    Error = m.Status == "failed" && m.Error is { } failure
                        ? $"no output: its run failed ({failure}); fix that, then run 'dotnet unlearn run {removal.Id}'"
                        : $"no output: run 'dotnet unlearn run {removal.Id}'",
                    Missed = [$"{DiagnosticCatalogue.UnlearnedOutputMissing.Code}: no output to verify"],
                }
                : result.UnreadableOutputs.TryGetValue(m.Id, out var unreadable)
                    ? Unmeasured(m) with
                    {
                        Status = ReportEntry.StaleStatus,
                        Error = $"its output cannot be read: run 'dotnet unlearn run {removal.Id}'",
                        Missed = [$"{unreadable.Code}: output cannot be read"],
                    }
                    : m)],
        };
        model = model with
        {
            Verification = model.Verification is { } verification && !uncertified.IsEmpty ? verification with { TargetsMet = false } : model.Verification,
            // ...and their code is among what they missed, as in verify --json (FUL5006, FUL5007, FUL5009).
            Models = [.. model.Models.Select(m => uncertified.Why(m.Id) is { } why
                ? m with
                {
                    Status = ReportEntry.StaleStatus,
                    Error = $"{why}; run 'dotnet unlearn run {removal.Id}'",
                    Missed = [.. m.Missed, $"{uncertified.Code(m.Id)}: {why}"],
                }
                : m)],
        };
        if (run?.Verification is { Reference: true } earlier && model.Verification is { Reference: false })
        {
            // A verify without the reference after one with it replaces that comparison in the reports: said, so the
            // reference's verdict is not lost unnoticed.
            env.Diagnostics.Log($"the reports compared these outputs with the retrained reference ({(!model.HasTargets ? "no targets set" : earlier.TargetsMet ? "targets met" : "targets missed")}); this verify measured without it and replaces that comparison: 'dotnet unlearn verify {removal.Id} --reference retrain' compares again (an up-to-date reference is reused, not retrained)");
        }

        try
        {
            var files = ReportWriter.WriteAll(directory, model);
            env.Diagnostics.Log($"reports: {env.Context.Display(files.Json)}, {env.Context.Display(files.Markdown)}, {env.Context.Display(files.Html)}");
            GitHubSummary.Publish(env.Context, model, files, env.Diagnostics.Log);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.ReportsNotWritten, new SourceLocation(directory), env.Context.Display(directory), ex.Message.TrimEnd('.')));
            GitHubSummary.PublishUnwritten(env.Context, model, env.Diagnostics.Log);
        }
    }
}
