using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FisherUnlearn.Engine;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Harvest;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Text;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Output;
using FisherUnlearn.Tool.Running;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Commands;

/// <summary>
/// <c>dotnet unlearn harvest [--model &lt;id&gt;] [--force] [--estimator exact|batch|labelfree|tempered] [--temperature t] [--threads n] [--parallel n]
/// [--no-plans] [--plan-labels n] [--max-plans n]</c>: computes and caches the per-label Fisher diagonals of every model
/// (each needs its checkpoint: a missing one is FUL4020), under <c>&lt;output&gt;/harvest/&lt;model-id&gt;/</c>, and, where the
/// workspace's method is <c>fiun</c> with its own importance, the forget plan of each label and label set the
/// <see cref="ForgetPlanCoverage"/> names (<see cref="ForgetPlans"/>), so that a later request to forget them needs no data.
/// Cached harvests and plans whose inputs are unchanged are not recomputed.
/// </summary>
/// <remarks>
/// Every model is attempted and every problem reported. Exit codes: 0 all harvested (or cached); 2 bad input (manifests,
/// a missing checkpoint (FUL4020: run 'dotnet unlearn train'), data, architecture); 1 a computation failed (FUL4080,
/// FUL4083, a write); 130 cancelled.
/// </remarks>
internal static class HarvestCommand
{
    public static Command Create(CliContext context, GlobalOptions options)
    {
        var model = new Option<string?>("--model", "-m") { Description = "Harvest only this model.", HelpName = "id" };
        var force = new Option<bool>("--force") { Description = "Compute even when a harvest (and forget plans) with the same inputs is cached." };
        var estimator = new Option<string?>("--estimator")
        {
            Description = "The Fisher estimator: exact (per-example), batch (the reference SSD/FIUn estimator), labelfree (LFSSD) or tempered (per-example, of the likelihood at a temperature); default: the workspace's (parameters.estimator of unlearn.json, else exact), the one runs use.",
            HelpName = "name",
        };
        estimator.AcceptOnlyFromAmong([.. FisherEstimators.Names]);
        var threads = new Option<int?>("--threads")
        {
            Description = "libtorch threads (default: 'threads' of unlearn.json, else 1).",
            HelpName = "n",
        };
        var maxSamples = new Option<int?>("--max-samples")
        {
            Description = $"At most this many train samples per label (default: the workspace's parameters.maxSamplesPerLabel, else {HarvestOptions.DefaultMaxSamplesPerLabel}).",
            HelpName = "n",
        };
        var batchSize = new Option<int>("--batch-size")
        {
            Description = "Mini-batch size of the batch and labelfree estimators.",
            DefaultValueFactory = _ => FisherOptions.DefaultBatchSize,
            HelpName = "n",
        };
        var temperature = new Option<double?>("--temperature")
        {
            Description = $"Temperature of the tempered estimator, from {UnlearnSettings.MinTemperature.ToString(System.Globalization.CultureInfo.InvariantCulture)} to {UnlearnSettings.MaxTemperature.ToString(System.Globalization.CultureInfo.InvariantCulture)} (default: the workspace's parameters.temperature, else {FisherOptions.DefaultTemperature.ToString(System.Globalization.CultureInfo.InvariantCulture)}).",
            HelpName = "t",
        };
        var parallel = new Option<int?>("--parallel")
        {
            Description = "Models harvested at once, each on its own thread (default: 'parallelism' of unlearn.json, else the number of cores divided by --threads).",
            HelpName = "n",
        };
        var noPlans = new Option<bool>("--no-plans") { Description = "Skip the forget plans (the calibration ahead of time that makes requests to forget planned labels data-free)." };
        var planLabels = new Option<int?>("--plan-labels")
        {
            Description = $"Plan label sets of up to n labels (default: 'planLabels' of unlearn.json, else {ForgetPlanCoverage.DefaultMaxLabels}: every label and every pair; 1: single labels only).",
            HelpName = "n",
        };
        var maxPlans = new Option<int?>("--max-plans")
        {
            Description = $"At most n plans per model: sets of a size are planned only when all of them fit (default: 'maxPlans' of unlearn.json, else {ForgetPlanCoverage.DefaultMaxPlans}); single labels always.",
            HelpName = "n",
        };
        var command = new Command("harvest", "Compute and cache the per-label Fisher diagonals (and forget plans) of every model (or only --model); each needs its checkpoint ('dotnet unlearn train').")
        {
            noPlans,
            planLabels,
            maxPlans,
            model,
            force,
            estimator,
            threads,
            parallel,
            maxSamples,
            batchSize,
            temperature,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var settings = new Settings(
                parseResult.GetValue(model),
                parseResult.GetValue(force),
                parseResult.GetValue(estimator) is { } name ? FisherEstimators.Parse(name) : null,
                parseResult.GetValue(threads),
                parseResult.GetValue(parallel),
                parseResult.GetValue(maxSamples),
                parseResult.GetValue(batchSize),
                parseResult.GetValue(temperature),
                !parseResult.GetValue(noPlans),
                parseResult.GetValue(planLabels),
                parseResult.GetValue(maxPlans))
            {
                BatchSizeGiven = parseResult.GetResult(batchSize) is { Implicit: false },
            };
            return Task.FromResult(Run(new CommandEnvironment(context, options, parseResult), settings, cancellationToken));
        });
        return command;
    }

    private sealed record Settings(string? ModelId, bool Force, FisherEstimator? Estimator, int? Threads, int? Parallel, int? MaxSamples, int BatchSize, double? Temperature, bool Plans,
        int? PlanLabels, int? MaxPlans)
    {
        /// <summary>Whether --batch-size was written (it has a default).</summary>
        public bool BatchSizeGiven { get; init; }
    }

    private static int Run(CommandEnvironment env, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Temperature is { } t && !(double.IsFinite(t) && t >= UnlearnSettings.MinTemperature && t <= UnlearnSettings.MaxTemperature))
        {
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"--temperature must be from {UnlearnSettings.MinTemperature} to {UnlearnSettings.MaxTemperature}, not {t}")));
            return ExitCodes.InvalidInput;
        }

        if (ConcurrencyOptions.Check((ConcurrencyOptions.Threads, settings.Threads), (ConcurrencyOptions.Parallel, settings.Parallel)) is { } outOfRange)
        {
            env.Diagnostics.Write(outOfRange);
            return ExitCodes.InvalidInput;
        }

        foreach (var (name, value) in new[] { ("--max-samples", settings.MaxSamples ?? 1), ("--batch-size", settings.BatchSize),
            ("--plan-labels", settings.PlanLabels ?? 1), ("--max-plans", settings.MaxPlans ?? 1) })
        {
            if (value < 1)
            {
                env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null, $"{name} must be at least 1, not {value}"));
                return ExitCodes.InvalidInput;
            }
        }

        // The same ranges as planLabels and maxPlans in unlearn.json.
        foreach (var (name, value, limit) in new[] { ("--plan-labels", settings.PlanLabels, WorkspaceSettings.PlanLabelsLimit), ("--max-plans", settings.MaxPlans, WorkspaceSettings.MaxPlansLimit) })
        {
            if (value > limit)
            {
                env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null, string.Create(CultureInfo.InvariantCulture, $"{name} must be at most {limit:N0}, not {value:N0}")));
                return ExitCodes.InvalidInput;
            }
        }

        var analysis = env.LoadValidWorkspace(cancellationToken);
        if (analysis is null)
        {
            return ExitCodes.InvalidInput;
        }

        var workspace = analysis.Workspace;
        if (settings.ModelId is { } wanted && !workspace.Models.ContainsKey(wanted))
        {
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.ModelNotFound, null, wanted, EditDistance.DidYouMeanOrKnown(wanted, workspace.Models.Keys)));
            return ExitCodes.InvalidInput;
        }

        var threadsPerModel = settings.Threads ?? workspace.Settings.Threads ?? 1;
        try
        {
            TorchRuntime.Configure(threadsPerModel);
        }
        catch (EngineException ex)
        {
            env.Diagnostics.Write(ex);
            return ExitCodes.Failed;
        }

        UnlearnSettings unlearn;
        try
        {
            unlearn = UnlearnSettings.ForWorkspace(workspace.Settings, Path.Combine(workspace.Root, WorkspaceSettings.FileName));
        }
        catch (EngineException ex)
        {
            env.Diagnostics.Write(ex.Diagnostic);
            return ExitCodes.InvalidInput;
        }

        if (settings.Temperature is not null && !(settings.Estimator ?? unlearn.Estimator).UsesTemperature())
        {
            // Ignoring it would harvest something other than what the user asked for, and say nothing.
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null,
                $"--temperature applies to the tempered estimator only, and this harvest uses '{(settings.Estimator ?? unlearn.Estimator).Name()}'; add --estimator tempered, or leave --temperature out"));
            return ExitCodes.InvalidInput;
        }

        // The same for the other options that would be ignored (QA).
        if (settings.BatchSizeGiven && !(settings.Estimator ?? unlearn.Estimator).UsesBatchSize())
        {
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null,
                $"--batch-size applies to the batch and labelfree estimators only, and this harvest uses '{(settings.Estimator ?? unlearn.Estimator).Name()}'; add --estimator batch or labelfree, or leave --batch-size out"));
            return ExitCodes.InvalidInput;
        }

        if (!settings.Plans && (settings.PlanLabels is not null || settings.MaxPlans is not null))
        {
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null,
                $"--no-plans makes no forget plans, so {(settings.PlanLabels is not null ? "--plan-labels" : "--max-plans")} would be ignored; leave one of them out"));
            return ExitCodes.InvalidInput;
        }

        // Temporary files of cache writers killed outright in an earlier command (a second Ctrl-C, SIGKILL).
        Lineage.IO.AtomicFile.DeleteStaleLeftovers(Path.Combine(workspace.OutputDirectory, Engine.Harvest.HarvestCache.FolderName), recursive: true);
        var resources = new JobResources(files: FileHashCache.ForWorkspace(workspace));
        var options = new HarvestOptions
        {
            // By default what a run of this workspace uses, so that the harvest (and its forget plans) is the one runs find.
            Estimator = settings.Estimator ?? unlearn.Estimator,
            Force = settings.Force,
            Verify = true, // A cached harvest a crash damaged is computed again here rather than failing a later run.
            MaxSamplesPerLabel = settings.MaxSamples ?? unlearn.MaxSamplesPerLabel,
            BatchSize = settings.BatchSize,
            Temperature = settings.Temperature ?? unlearn.Temperature,
            Graph = analysis.Graph,
            Inputs = resources.Harvest,
        };
        var variants = settings.Plans ? ForgetPlans.Variants(workspace, unlearn, options) : [];
        // The command line first, then unlearn.json, then the defaults.
        var coverage = new ForgetPlanCoverage
        {
            MaxLabels = settings.PlanLabels ?? workspace.Settings.PlanLabels ?? ForgetPlanCoverage.DefaultMaxLabels,
            MaxPlans = settings.MaxPlans ?? workspace.Settings.MaxPlans ?? ForgetPlanCoverage.DefaultMaxPlans,
        };
        var stopwatch = Stopwatch.StartNew();
        var ids = analysis.Graph.TopologicalOrder.Where(id => settings.ModelId is null || settings.ModelId == id).ToList();
        // A checkpoint 'train' would make again is harvested as it is, but said: the next 'train' leaves its harvest unused.
        env.Diagnostics.Write(UntrainedCheckpoints.Warnings(analysis, ids));
        var harvested = new ModelHarvest[ids.Count];
        // By default as many models at once as the cores hold at the libtorch threads each gets.
        var parallel = Math.Max(1, Math.Min(settings.Parallel ?? workspace.Settings.Parallelism ?? Environment.ProcessorCount / threadsPerModel, ids.Count));
        var gate = new Lock();
        // In a terminal, a live table (a model's phase, plans calibrated so far, its time); each model's lines follow it.
        // Elsewhere (CI, redirected, --no-progress) the lines come as each model finishes.
        var live = env.ShowsLiveProgress ? new LiveProgress(env.Context.Error, "result") : null;
        void HarvestAt(int index)
        {
            var id = ids[index];
            var clock = Stopwatch.StartNew();
            live?.Update(id, "harvesting");
            var outcome = HarvestModel(analysis, id, options, variants, coverage, settings.Force, resources, env.Context.Display,
                live is null ? Heartbeat(env, id, clock, gate) : (done, total) => live.Update(id, string.Create(CultureInfo.InvariantCulture, $"planning {done}/{total}")), cancellationToken);
            live?.Complete(id, outcome.Failure is null ? "done" : $"failed ({outcome.Failure["code"]})", outcome.Result is { } r ? Summary(r) : null, clock.Elapsed.TotalSeconds);
            if (live is null)
            {
                lock (gate)
                {
                    outcome.Report(env); // Each model's lines together, as it finishes.
                }
            }

            harvested[index] = outcome;
        }

        // Models are independent (each reads its own checkpoint and data; the caches they share are thread-safe): several
        // at once, each on its own thread with the configured libtorch threads (docs/engine-notes.md).
        if (live is not null)
        {
            live.Planned(ids);
            try
            {
                ParallelJobs.For(ids.Count, parallel, HarvestAt, cancellationToken);
            }
            finally
            {
                live.Dispose();
            }

            foreach (var outcome in harvested.OfType<ModelHarvest>())
            {
                outcome.Report(env);
            }
        }
        else
        {
            ParallelJobs.For(ids.Count, parallel, HarvestAt, cancellationToken);
        }

        var results = new JArray(harvested.Select(h => h.Result).OfType<JObject>());
        var failed = new JArray(harvested.Where(h => h.Failure is not null)
            .Select(h => new JObject(h.Failure!) { ["error"] = h.Error is null ? null : JsonDocuments.Diagnostic(env.Context, h.Error) }));
        var exitCode = harvested.Select(h => h.ExitCode).DefaultIfEmpty(ExitCodes.Ok).Max();
        env.Diagnostics.Log(string.Create(CultureInfo.InvariantCulture,
            $"{harvested.Length} {(harvested.Length == 1 ? "model" : "models")}: Fisher computed for {results.Count(r => !(bool)r["cached"]!)}, cached for {results.Count(r => (bool)r["cached"]!)}; forget plans calibrated for {results.Count(r => r["plans"] is JObject p && !(bool)p["cached"]!)}, cached for {results.Count(r => r["plans"] is JObject p && (bool)p["cached"]!)}; {failed.Count} failed; {stopwatch.Elapsed.TotalSeconds:0.0} s."));
        if (env.Json)
        {
            env.WriteJson(new JObject
            {
                ["schemaVersion"] = JsonDocuments.SchemaVersion,
                ["models"] = results,
                ["failed"] = failed,
                ["seconds"] = Math.Round(stopwatch.Elapsed.TotalSeconds, 3),
            });
        }

        return exitCode;
    }

    // What a model's harvest gave, in a few words for the live table: "10 labels, cached; 55 plans".
    private static string Summary(JObject entry)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{(int)entry["labels"]!} labels{((bool)entry["cached"]! ? ", cached" : string.Empty)}");
        return entry["plans"] is JObject plans
            ? text + string.Create(CultureInfo.InvariantCulture, $"; {(int)plans["labels"]! + (int)plans["labelSets"]!} plans{((bool)plans["cached"]! ? ", cached" : string.Empty)}")
            : text;
    }

    /// <summary>One model's harvest and forget plans: its JSON entry (or failure), exit code, and the lines to log.</summary>
    private sealed record ModelHarvest(JObject? Result, JObject? Failure, int ExitCode, Action<CommandEnvironment> Report)
    {
        /// <summary>Why it failed; --json gives it in the shape run --json and train --json give a failed model's.</summary>
        public Diagnostic? Error { get; init; }
    }

    private static ModelHarvest HarvestModel(Lineage.WorkspaceAnalysis analysis, string id, HarvestOptions options,
        IReadOnlyList<(UnlearnSettings Settings, double? Target)> variants, ForgetPlanCoverage coverage, bool force, JobResources resources, Func<string, string> display,
        Action<int, int>? planProgress, CancellationToken cancellationToken)
    {
        var manifest = analysis.Workspace.Models[id];
        var lines = new List<Action<CommandEnvironment>>();
        void Report(CommandEnvironment env)
        {
            foreach (var line in lines)
            {
                line(env);
            }
        }

        JObject Entry(HarvestResult result, JObject? planned) => new()
        {
            ["id"] = id,
            ["cached"] = result.Cached,
            ["seconds"] = Math.Round(result.Seconds, 3),
            // Every label of every dataset the model or an ancestor trains on (a request may name any of them), and of those
            // the ones the model knows (QA: a model of 5 labels showed 10, with nothing saying what the count was).
            ["labels"] = result.Labels.Count,
            ["knownLabels"] = result.Labels.Count(l => l.Known),
            ["samples"] = result.SampleCount,
            ["estimator"] = result.Estimator.Name(),
            ["temperature"] = result.Temperature,
            ["key"] = result.Key.Length == 0 ? null : result.Key,
            ["file"] = result.FilePath is null ? null : display(result.FilePath),
            ["plans"] = planned,
        };

        HarvestResult? harvested = null;
        try
        {
            var result = Harvester.Harvest(manifest, analysis.Workspace, options, cancellationToken);
            harvested = result;
            if (result.Labels.Count == 0)
            {
                lines.Add(env => env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.HarvestNoData, manifest.Location, id)));
            }
            else
            {
                lines.Add(env => env.Diagnostics.Log(string.Create(CultureInfo.InvariantCulture,
                    $"{(result.Cached ? "cached" : "harvested")} {id}: {result.Labels.Count} labels, {result.Seconds:0.0} s")));
                lines.Add(env => env.Diagnostics.Detail($"  {env.Context.Display(result.FilePath!)}"));
            }

            JObject? planned = null;
            if (variants.Count > 0 && result.Labels.Count > 0)
            {
                var computed = variants.Select(v => PlanModel(analysis, id, v.Settings, v.Target, coverage, force, resources, manifest.Location, planProgress, cancellationToken)).ToList();
                var cached = computed.All(c => c.Cached);
                var labels = computed.Max(c => c.Plans.SingleLabels);
                var sets = computed.Max(c => c.Plans.LabelSets);
                var setsText = sets > 0 ? string.Create(CultureInfo.InvariantCulture, $" and {sets} label set{(sets == 1 ? string.Empty : "s")}") : string.Empty;
                lines.Add(env => env.Diagnostics.Log(string.Create(CultureInfo.InvariantCulture,
                    $"{(cached ? "cached" : "planned")} {id}: forget plans for {labels} labels{setsText}{(computed.Count > 1 ? $" under {computed.Count} settings" : string.Empty)}{(cached ? string.Empty : $", {computed.Sum(c => c.Seconds):0.0} s")}")));
                planned = new JObject
                {
                    ["cached"] = cached,
                    ["labels"] = labels,
                    ["labelSets"] = sets,
                    ["settings"] = computed.Count,
                    ["calibrated"] = computed.Sum(c => c.Calibrated),
                    ["seconds"] = Math.Round(computed.Sum(c => c.Seconds), 3),
                    ["files"] = new JArray(computed.Select(c => display(c.Path))),
                };
            }

            return new ModelHarvest(Entry(result, planned), null, ExitCodes.Ok, Report);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (EngineException ex)
        {
            lines.Add(env =>
            {
                env.Diagnostics.Write(ex.Diagnostic);
                env.Diagnostics.Detail(ex.InnerException?.ToString() ?? string.Empty);
            });
            // A model whose Fisher harvest is there but whose plans failed is still listed with it (plans null), and failed.
            return new ModelHarvest(harvested is null ? null : Entry(harvested, null), new JObject { ["id"] = id, ["code"] = ex.Code },
                IsComputeFailure(ex.Code) ? ExitCodes.Failed : ExitCodes.InvalidInput, Report)
            {
                Error = ex.Diagnostic,
            };
        }
    }

    private static ForgetPlanFile PlanModel(Lineage.WorkspaceAnalysis analysis, string id,
        UnlearnSettings settings, double? target, ForgetPlanCoverage coverage, bool force, JobResources resources, SourceLocation location,
        Action<int, int>? progress, CancellationToken cancellationToken)
    {
        try
        {
            return ForgetPlans.Compute(analysis, id, settings, resources, target, force, coverage, cancellationToken, progress);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var plans = ForgetPlans.DirectoryOf(analysis.Workspace.OutputDirectory, id);
            throw Engine.Harvest.HarvestCache.NotWritable(plans, ex, isFolder: true);
        }
        catch (Exception ex) when (ex is not (EngineException or OperationCanceledException or OutOfMemoryException))
        {
            throw Engine.Models.ModelFactory.OutOfMemory(analysis.Workspace.Models[id], "Harvesting", ex, Engine.Harvest.Harvester.HarvestMemoryAdvice + ", or without forget plans ('--no-plans')", location)
                ?? new EngineException(Diagnostic.Create(DiagnosticCatalogue.HarvestFailed, location, id, $"forget plans: {EngineException.Summarize(ex)}"), ex);
        }
    }

    /// <summary>How often a model's planning says how far it got where no live table shows it (CI logs, --no-progress):
    /// a large model's plans take minutes (QA: 62-112 s of silence per model). Tests shorten it for their own calls.</summary>
    internal static readonly AsyncLocal<TimeSpan?> HeartbeatInterval = new();

    private static readonly TimeSpan DefaultHeartbeat = TimeSpan.FromSeconds(30);

    private static Action<int, int> Heartbeat(CommandEnvironment env, string id, Stopwatch clock, Lock gate)
    {
        var interval = HeartbeatInterval.Value ?? DefaultHeartbeat;
        var since = Stopwatch.StartNew();
        return (done, total) =>
        {
            if (done >= total || since.Elapsed < interval)
            {
                return;
            }

            since.Restart();
            lock (gate)
            {
                env.Diagnostics.Log(string.Create(CultureInfo.InvariantCulture, $"{id}: forget plans {done} of {total} calibrated ({clock.Elapsed.TotalSeconds:0} s since the model started)"));
            }
        };
    }

    // Failures of the computation or of writing the cache; every other engine error is a bad input.
    private static bool IsComputeFailure(string code) =>
        code == DiagnosticCatalogue.FisherNonFinite.Code || code == DiagnosticCatalogue.HarvestFailed.Code
        || code == DiagnosticCatalogue.CheckpointWriteFailed.Code || code == DiagnosticCatalogue.NativeLoadFailed.Code
        || code == DiagnosticCatalogue.OutOfMemory.Code;
}
