using System.Diagnostics;
using System.Globalization;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Planning;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Training;

/// <summary>Settings of <see cref="ReferenceRetrainer.Retrain"/>.</summary>
public sealed record RetrainOptions
{
    /// <summary>Where to write <c>&lt;model-id&gt;.safetensors</c> for each retrained model (null = memory only). A
    /// file there whose <c>fisherunlearn.inputs</c> equals the current inputs hash is loaded instead of retrained.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>Retrain only these affected models (and the affected ancestors they need); null = every affected model.</summary>
    public IReadOnlyCollection<string>? Only { get; init; }

    /// <summary>Retrain the models <see cref="Only"/> names (every affected model without it) even when an up-to-date file
    /// is in <see cref="OutputDirectory"/> (<c>run --force</c>); the ancestors they need are still loaded when up to date,
    /// so that a run going parents first retrains each model once.</summary>
    public bool Force { get; init; }

    /// <summary>libtorch intra-op threads (see <see cref="TrainingOptions.Threads"/>).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Loads one split of a dataset (default: <see cref="DatasetLoader.Load"/>).</summary>
    public Func<DatasetManifest, string, DataSplit>? LoadData { get; init; }

    /// <summary>Receives a line per model (and per epoch).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Told (model id, epochs done, epochs of the recipe) after each epoch of a retrained model.</summary>
    public Action<string, int, int>? EpochDone { get; init; }

    /// <summary>Told (model id, whether an up-to-date reference was loaded instead) as each model's reference is ready.</summary>
    public Action<string, bool>? ModelReady { get; init; }

    /// <summary>Record each model's training time in the file written (<see cref="TrainingInputs.TrainingSecondsKey"/>), so
    /// that a later reuse can still say what retraining cost (<see cref="RetrainedModel.TrainingSeconds"/>).</summary>
    public bool RecordTrainingTime { get; init; }
}

/// <summary>One retrained model: its weights (owned by the <see cref="RetrainResult"/>) and how they were made.</summary>
public sealed class RetrainedModel
{
    internal RetrainedModel(string id, Dictionary<string, Tensor> state, TrainingStats stats, string inputsHash, string? checkpointPath, bool reused, double? trainingSeconds,
        string? trainedNothing = null)
    {
        TrainedNothing = trainedNothing;
        TrainingSeconds = trainingSeconds;
        Id = id;
        State = state;
        Stats = stats;
        InputsHash = inputsHash;
        CheckpointPath = checkpointPath;
        Reused = reused;
    }

    public string Id { get; }

    /// <summary>The retrained weights (CPU). Disposed with the <see cref="RetrainResult"/>.</summary>
    public IReadOnlyDictionary<string, Tensor> State { get; }

    public TrainingStats Stats { get; }

    /// <summary>Seconds spent on this model (training, or loading a reused output).</summary>
    public double Seconds => Stats.Seconds;

    /// <summary>The <c>fisherunlearn.inputs</c> hash of this retrain (recorded in the written file).</summary>
    public string InputsHash { get; }

    /// <summary>The written file, when an output folder was given.</summary>
    public string? CheckpointPath { get; }

    /// <summary>True when an up-to-date file in the output folder was loaded instead of training.</summary>
    public bool Reused { get; }

    /// <summary>When the removal left the model no training sample, what its retrained weights are instead ("its seeded
    /// initial weights", "the weights of its parent 'a'", ...: FUL4072); null when it was trained on data. Recorded in the
    /// written file (<see cref="TrainingInputs.TrainedNothingKey"/>), so a reused file says it too.</summary>
    public string? TrainedNothing { get; }

    /// <summary>FUL4072 when <see cref="TrainedNothing"/>, at the model's manifest; null otherwise.</summary>
    public Diagnostic? NothingLeftWarning(ModelManifest model, string removalId) => TrainedNothing is { } start
        ? ReferenceRetrainer.NothingLeftWarning(model, start, removalId)
        : null;

    /// <summary>What training this model took: now, or when a reused file was made (recorded with
    /// <see cref="RetrainOptions.RecordTrainingTime"/>); null for a reused file without that record.</summary>
    public double? TrainingSeconds { get; }
}

/// <summary>The retrained reference of a removal: one model per retrained id, parents first. Dispose to free the
/// weights.</summary>
public sealed class RetrainResult(IReadOnlyList<RetrainedModel> models, double seconds) : IDisposable
{
    /// <summary>Retrained models in work order (parents before children).</summary>
    public IReadOnlyList<RetrainedModel> Models { get; } = models;

    /// <summary>Total wall-clock seconds.</summary>
    public double Seconds { get; } = seconds;

