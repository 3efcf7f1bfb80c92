using System.Diagnostics;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Planning;

namespace FisherUnlearn.Tool.Running;

/// <summary>What <c>run</c> was asked to do.</summary>
internal sealed record RunRequest
{
    public string? Method { get; init; }

    /// <summary>When the command started (<see cref="Stopwatch.GetTimestamp"/>), so that the run's seconds are its whole
    /// wall time, loading and checking the workspace included; null: from the coordinator's start.</summary>
    public long? StartedAt { get; init; }

    /// <summary>Output root (absolute), or null for the workspace's.</summary>
    public string? OutputRoot { get; init; }

    public string? Only { get; init; }

    public Shard Shard { get; init; } = Shard.All;

    /// <summary>Worker processes at once; 1 runs every job in this process.</summary>
    public int Parallel { get; init; } = 1;

    /// <summary>libtorch threads per worker (or for this process when <see cref="Parallel"/> is 1).</summary>
    public int Threads { get; init; } = 1;

    public bool Force { get; init; }
}

/// <summary>What became of the removal's reports before a run wrote its first output: <paramref name="Removed"/>, or
/// <paramref name="Failure"/>, why they could not be removed (the run goes on; they then show the earlier outputs until
/// it writes them again).</summary>
internal sealed record ReportRemoval(bool Removed, string? Failure)
{
    public static readonly ReportRemoval None = new(Removed: false, null);
}

/// <summary>What a run did: the outcomes of the models it considered, which of them were up to date, and the outcomes
/// of every affected model known so far (from earlier runs, shards and workers) for the report.</summary>
internal sealed record RunSummary(RunResult Result, IReadOnlySet<string> Reused, IReadOnlyList<string> Considered)
{
    /// <summary>Models the request no longer affects whose earlier outputs (and records) this run removed.</summary>
    public IReadOnlyList<string> Removed { get; init; } = [];

    /// <summary>Whether this run deleted the removal's reports before it wrote an output they did not show as missing, or
    /// why it could not.</summary>
    public ReportRemoval Reports { get; init; } = ReportRemoval.None;

    public int Computed => Considered.Count - Reused.Count;
}

/// <summary>
/// Runs a removal incrementally, in parallel and safely. Every affected model of the plan (or of this shard) is a job
/// keyed by <see cref="JobKey"/>: a job whose recorded key and output are unchanged is skipped; the others run in worker
/// processes (or in this process when <c>parallel</c> is 1 or one job is left). The removal's output folder is locked
/// for the duration, so two runs never write the same files at once. The exact <c>retrain</c> reference runs in this
/// process, parents first, and reuses outputs whose inputs are unchanged.
/// </summary>
internal sealed class RunCoordinator(IRunProgress progress)
{
    public RunSummary Run(WorkspaceAnalysis analysis, RemovalManifest removal, RunRequest request, CancellationToken cancellationToken)
    {
        // The output folder is made by its lock; a run that stops before it writes anything there (QA: an input it cannot
        // read, FUL1023, exit 2) takes away the empty folder it made, so that it does not pass for a run's outputs.
        var directory = RemovalRunner.RemovalOutputDirectory(analysis.Workspace, removal.Id, request.OutputRoot);
        var existed = Directory.Exists(directory);
        try
        {
            return Run(analysis, removal, request, directory, cancellationToken);
        }
        catch (Exception) when (!existed)
        {
            RemoveIfEmpty(directory);
            throw;
        }
    }

