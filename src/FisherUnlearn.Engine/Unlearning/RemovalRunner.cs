using System.Diagnostics;
using System.Text.Json.Nodes;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Engine.Verification;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Planning;

namespace FisherUnlearn.Engine.Unlearning;

/// <summary>Settings of <see cref="RemovalRunner.Run"/>.</summary>
public sealed record RunOptions
{
    /// <summary>The method, overriding the removal's and the workspace's (the --method option).</summary>
    public string? Method { get; init; }

    /// <summary>The output root (default: the workspace's output folder); files go to <c>&lt;root&gt;/&lt;removal-id&gt;/</c>.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>Only this affected model (null = all).</summary>
    public string? Only { get; init; }

    /// <summary>retrain: make the selected models again even when up-to-date retrained outputs are in the folder
    /// (<see cref="RetrainOptions.Force"/>).</summary>
    public bool Force { get; init; }

    /// <summary>libtorch threads; null = leave as configured.</summary>
    public int? Threads { get; init; }

    /// <summary>Fisher-method jobs run at once, each on its own thread of this process (default 1). The jobs are
    /// independent and use no random numbers, so the outputs are the same bytes whatever the parallelism; give each job
    /// <c>max(1, cores / parallelism)</c> libtorch <see cref="Threads"/> so that they do not oversubscribe the cores.
    /// <c>retrain</c> ignores it (parents first).</summary>
    public int Parallelism { get; init; } = 1;

    /// <summary>Measure before/after metrics of each model (a few forward passes).</summary>
    public bool Measure { get; init; } = true;

    public Func<DatasetManifest, string, DataSplit>? LoadData { get; init; }

    public Action<string>? Log { get; init; }
}

/// <summary>The result of a run: one outcome per model, in plan order.</summary>
public sealed record RunResult(string RemovalId, string ManifestSha256, UnlearnSettings Settings, string OutputDirectory, IReadOnlyList<ModelOutcome> Models, double Seconds)
{
    public bool Succeeded => Models.All(m => m.Succeeded);
}

/// <summary>
/// Runs a removal's method on every affected model. Fisher methods run one <see cref="UnlearningJob"/> per model (each
/// independent of the others' results; <see cref="RunOptions.Parallelism"/> at once, on threads); <c>retrain</c> runs the exact
/// reference (<see cref="ReferenceRetrainer"/>), parents first. Outputs go to <c>&lt;out&gt;/&lt;removal-id&gt;/&lt;model&gt;.safetensors</c>,
/// written atomically; original checkpoints are only read. A failed model does not stop the others.
/// </summary>
public static class RemovalRunner
{
    /// <summary>The models of the plan's affected lineages (affected models and their ancestors) whose checkpoint file is
    /// missing, parents first: a run stops at them (FUL4104), so they are trained first.</summary>
    public static IReadOnlyList<string> MissingCheckpoints(WorkspaceAnalysis analysis, RemovalPlan plan) =>
        [.. Lineages(analysis, plan).Where(id => !CheckpointPresence.IsPresent(analysis.Workspace.Models[id].CheckpointPath))];

    /// <summary>The models of the plan's affected lineages whose checkpoint is there but cannot be read, with why, parents
    /// first: a safetensors file whose header or length does not hold (cut short, overwritten; the header alone is read,
    /// so this is cheap), or a PyTorch or TorchSharp file that does not load (read whole). A run fails at them (FUL4021
    /// and kin).</summary>
    public static IReadOnlyList<(string Id, string Reason)> UnreadableCheckpoints(WorkspaceAnalysis analysis, RemovalPlan plan)
    {
        var found = new List<(string, string)>();
        foreach (var id in Lineages(analysis, plan))
        {
            var path = analysis.Workspace.Models[id].CheckpointPath;
            if (!CheckpointPresence.IsPresent(path))
            {
                continue;
            }

            var safetensors = CheckpointStore.FormatOf(path) == CheckpointFormat.Safetensors;
            if (!safetensors)
            {
                TorchRuntime.EnsureLoaded(); // libtorch that cannot load is its own error (FUL3003), not this file's
            }

            try
            {
                if (safetensors)
                {
                    _ = SafetensorsFile.ReadHeader(path);
                }
                else
                {
                    // A PyTorch or TorchSharp file has no header of its own to check: it is read whole (these are the
                    // user's own checkpoints, which 'train' never writes), as run would read it (QA: status said "stale"
                    // for a .pt file run then refused).
                    using var scope = TorchSharp.torch.NewDisposeScope();
                    _ = CheckpointStore.Load(path);
                }
            }
            catch (EngineException ex)
            {
                found.Add((id, ex.Reason ?? EngineException.FirstLine(ex.Diagnostic.Message)));
            }
        }

        return found;
    }