    public RetrainedModel this[string modelId] => Models.FirstOrDefault(m => m.Id == modelId)
        ?? throw new KeyNotFoundException($"Model '{modelId}' was not retrained.");

    public void Dispose()
    {
        foreach (var model in Models)
        {
            foreach (var tensor in model.State.Values)
            {
                tensor.Dispose();
            }
        }
    }
}

/// <summary>
/// The exact unlearning reference: train the affected models of a removal plan again, parents first, each from its
/// parents' retrained weights when they are affected and their original checkpoints otherwise, from its recipe,
/// without the forgotten data (<see cref="DataFilter.From(RemovalManifest)"/> applied to its own data). Original
/// checkpoints are never written: results stay in memory, or go to a separate output folder.
/// </summary>
public static class ReferenceRetrainer
{
    public static RetrainResult Retrain(WorkspaceAnalysis analysis, RemovalPlan plan, RemovalManifest removal, RetrainOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(removal);
        options ??= new RetrainOptions();
        var stopwatch = Stopwatch.StartNew();
        var workspace = analysis.Workspace;
        var filter = DataFilter.From(removal);
        var selected = Select(plan, workspace, options.Only);
        var outputs = options.OutputDirectory is null ? null : Path.GetFullPath(options.OutputDirectory);
        if (outputs is not null)
        {
            // Physical paths: a reference folder that is a symbolic link into a model's folder must not pass for another place.
            var owners = workspace.InputOwners();
            foreach (var id in selected)
            {
                var target = Path.Combine(outputs, id + ".safetensors");
                if (owners.GetValueOrDefault(PhysicalPath.Of(target)) is { } owner)
                {
                    throw EngineException.Create(DiagnosticCatalogue.RetrainWouldOverwrite, target, id, workspace.Relative(target), owner);
                }
            }
        }

        var trainer = new ModelTrainer(workspace, new TrainingOptions { Threads = options.Threads, LoadData = options.LoadData, Log = options.Log, EpochDone = options.EpochDone });
        var files = FileHashCache.ForWorkspace(workspace);
        var done = new Dictionary<string, RetrainedModel>(StringComparer.Ordinal);
        var results = new List<RetrainedModel>();
        try
        {
            foreach (var id in selected)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var model = workspace.Models[id];
                if (!ModelTrainer.CanTrain(model))
                {
                    throw EngineException.At(DiagnosticCatalogue.TrainingRecipeMissing, model.Location, null, model.Id,
                        ", so its retrained reference cannot be made", string.Empty);
                }

                var named = options.Only is null || options.Only.Contains(id, StringComparer.Ordinal);
                var forced = options.Force && named;
                // An ancestor retrained only for what Only names is kept in memory, not written: its file in the folder may be
                // another method's output of this removal (found in QA: 'run --only head --method retrain' overwrote the fiun
                // outputs of its ancestors, whose job records then called them stale). An up-to-date one there is still read.
                var retrained = RetrainOne(trainer, workspace, model, filter, removal.Id, done, files, reuse: !forced, outputs, options.RecordTrainingTime, write: named, cancellationToken);
                done[id] = retrained;
                results.Add(retrained);
                options.ModelReady?.Invoke(id, retrained.Reused);
                options.Log?.Invoke(retrained.Reused
                    ? $"retrained reference of {id} is up to date ({retrained.CheckpointPath})"
                    : retrained.TrainedNothing is { } start
                        ? $"retrained {id}: no training sample left, nothing trained; it is {start} (FUL4072)"
                        : $"retrained {id} in {retrained.Seconds:0.0} s ({retrained.Stats.Samples} samples)");
            }
        }
        catch
        {
            new RetrainResult(results, 0).Dispose();
            throw;
        }