    private static void RemoveIfEmpty(string directory)
    {
        try
        {
            if (Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any())
            {
                Directory.Delete(directory);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Another run took it meanwhile, or it cannot be removed: left as it is, the failure already reported.
        }
    }

    private RunSummary Run(WorkspaceAnalysis analysis, RemovalManifest removal, RunRequest request, string directory, CancellationToken cancellationToken)
    {
        var started = request.StartedAt ?? Stopwatch.GetTimestamp();
        var workspace = analysis.Workspace;
        var settings = UnlearnSettings.From(removal, workspace.Settings, request.Method);
        var plan = Planner.Plan(workspace, analysis.Graph, removal);
        // A whole run locks the whole folder. Shards and --only runs (one per project under 'dotnet build -m') write
        // disjoint models, each checkpoint and record atomically, so each takes a lock of its own scope; a whole run and a
        // partial one never go on at once (OutputLock.TryAcquireWhole, TryAcquirePart).
        var scope = request.Only is { } only ? $"model-{only}" : request.Shard.IsAll ? null : $"shard-{request.Shard.Index}-of-{request.Shard.Count}";
        string? holder;
        using var outputLock = (scope is null ? OutputLock.TryAcquireWhole(directory, out holder) : OutputLock.TryAcquirePart(directory, scope, out holder))
            ?? throw new Engine.EngineException(Diagnostic.Create(DiagnosticCatalogue.OutputLocked, null, holder, directory));

        // Temporary files of writers an earlier run could not clean up after (killed outright: a second Ctrl-C, SIGKILL).
        AtomicFile.DeleteStaleLeftovers(directory, recursive: true);
        AtomicFile.DeleteStaleLeftovers(workspace.OutputDirectory, recursive: false, target: FileHashStore.FileName);
        var considered = request.Shard.Select(plan).Where(id => request.Only is null || id == request.Only).ToList();
        progress.Planned(considered);
        var freshness = OutputFreshness.Check(analysis, plan, settings.Method, directory, considered);
        var keys = freshness.ToDictionary(f => f.Key, f => f.Value.Key, StringComparer.Ordinal);
        var reused = new HashSet<string>(StringComparer.Ordinal);
        var outcomes = new Dictionary<string, ModelOutcome>(StringComparer.Ordinal);
        foreach (var id in considered)
        {
            if (!request.Force && freshness[id] is { State: OutputState.Done, Record: { } record })
            {
                reused.Add(id);
                outcomes[id] = record.Outcome;
                progress.Finished(record.Outcome, reused: true);
            }
        }

        // In the plan's work order (parents before children), not the shard's id order: retrain makes each model from its
        // affected parents' retrained outputs, so a child before its parent would retrain the parent as its ancestor, and
        // the parent's own job would then find its output made already (reused, ~0 s) in the run that made it.
        var pending = plan.Affected.Where(a => considered.Contains(a.Id, StringComparer.Ordinal) && !reused.Contains(a.Id)).ToList();
        // A sample index outside its split, or data the jobs will read that cannot be read (a damaged file, a folder where
        // a file belongs, a declared count its file does not hold), is the input's error: said once, before any model
        // starts or any report goes (exit 2), only when there is work to do (an up-to-date run reads no data). Jobs in this process then find the splits decoded;
        // workers decode their own, so the check's copy is dropped before they start.
        var inProcess = settings.Method != UnlearnSettings.Retrain && !InWorkers(request, pending);
        var resources = inProcess && pending.Count > 0 ? new JobResources(files: FileHashCache.ForWorkspace(workspace)) : null;
        if (pending.Count > 0)
        {
            RunDataCheck.Check(workspace, analysis.Graph, removal, pending.Select(a => a.Id), resources?.Splits ?? new SplitCache(), cancellationToken);
            if (resources is null)
            {
                // The decoded splits are large-object-heap arrays, which only a full collection frees, and this process
                // allocates little more while its workers (or the retrain runner) decode their own: free them now.
                GC.Collect();
            }
        }

        // Outputs of models the request no longer affects would pass for this request's in an upload of the folder. Removed
        // once the request's input is known good (review: an index outside its split, FUL2013, removed them, then exit 2).
        var removed = UnaffectedOutputs.Remove(directory, plan);

        // Reports that show an output this run replaces, or another set of models than the request's, would pass for
        // current if the run stopped before it writes them again (QA: a run of a changed request, stopped by SIGTERM after
        // its first model, left report.md at "targets met" for the request as it was, and report.json with an output hash
        // no longer on disk). They go before the first output is written; the run writes them again when it ends (a
        // shard's, the merge). Only reports of exactly these models that list every model this run makes as missing
        // still say the truth while it runs (review: a new descendant, outputs removed above, or an output there without
        // its record would otherwise keep a report that passes for current), and stay.
        var reportsStayTrue = removed.Count == 0
            && (pending.Count == 0 || (pending.All(a => freshness[a.Id].State == OutputState.Missing) && ListsAsMissing(directory, plan, pending)));
        var reports = reportsStayTrue ? ReportRemoval.None : RemoveReports(directory);
        // Each finished model's record is written as soon as it finishes, not after the last one: a cancelled or killed
        // run keeps what it completed, and the next run skips it (RecordingProgress).
        using var recording = new RecordingProgress(progress, outcome =>
        {
            if (outcome.Succeeded && outcome.OutputPath is not null)
            {
                new JobRecord(keys[outcome.Id], outcome).Write(directory, analysis.Workspace.Root);
            }
            else if (!outcome.Succeeded && freshness[outcome.Id].State != OutputState.Done)
            {
                // A failure is recorded too (no output), so that a merge of shards can say why a model is missing;
                // never over a current, intact output (a failed --force keeps what was there).
                new JobRecord(keys[outcome.Id], outcome).Write(directory, analysis.Workspace.Root);
            }
        });
        foreach (var outcome in Compute(analysis, plan, removal, settings, pending, directory, request, resources, recording, cancellationToken))
        {
            outcomes[outcome.Id] = outcome;
        }

        // The output of a model that failed, where one is still in its place, was made from other inputs (an earlier run)
        // or by retrain as a parent of another model (which needs it while the run lasts); no record vouches for it as
        // this request's, so it goes, and no upload of the folder ships it.
        foreach (var failed in outcomes.Values.Where(o => !o.Succeeded && !reused.Contains(o.Id) && freshness[o.Id].State != OutputState.Done))
        {
            DeleteOutput(UnlearningJob.OutputPathOf(directory, failed.Id));
        }

        var manifestHash = workspace.ManifestHashes.GetValueOrDefault(removal.ManifestPath) ?? string.Empty;
        var result = Gather(analysis, new RunResult(removal.Id, manifestHash, settings, directory, [.. outcomes.Values], Stopwatch.GetElapsedTime(started).TotalSeconds), plan);
        return new RunSummary(result, reused, considered) { Removed = removed, Reports = reports };
    }

    /// <summary>Whether the removal's report.json lists exactly the plan's models and every one of <paramref name="pending"/>
    /// as without an output yet (false when there is none, or it cannot be read).</summary>
    private static bool ListsAsMissing(string directory, RemovalPlan plan, List<AffectedModel> pending)
    {
        var json = Reports.ReportWriter.FilesIn(directory).Json;
        if (!File.Exists(json))
        {
            return false;
        }

        try
        {
            var listed = Output.RunReport.Read(json).Models.ToDictionary(m => m.Id, m => m.Status, StringComparer.Ordinal);
            return listed.Keys.Order(StringComparer.Ordinal).SequenceEqual(plan.Affected.Select(a => a.Id).Order(StringComparer.Ordinal), StringComparer.Ordinal)
                && pending.All(a => listed[a.Id] == Reports.ReportEntry.MissingStatus);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Unreadable (InvalidDataException is an IOException), or a model listed twice: not a report to keep.
            return false;
        }
    }

    /// <summary>Deletes the removal's reports under the report lock (the one a run takes to write them): none were there,
    /// they were removed, or why some could not be.</summary>
    private static ReportRemoval RemoveReports(string directory)
    {
        var files = Reports.ReportWriter.FilesIn(directory);
        if (!File.Exists(files.Json) && !File.Exists(files.Markdown) && !File.Exists(files.Html))
        {
            return ReportRemoval.None;
        }

        using var reportLock = OutputLock.Wait(directory, TimeSpan.FromMinutes(2), out var holder, "report");
        if (reportLock is null)
        {
            return new ReportRemoval(Removed: false, $"the report is busy ({holder})");
        }

        var left = Reports.ReportWriter.DeleteAll(directory);
        return left.Count == 0 ? new ReportRemoval(Removed: true, null)
            : new ReportRemoval(Removed: false, string.Join("; ", left.Select(l => $"{l.Path}: {l.Why}")));
    }

    /// <summary>The run's outcomes completed with every other affected model's recorded result that is current (made for
    /// the current inputs and the run's method, its output intact: earlier runs, other shards, concurrent <c>--only</c>
    /// runs), in plan order: what the removal's report shows. A model without one is absent (the report says so).</summary>
    public static RunResult Gather(WorkspaceAnalysis analysis, RunResult run, RemovalPlan plan)
    {
        var outcomes = run.Models.ToDictionary(m => m.Id, StringComparer.Ordinal);
        var others = plan.Affected.Select(a => a.Id).Where(id => !outcomes.ContainsKey(id)).ToList();
        foreach (var (id, (state, _, record)) in OutputFreshness.Check(analysis, plan, run.Settings.Method, run.OutputDirectory, others))
        {
            if (state == OutputState.Done)
            {
                outcomes[id] = record!.Outcome;
            }
        }

        return run with { Models = [.. plan.Affected.Where(a => outcomes.ContainsKey(a.Id)).Select(a => outcomes[a.Id])] };
    }

    private static void DeleteOutput(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left in place: without a record of this request, status calls it stale and verify refuses it (FUL5006/5007).
        }
    }