    // The affected models and their ancestors, parents first.
    private static IEnumerable<string> Lineages(WorkspaceAnalysis analysis, RemovalPlan plan)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentNullException.ThrowIfNull(plan);
        var affected = plan.Affected.Select(a => a.Id).ToList();
        var lineages = analysis.Graph.Ancestors(affected).Concat(affected).ToHashSet(StringComparer.Ordinal);
        return analysis.Graph.TopologicalOrder.Where(lineages.Contains);
    }

    public static string RemovalOutputDirectory(Workspace workspace, string removalId, string? outputRoot = null) =>
        Path.Combine(Path.GetFullPath(outputRoot ?? workspace.OutputDirectory), removalId);

    public static RunResult Run(WorkspaceAnalysis analysis, RemovalManifest removal, RunOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentNullException.ThrowIfNull(removal);
        options ??= new RunOptions();
        TorchRuntime.Prepare(options.Threads);

        var started = Stopwatch.GetTimestamp();
        var workspace = analysis.Workspace;
        var settings = UnlearnSettings.From(removal, workspace.Settings, options.Method);
        var plan = Planner.Plan(workspace, analysis.Graph, removal);
        var directory = RemovalOutputDirectory(workspace, removal.Id, options.OutputDirectory);
        var selected = plan.Affected.Where(a => options.Only is null || a.Id == options.Only).ToList();
        if (options.Only is not null && selected.Count == 0)
        {
            throw new ArgumentException($"Model '{options.Only}' is not affected by removal '{removal.Id}'.");
        }

        var outcomes = settings.Method == UnlearnSettings.Retrain
            ? RunRetrain(analysis, plan, removal, selected, settings, directory, options, cancellationToken)
            : RunJobs(analysis, plan, removal, selected, settings, directory, options, cancellationToken);
        var manifestHash = workspace.ManifestHashes.GetValueOrDefault(removal.ManifestPath) ?? ContentHash.OfFile(removal.ManifestPath);
        return new RunResult(removal.Id, manifestHash, settings, directory, outcomes, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private static List<ModelOutcome> RunJobs(WorkspaceAnalysis analysis, RemovalPlan plan, RemovalManifest removal, List<AffectedModel> selected,
        UnlearnSettings settings, string directory, RunOptions options, CancellationToken cancellationToken)
    {
        var resources = new JobResources(options.LoadData, FileHashCache.ForWorkspace(analysis.Workspace));
        var outcomes = new ModelOutcome[selected.Count];
        void RunOne(int index)
        {
            var affected = selected[index];
            var job = new UnlearningJob(analysis.Workspace.Root, removal.Id, affected.Id, settings, directory);
            var outcome = job.Run(analysis, plan, resources, options.Measure, cancellationToken);
            options.Log?.Invoke(outcome.Succeeded
                ? $"unlearned {affected.Id} ({settings.Method}) in {outcome.Seconds:0.00} s"
                : $"failed {affected.Id}: {outcome.Error!.Code}");
            outcomes[index] = outcome;
        }

        ParallelJobs.For(selected.Count, options.Parallelism, RunOne, cancellationToken);
        return [.. outcomes];
    }

    private static List<ModelOutcome> RunRetrain(WorkspaceAnalysis analysis, RemovalPlan plan, RemovalManifest removal, List<AffectedModel> selected,
        UnlearnSettings settings, string directory, RunOptions options, CancellationToken cancellationToken)
    {
        var workspace = analysis.Workspace;
        var outcomes = new List<ModelOutcome>();
        var missing = selected.Select(a => workspace.Models[a.Id]).Where(m => !CheckpointPresence.IsPresent(m.CheckpointPath)).ToList();
        if (missing.Count > 0)
        {
            return [.. selected.Select(a => new ModelOutcome
            {
                Id = a.Id,
                Role = a.Role,
                Method = settings.Method,
                Error = Diagnostic.Create(DiagnosticCatalogue.UnlearningCheckpointMissing, workspace.Models[missing[0].Id].Location, missing[0].Id, workspace.Relative(missing[0].CheckpointPath), CheckpointPresence.Absence(missing[0].CheckpointPath), DiagnosticCatalogue.AffectedModel, DiagnosticCatalogue.CheckpointMissingAdvice(workspace.Models[missing[0].Id])),
            })];
        }

        var files = FileHashCache.ForWorkspace(workspace);
        var splits = new SplitCache(options.LoadData);
        RetrainResult retrained;
        try
        {
            retrained = ReferenceRetrainer.Retrain(analysis, plan, removal, new RetrainOptions
            {
                OutputDirectory = directory,
                Only = options.Only is null ? null : [options.Only],
                Force = options.Force,
                Threads = options.Threads ?? Math.Max(1, TorchRuntime.Threads),
                LoadData = options.LoadData,
                Log = options.Log,
            }, cancellationToken);
        }
        catch (EngineException ex)
        {
            return [.. selected.Select(a => new ModelOutcome { Id = a.Id, Role = a.Role, Method = settings.Method, Error = ex.Diagnostic, Exception = ex })];
        }

        using (retrained)
        {
            foreach (var affected in selected)
            {
                var model = retrained[affected.Id];
                var manifest = workspace.Models[affected.Id];
                ModelMetrics? before = null;
                ModelMetrics? after = null;
                string inputHash;
                try
                {
                    // The original checkpoint is read for its hash and the "before" metrics: one that is damaged fails this
                    // model, as it fails fiun's, and the run goes on with the others.
                    inputHash = files.Hash(manifest.CheckpointPath);
                    if (options.Measure)
                    {
                        var scope = RemovalScope.For(workspace, analysis.Graph, removal, affected.Id);
                        var metrics = new MetricsEvaluator(scope, splits);
                        using var module = ModelFactory.Load(manifest);
                        before = metrics.Measure(module);
                        StateDicts.LoadInto(module, model.State, affected.Id, manifest.Architecture.ToString());
                        after = metrics.Measure(module);
                    }
                }
                catch (EngineException ex)
                {
                    outcomes.Add(new ModelOutcome { Id = affected.Id, Role = affected.Role, Method = settings.Method, Error = ex.Diagnostic, Exception = ex, Seconds = model.Seconds });
                    continue;
                }

                var parameters = new JsonObject { ["method"] = UnlearnSettings.Retrain, ["reused"] = model.Reused, ["inputs"] = model.InputsHash };
                if (model.TrainedNothing is { } start)
                {
                    // The removal left it no training sample, so its output is what training starts from (FUL4072, which
                    // run reports from here, also for an output kept from an earlier run).
                    parameters["trainedNothing"] = start;
                }

                outcomes.Add(new ModelOutcome
                {
                    Id = affected.Id,
                    Role = affected.Role,
                    Method = settings.Method,
                    Parameters = parameters,
                    InputSha256 = inputHash,
                    OutputPath = model.CheckpointPath,
                    OutputSha256 = model.CheckpointPath is null ? null : ContentHash.OfFile(model.CheckpointPath),
                    Seconds = model.Seconds,
                    Before = before,
                    After = after,
                });
            }
        }

        return outcomes;
    }
}