        return new RetrainResult(results, stopwatch.Elapsed.TotalSeconds);
    }

    private static RetrainedModel RetrainOne(ModelTrainer trainer, Workspace workspace, ModelManifest model, DataFilter filter, string removalId,
        Dictionary<string, RetrainedModel> done, FileHashCache files, bool reuse, string? outputs, bool recordTime, bool write, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var parentStates = new Dictionary<string, IReadOnlyDictionary<string, Tensor>>(StringComparer.Ordinal);
        var loaded = new List<Dictionary<string, Tensor>>();
        try
        {
            var parentHashes = new List<string>();
            foreach (var link in model.Parents)
            {
                if (done.TryGetValue(link.Id, out var retrainedParent))
                {
                    parentStates[link.Id] = retrainedParent.State;
                    parentHashes.Add("retrained " + StateDicts.Hash(retrainedParent.State));
                }
                else
                {
                    var path = workspace.Models[link.Id].CheckpointPath;
                    parentHashes.Add(files.Hash(path));
                    if (!parentStates.ContainsKey(link.Id))
                    {
                        var state = CheckpointStore.Load(path);
                        loaded.Add(state);
                        parentStates[link.Id] = state;
                    }
                }
            }

            var inputs = TrainingInputs.Compute(workspace, model, parentHashes, filter, files);
            var target = outputs is null ? null : Path.Combine(outputs, model.Id + ".safetensors");
            if (target is not null && reuse && TrainingInputs.Check(target, inputs) == CheckpointState.UpToDate)
            {
                var state = CheckpointStore.Load(target);
                var metadata = TrainingInputs.ReadMetadata(target);
                var recorded = metadata?.GetValueOrDefault(TrainingInputs.TrainingSecondsKey) is { } text
                    && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= 0 ? s : (double?)null;
                var nothing = metadata?.GetValueOrDefault(TrainingInputs.TrainedNothingKey);
                return new RetrainedModel(model.Id, state, new TrainingStats(0, 0, 0, null, stopwatch.Elapsed.TotalSeconds), inputs, target, reused: true, recorded,
                    string.IsNullOrEmpty(nothing) ? null : nothing);
            }

            using var result = trainer.Train(model, parentStates, filter, cancellationToken);
            // The model's own data all forgotten (Train refuses data that selects nothing before the filter: FUL4062): no
            // step was taken, and the "retrained" weights are what training starts from. A merge never trains.
            var trainedNothing = result.Stats.Samples == 0 && model.Relation != Relation.Merge ? StartingPoint(model) : null;
            var weights = result.StateDict();
            // Milliseconds, as the file records them: a reuse then sums to the same total as this run (QA: 7.188 s, then 7.187).
            var seconds = Math.Round(stopwatch.Elapsed.TotalSeconds, 3);
            if (target is not null && write)
            {
                var metadata = TrainingInputs.Metadata(model, inputs, removalId);
                if (trainedNothing is not null)
                {
                    metadata[TrainingInputs.TrainedNothingKey] = trainedNothing;
                }

                if (recordTime)
                {
                    metadata[TrainingInputs.TrainingSecondsKey] = Math.Round(seconds, 3).ToString("R", CultureInfo.InvariantCulture);
                }

                CheckpointStore.Save(target, weights, metadata);
            }

            return new RetrainedModel(model.Id, weights, result.Stats with { Seconds = seconds }, inputs, write ? target : null, reused: false, seconds, trainedNothing);
        }
        finally
        {
            foreach (var state in loaded)
            {
                foreach (var tensor in state.Values)
                {
                    tensor.Dispose();
                }
            }
        }
    }

    // What training a model starts from, which is all its retrained model is when there is nothing to train on.
    private static string StartingPoint(ModelManifest model) => model.Relation switch
    {
        Relation.Finetune or Relation.Transfer => $"the weights of its parent '{model.Parents[0].Id}'",
        Relation.Aggregate => $"the average of its parents' weights ({string.Join(", ", model.Parents.Select(p => $"'{p.Id}'"))})",
        _ => "its seeded initial weights", // a root, or a distilled student (which starts from scratch)
    };

    /// <summary>FUL4072 for <paramref name="model"/>, retrained for <paramref name="removalId"/> with no training sample
    /// left, whose weights are <paramref name="startingPoint"/>: at its first data entry.</summary>
    public static Diagnostic NothingLeftWarning(ModelManifest model, string startingPoint, string removalId)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Diagnostic.Create(DiagnosticCatalogue.RetrainNothingLeft, model.Data.FirstOrDefault()?.Location ?? model.Location, model.Id, startingPoint, removalId);
    }

    /// <summary>The affected models to retrain in plan order: all, or <paramref name="only"/> plus their affected ancestors.</summary>
    private static List<string> Select(RemovalPlan plan, Workspace workspace, IReadOnlyCollection<string>? only)
    {
        var affected = plan.Affected.Select(a => a.Id).ToList();
        if (only is null)
        {
            return affected;
        }

        var wanted = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(only);
        while (stack.Count > 0)
        {
            var id = stack.Pop();
            if (!plan.IsAffected(id))
            {
                throw new ArgumentException($"Model '{id}' is not affected by removal '{plan.RemovalId}', so it has no retrained reference.", nameof(only));
            }

            if (wanted.Add(id))
            {
                foreach (var parent in workspace.Models[id].Parents.Where(p => plan.IsAffected(p.Id)))
                {
                    stack.Push(parent.Id);
                }
            }
        }

        return [.. affected.Where(wanted.Contains)];
    }
}
