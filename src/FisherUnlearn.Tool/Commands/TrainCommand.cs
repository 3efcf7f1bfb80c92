using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FisherUnlearn.Engine;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Harvest;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Text;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Output;
using FisherUnlearn.Tool.Running;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Commands;

/// <summary>
/// <c>dotnet unlearn train [--model &lt;id&gt;] [--force] [--threads n]</c>: trains, parents first, the models whose
/// checkpoints are missing or stale, from their <c>training</c> recipes, and skips the up-to-date ones.
/// </summary>
/// <remarks>
/// Which models are trained, kept or up to date is <see cref="TrainingPolicy"/>'s decision; this command walks the
/// lineage parents first, trains, and reports. Exit codes: 0 done or nothing to do; 2 bad input (manifests, data, checkpoints); 1 a model's training failed
/// (checkpoints trained before it are kept) or libtorch failed to load (FUL3003), as for run, harvest and verify; 130 cancelled.
/// With <c>--json</c> the model that stopped the command is <c>failed</c> with its <c>error</c> (the diagnostic, as
/// <c>run --json</c> gives it), and <c>diagnostics</c> lists every diagnostic the command reported, as the failure
/// document of a command stopped before its own does.
/// </remarks>
internal static class TrainCommand
{
    public static Command Create(CliContext context, GlobalOptions options)
    {
        var model = new Option<string?>("--model", "-m")
        {
            Description = "Train only this model and those of its ancestors that are missing or stale.",
            HelpName = "id",
        };
        var force = new Option<bool>("--force")
        {
            Description = "Train even when up to date: every model, or with --model only that one.",
        };
        var threads = new Option<int?>("--threads")
        {
            Description = "libtorch threads (default: 'threads' of unlearn.json, else 1; 1 gives bit-reproducible checkpoints).",
            HelpName = "n",
        };
        var command = new Command("train", "Train, parents first, the models whose checkpoints are missing or stale, from their 'training' recipes.")
        {
            model,
            force,
            threads,
        };
        command.SetAction((parseResult, cancellationToken) =>
            Task.FromResult(Run(new CommandEnvironment(context, options, parseResult), parseResult.GetValue(model), parseResult.GetValue(force),
                parseResult.GetValue(threads), cancellationToken)));
        return command;
    }

    /// <summary>The workspace's training lock, or null: with <paramref name="holder"/> when another process holds it, or
    /// without when the output folder cannot hold a lock file.</summary>
    private static OutputLock? TryLockTraining(CommandEnvironment env, Workspace workspace, out string? holder)
    {
        try
        {
            return OutputLock.TryAcquire(workspace.OutputDirectory, out holder, "train");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            env.Diagnostics.Detail($"training without the workspace's lock: {ex.Message}");
            holder = null;
            return null;
        }
    }