    /// <summary>The models' own unlearning times added up: the time of a removal whose outputs several runs made.</summary>
    public static double TotalSeconds(IEnumerable<ModelOutcome> models) => models.Sum(m => m.Seconds);

    /// <summary>Whether the pending jobs run in worker processes (fiun and ssd only: retrain runs parents first, here).</summary>
    private static bool InWorkers(RunRequest request, List<AffectedModel> pending) => request.Parallel > 1 && pending.Count > 1;

    private static IEnumerable<ModelOutcome> Compute(WorkspaceAnalysis analysis, RemovalPlan plan, RemovalManifest removal, UnlearnSettings settings,
        List<AffectedModel> pending, string directory, RunRequest request, JobResources? resources, IRunProgress progress, CancellationToken cancellationToken)
    {
        if (pending.Count == 0)
        {
            return [];
        }

        if (settings.Method == UnlearnSettings.Retrain)
        {
            // Parents first, in this process; each model's retrained ancestors are reused from the output folder.
            var results = new List<ModelOutcome>();
            foreach (var job in pending)
            {
                progress.Started(job.Id);
                var outcome = RemovalRunner.Run(analysis, removal, new RunOptions { Method = settings.Method, OutputDirectory = request.OutputRoot, Only = job.Id, Threads = request.Threads, Force = request.Force }, cancellationToken).Models.Single();
                progress.Finished(outcome, reused: false);
                results.Add(outcome);
            }

            return results;
        }

        if (InWorkers(request, pending))
        {
            var launch = new WorkerLaunch(analysis.Workspace.Root, removal.Id, settings.Method, request.OutputRoot, directory,
                analysis.Workspace.Models.ToDictionary(m => m.Key, m => m.Value.Architecture, StringComparer.Ordinal));
            return new WorkerPool(launch, request.Parallel, request.Threads).Run(pending, progress, cancellationToken);
        }

        Engine.Native.TorchRuntime.Configure(request.Threads);
        resources ??= new JobResources(files: FileHashCache.ForWorkspace(analysis.Workspace));
        return pending.Select(job =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress.Started(job.Id);
            var outcome = new UnlearningJob(analysis.Workspace.Root, removal.Id, job.Id, settings, directory).Run(analysis, plan, resources, measure: true, cancellationToken);
            progress.Finished(outcome, reused: false);
            return outcome;
        }).ToList();
    }
}

/// <summary>Passes progress on and calls <paramref name="finished"/> for each freshly computed model as it finishes
/// (on the thread that reports it), before the display hears of it.</summary>
internal sealed class RecordingProgress(IRunProgress inner, Action<ModelOutcome> finished) : IRunProgress
{
    public void Planned(IReadOnlyList<string> modelIds) => inner.Planned(modelIds);

    public void Started(string modelId) => inner.Started(modelId);

    public void Finished(ModelOutcome outcome, bool reused)
    {
        if (!reused)
        {
            finished(outcome);
        }

        inner.Finished(outcome, reused);
    }

    // The inner display belongs to the caller, who disposes it.
    public void Dispose()
    {
    }
}