    private static int Run(CommandEnvironment env, string? modelId, bool force, int? threadOption, CancellationToken cancellationToken)
    {
        if (ConcurrencyOptions.Check((ConcurrencyOptions.Threads, threadOption)) is { } outOfRange)
        {
            env.Diagnostics.Write(outOfRange);
            return ExitCodes.InvalidInput;
        }

        var analysis = env.LoadValidWorkspace(cancellationToken);
        if (analysis is null)
        {
            return ExitCodes.InvalidInput;
        }

        var workspace = analysis.Workspace;
        if (modelId is not null && !workspace.Models.ContainsKey(modelId))
        {
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.ModelNotFound, null, modelId, EditDistance.DidYouMeanOrKnown(modelId, workspace.Models.Keys)));
            return ExitCodes.InvalidInput;
        }

        // One train at a time per workspace (QA: two at once both trained every model, silently; a parent written by one
        // while the other trains its child would give that child the other parent). The lock is a file in the output
        // folder, released by the operating system when its process ends, even when killed. A folder that cannot hold
        // it (read-only) does not stop training: the checkpoints are written beside the manifests, not there.
        using var trainLock = TryLockTraining(env, workspace, out var holder);
        if (holder is not null)
        {
            // The workspace by its full path: shown relative, the current folder read as a bare '.' (QA).
            env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.OutputLocked, null, holder, Path.GetFullPath(workspace.Root)));
            return ExitCodes.Failed;
        }

        var selected = modelId is null
            ? null
            : new HashSet<string>(analysis.Graph.Ancestors(modelId).Append(modelId), StringComparer.Ordinal);
        // In a terminal, a live table (each model's epochs so far and time); the lines of what was done follow it.
        var ids = analysis.Graph.TopologicalOrder.Where(id => selected is null || selected.Contains(id)).ToList();
        using var live = env.ShowsLiveProgress ? new LiveProgress(env.Context.Error, "result") : null;
        var session = new Session(env, workspace, threadOption ?? workspace.Settings.Threads ?? 1, live);
        var stopwatch = Stopwatch.StartNew();
        var exitCode = ExitCodes.Ok;
        live?.Planned(ids);
        // Written after the live table (if any), so that it stays whole.
        Diagnostic? failure = null;
        string? failureDetail = null;
        try
        {
            // What would stop a model's checkpoint from being written is refused before any model trains.
            foreach (var id in ids)
            {
                session.Precheck(workspace.Models[id]);
            }

            foreach (var id in ids)
            {
                session.Process(workspace.Models[id], force && (modelId is null || modelId == id), cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception ex) when (EngineException.DiagnosticOf(ex) is { } known)
        {
            failure = known;
            failureDetail = (ex as EngineException)?.Detail; // for FUL3003, what TorchSharp printed (never on stdout)
            exitCode = IsTrainingFailure(known.Code) ? ExitCodes.Failed : ExitCodes.InvalidInput;
        }
        catch (Exception ex) when (session.Current is not null && ex is not OutOfMemoryException)
        {
            failure = Diagnostic.Create(DiagnosticCatalogue.TrainingFailed, session.Current.RecipeLocation, session.Current.Id, EngineException.Summarize(ex));
            failureDetail = ex.ToString();
            exitCode = ExitCodes.Failed;
        }

        if (exitCode != ExitCodes.Ok && session.Current is not null)
        {
            session.Results.Add(new JObject
            {
                ["id"] = session.Current.Id,
                ["status"] = "failed",
                ["seconds"] = null,
                ["finalLoss"] = null,
                ["epochs"] = null,
                ["samples"] = null,
                // Why it failed, in the document itself (not only on stderr), in the shape run --json gives a failed model.
                ["error"] = failure is null ? null : JsonDocuments.Diagnostic(env.Context, failure),
            });
            live?.Complete(session.Current.Id, $"failed ({failure?.Code})", null);
        }

        live?.Dispose();
        session.FlushLines();
        if (failure is not null)
        {
            env.Diagnostics.Write(failure);
            if (failureDetail is not null)
            {
                env.Diagnostics.Detail(failureDetail);
            }
        }

        var trained = session.Results.Count(r => (string?)r["status"] == "trained");
        env.Diagnostics.Log(exitCode == ExitCodes.Ok
            ? string.Create(CultureInfo.InvariantCulture, $"{trained} trained, {session.Results.Count - trained} up to date or kept, in {stopwatch.Elapsed.TotalSeconds:0.0} s.")
            : $"stopped: {trained} trained before the failure (kept).");
        var harvestOutOfDate = SayHarvestOutOfDate(env, workspace, session.Files, session.Results.Where(r => (string?)r["status"] == "trained").Select(r => (string)r["id"]!));
        if (env.Json)
        {
            env.WriteJson(new JObject
            {
                ["schemaVersion"] = JsonDocuments.SchemaVersion,
                ["models"] = new JArray(session.Results),
                ["seconds"] = Math.Round(stopwatch.Elapsed.TotalSeconds, 3),
                // The models whose cached harvest is for their previous checkpoint (stderr's note, for pipelines that read
                // stdout alone: the next step is 'dotnet unlearn harvest').
                ["harvestOutOfDate"] = new JArray(harvestOutOfDate),
                // Every diagnostic reported (the workspace's warnings, the failure), as the failure document lists them.
                ["diagnostics"] = JsonDocuments.Diagnostics(env.Context.Reported, env.Context),
            });
        }

        return exitCode;
    }

    /// <summary>A model trained again whose Fisher harvest was cached has none for its new checkpoint: the next request
    /// that affects it computes one (seconds, where a harvested model takes milliseconds), unless 'harvest' runs first.
    /// Said only where a harvest was made before, so a workspace that never harvests is not told to, and not when the new
    /// checkpoint has the bytes of one the cache holds a harvest of (QA: 'train --force' made the same bytes again).</summary>
    private static List<string> SayHarvestOutOfDate(CommandEnvironment env, Workspace workspace, FileHashCache files, IEnumerable<string> trained)
    {
        var harvested = trained.Where(id => HarvestCache.ReadIndex(workspace.OutputDirectory, id) is { Count: > 0 } entries
            && File.Exists(workspace.Models[id].CheckpointPath)
            && files.Hash(workspace.Models[id].CheckpointPath) is var checkpoint
            && !entries.Any(e => string.Equals(e.CheckpointSha256, checkpoint, StringComparison.Ordinal))).ToList();
        if (harvested.Count > 0)
        {
            var one = harvested.Count == 1;
            var names = one ? $"'{harvested[0]}'" : $"{string.Join(", ", harvested.SkipLast(1).Select(id => $"'{id}'"))} and '{harvested[^1]}'";
            env.Diagnostics.Log($"the Fisher harvest{(one ? string.Empty : "s")} of {names} {(one ? "is for its previous checkpoint" : "are for their previous checkpoints")}: "
                + $"'dotnet unlearn harvest' computes {(one ? "it" : "them")} again ahead of the next request, which otherwise computes {(one ? "it" : "them")} itself (docs/methods.md).");
        }

        return harvested;
    }

    // Failures of the training itself, and libtorch that does not load (FUL3003, exit 1 as run, harvest and verify give
    // it); every other engine error is a bad input (manifest, data, checkpoint).
    private static bool IsTrainingFailure(string code) =>
        code == DiagnosticCatalogue.TrainingDiverged.Code || code == DiagnosticCatalogue.TrainedNotFinite.Code || code == DiagnosticCatalogue.TrainingFailed.Code || code == DiagnosticCatalogue.CheckpointWriteFailed.Code
        || code == DiagnosticCatalogue.NativeLoadFailed.Code || code == DiagnosticCatalogue.OutOfMemory.Code;

    private sealed class Session(CommandEnvironment env, Workspace workspace, int threads, LiveProgress? live)
    {
        private readonly FileHashCache files = FileHashCache.ForWorkspace(workspace);
        private readonly List<string> lines = [];

        /// <summary>The file hashes of this command (kept between commands in the output folder).</summary>
        public FileHashCache Files => files;
        private readonly ModelTrainer trainer = new(workspace, new TrainingOptions
        {
            Threads = threads,
            Log = live is null ? env.Diagnostics.Detail : null,
            EpochDone = live is { } display ? (id, epoch, epochs) => display.Update(id, string.Create(CultureInfo.InvariantCulture, $"epoch {epoch}/{epochs}")) : null,
        });

        public List<JObject> Results { get; } = [];

        /// <summary>The model being processed, for failure messages.</summary>
        public ModelManifest? Current { get; private set; }

        /// <summary>FUL4029 or FUL4076 (as the failure of <paramref name="model"/>) when a folder stands at its checkpoint
        /// path or a file where one of its folders goes.</summary>
        public void Precheck(ModelManifest model)
        {
            Current = model;
            TrainingPolicy.ThrowIfCheckpointPathBlocked(workspace, model);
            Current = null;
        }

        public void Process(ModelManifest model, bool force, CancellationToken cancellationToken)
        {
            Current = model;
            cancellationToken.ThrowIfCancellationRequested();
            var path = model.CheckpointPath;
            var decision = TrainingPolicy.Decide(workspace, model, force, files);
            switch (decision.Action)
            {
                case TrainingAction.UpToDate:
                    Results.Add(Entry(model.Id, "up-to-date", null));
                    Log($"up to date: {model.Id}");
                    live?.Complete(model.Id, "up to date", null, null);
                    Current = null;
                    return;
                case TrainingAction.Keep:
                    Results.Add(Entry(model.Id, "kept", null));
                    Log($"kept: {model.Id} ({env.Context.Display(path)} {decision.Why})");
                    live?.Complete(model.Id, "up to date", "kept (see below)", null);
                    Current = null;
                    return;
            }

            var inputs = decision.Inputs!;
            if (live is null)
            {
                env.Diagnostics.Detail($"training {model.Id} ({decision.Why})");
            }

            live?.Update(model.Id, "training");
            using var result = trainer.Train(model, cancellationToken: cancellationToken);
            result.Save(path, TrainingInputs.Metadata(model, inputs));
            var stats = result.Stats;
            Results.Add(Entry(model.Id, "trained", stats));
            Log(Describe(model, stats));
            live?.Complete(model.Id, "done", stats.Epochs == 0 ? "no training step"
                : string.Create(CultureInfo.InvariantCulture, $"{stats.Epochs} epoch{(stats.Epochs == 1 ? string.Empty : "s")}, loss {stats.FinalLoss:0.###}"), stats.Seconds);
            Current = null;
        }

        /// <summary>Writes the lines held back while the live table was drawn.</summary>
        public void FlushLines()
        {
            foreach (var line in lines)
            {
                env.Diagnostics.Log(line);
            }

            lines.Clear();
        }

        // A line now, or after the live table when there is one (lines would tear it).
        private void Log(string line)
        {
            if (live is null)
            {
                env.Diagnostics.Log(line);
            }
            else
            {
                lines.Add(line);
            }
        }

        private static string Describe(ModelManifest model, TrainingStats stats) => stats.Epochs == 0
            ? string.Create(CultureInfo.InvariantCulture, $"trained {model.Id} in {stats.Seconds:0.0} s ({(model.Relation == Relation.Merge ? "merged, no training" : "no training step")})")
            : string.Create(CultureInfo.InvariantCulture, $"trained {model.Id} in {stats.Seconds:0.0} s ({stats.Epochs} epoch{(stats.Epochs == 1 ? "" : "s")}, loss {stats.FinalLoss:0.###})");

        private static JObject Entry(string id, string status, TrainingStats? stats) => new()
        {
            ["id"] = id,
            ["status"] = status,
            // Null for a model not trained (up to date, kept), as for one that failed: not "0 epochs" (QA).
            ["seconds"] = stats is null ? null : Math.Round(stats.Seconds, 3),
            ["finalLoss"] = stats?.FinalLoss is { } loss ? Math.Round(loss, 6) : null,
            ["epochs"] = stats?.Epochs,
            ["samples"] = stats?.Samples,
            ["error"] = null,
        };
    }
}
