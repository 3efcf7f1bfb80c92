using System.Diagnostics;
using System.Globalization;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Training;

/// <summary>Settings of a <see cref="ModelTrainer"/>.</summary>
public sealed record TrainingOptions
{
    /// <summary>libtorch intra-op threads (process-global, set through <see cref="TorchRuntime.Configure"/>). 1 gives
    /// bit-reproducible results and is the fastest for these small models on shared machines.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Stop after this many optimizer steps (null = the recipe's epochs). 0 trains nothing: the result is the
    /// starting point (fresh init, the parent, or the parents' average).</summary>
    public long? MaxSteps { get; init; }

    /// <summary>Loads one split of a dataset (default: <see cref="DatasetLoader.Load"/>). Results are cached per
    /// trainer by dataset id and split.</summary>
    public Func<DatasetManifest, string, DataSplit>? LoadData { get; init; }

    /// <summary>Receives one line per epoch (for <c>--verbosity detailed</c>).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Told (model id, epochs done, epochs of the recipe) after each epoch, for a progress display.</summary>
    public Action<string, int, int>? EpochDone { get; init; }
}

/// <summary>
/// Trains one model from its lineage manifest's recipe, given its parents' weights, deterministically: the fresh
/// initialisation is seeded with <c>manual_seed(recipe.seed)</c>, the batch order of epoch e with a
/// <see cref="Random"/> seeded from <c>(seed, e)</c>, and libtorch runs on <see cref="TrainingOptions.Threads"/>
/// threads (1 by default), so the same inputs give the same bytes.
/// <list type="bullet">
/// <item>no parent: fresh (seeded) initialisation, then train;</item>
/// <item><c>finetune</c>: start from the parent's weights, train everything;</item>
/// <item><c>aggregate</c>: start from the element-wise mean of the parents (manifest order), train everything;</item>
/// <item><c>transfer</c>: start from the parent, train only the parameters matching <c>training.trainable</c> (the
/// others keep the parent's exact values);</item>
/// <item><c>distill</c>: fresh (seeded) student of its own architecture, teacher = the parent (eval mode, no grad);
/// loss = 0.5 * T^2 * KL(softmax(teacher/T) || softmax(student/T)) + 0.5 * CE(student, label), T =
/// <c>training.temperature</c> (Hinton et al.'s soft/hard mix: the soft term carries the teacher's knowledge, the hard
/// term keeps the student right on its own data, also on labels the teacher never saw);</item>
/// <item><c>merge</c>: the element-wise mean of the parents, no training and no data (a recipe is not needed).</item>
/// </list>
/// Data: the model's own <c>data</c> entries (train split, label subsets) concatenated, minus a <see cref="DataFilter"/>.
/// Loss: mean cross-entropy; optimizers <c>sgd</c> (momentum, weight decay) and <c>adam</c> (PyTorch's defaults
/// betas 0.9/0.999, eps 1e-8; weight decay as L2). One dispose scope per batch. Not thread-safe: use one trainer per
/// thread, and since seeding is process-global, train one model at a time per process.
/// </summary>
public sealed class ModelTrainer
{
    private static readonly Lock SeedGate = new();

    private readonly Workspace workspace;
    private readonly TrainingOptions options;
    private readonly Dictionary<(string Dataset, string Split), DataSplit> cache = [];

    public ModelTrainer(Workspace workspace, TrainingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        this.workspace = workspace;
        this.options = options ?? new TrainingOptions();
    }

    /// <summary>Whether <c>train</c> can produce the model: it has a recipe, or it is a <c>merge</c>.</summary>
    public static bool CanTrain(ModelManifest model) => model.Training is not null || model.Relation == Relation.Merge;

    /// <summary>
    /// Trains <paramref name="model"/>, loading its parents' weights from their checkpoints.
    /// </summary>
    public TrainingResult Train(ModelManifest model, DataFilter? filter = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var parents = new Dictionary<string, IReadOnlyDictionary<string, Tensor>>(StringComparer.Ordinal);
        try
        {
            foreach (var link in model.Parents)
            {
                if (!parents.ContainsKey(link.Id))
                {
                    parents[link.Id] = CheckpointStore.Load(ParentManifest(model, link).CheckpointPath);
                }
            }

            return Train(model, parents, filter, cancellationToken);
        }
        finally
        {
            foreach (var state in parents.Values)
            {
                foreach (var tensor in state.Values)
                {
                    tensor.Dispose();
                }
            }
        }
    }

    /// <summary>
    /// Trains <paramref name="model"/> from the given parent weights (by parent id; the caller keeps ownership).
    /// </summary>
    /// <param name="model">The model to train.</param>
    /// <param name="parents">A state dict per parent id of the model.</param>
    /// <param name="filter">What to leave out of the model's own data (a retrain); null = nothing.</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    public TrainingResult Train(ModelManifest model, IReadOnlyDictionary<string, IReadOnlyDictionary<string, Tensor>> parents, DataFilter? filter = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(parents);
        var stopwatch = Stopwatch.StartNew();
        TorchRuntime.Configure(options.Threads);
        var relation = model.Relation;
        var recipe = model.Training;
        if (recipe is null && relation != Relation.Merge)
        {
            throw EngineException.At(DiagnosticCatalogue.TrainingRecipeMissing, model.Location, null, model.Id, string.Empty, string.Empty);
        }

        IReadOnlyDictionary<string, Tensor> ParentState(ParentLink link) =>
            parents.TryGetValue(link.Id, out var state) ? state
            : throw new ArgumentException($"No weights were given for parent '{link.Id}' of model '{model.Id}'.", nameof(parents));

        var architecture = model.Architecture.ToString();
        nn.Module<Tensor, Tensor> module;
        lock (SeedGate)
        {
            torch.random.manual_seed(recipe?.Seed ?? 0);
            module = ModelFactory.Create(model);
        }

        nn.Module<Tensor, Tensor>? teacher = null;
        try
        {
            switch (relation)
            {
                case Relation.Finetune:
                case Relation.Transfer:
                    StateDicts.LoadInto(module, ParentState(model.Parents[0]), Source(model, model.Parents[0]), architecture);
                    break;
                case Relation.Aggregate:
                case Relation.Merge:
                    // Each parent must fit the architecture, as a finetune parent must: FUL4025 at the parent's checkpoint that
                    // does not, not the average's "state dicts differ" (found in QA: FUL4066 from train, FUL3024 from run).
                    foreach (var link in model.Parents)
                    {
                        CheckpointValidator.EnsureMatches(Source(model, link), architecture, module, ParentState(link));
                    }

                    var average = StateDicts.Average([.. model.Parents.Select(ParentState)]);
                    try
                    {
                        StateDicts.LoadInto(module, average, $"the average of {string.Join(", ", model.Parents.Select(p => p.Id))}", architecture);
                    }
                    finally
                    {
                        foreach (var tensor in average.Values)
                        {
                            tensor.Dispose();
                        }
                    }

                    break;
                case Relation.Distill:
                    var teacherManifest = ParentManifest(model, model.Parents[0]);
                    teacher = ModelFactory.Create(teacherManifest);
                    StateDicts.LoadInto(teacher, ParentState(model.Parents[0]), Source(model, model.Parents[0]), teacherManifest.Architecture.ToString());
                    teacher.eval();
                    break;
            }

            if (relation == Relation.Merge)
            {
                return new TrainingResult(model.Id, module, new TrainingStats(0, 0, 0, null, stopwatch.Elapsed.TotalSeconds));
            }

            var (data, unfiltered) = TrainingData.Assemble(model, LoadSplit, filter);
            if (unfiltered == 0)
            {
                // At the first data entry, naming the train files the entries read (a CSV with only its header row).
                var files = model.Data.Select(u => u.Dataset).Distinct(StringComparer.Ordinal).Where(workspace.Datasets.ContainsKey)
                    .SelectMany(id => workspace.Datasets[id].Train.Files).Select(workspace.Relative).Distinct(StringComparer.Ordinal);
                throw EngineException.At(DiagnosticCatalogue.TrainingNoData, model.Data.FirstOrDefault()?.Location ?? model.Location, null, model.Id,
                    $"its 'data' entries select no sample of their datasets' train split ({string.Join(", ", files)})");
            }

            // One sample through the student (and its teacher) first: data that do not fit the architecture are
            // FUL4068 here, not a libtorch error in the middle of an epoch.
            ArchitectureFit.Check(module, model, data);
            if (teacher is not null)
            {
                ArchitectureFit.Check(teacher, ParentManifest(model, model.Parents[0]), data);
            }

            var (steps, finalLoss) = Fit(model, recipe!, module, teacher, data, cancellationToken);
            if (BatchStatistics.FirstNonFinite(module) is { } bad)
            {
                // The loss stayed finite (else FUL4063), yet a weight or a buffer is not: nothing that is not finite is
                // written as a trained checkpoint (every later command would refuse it as FUL4024).
                throw EngineException.At(DiagnosticCatalogue.TrainedNotFinite, model.RecipeLocation, null, model.Id, bad.Count, bad.Name,
                    bad.Name.EndsWith("running_var", StringComparison.Ordinal) || bad.Name.EndsWith("running_mean", StringComparison.Ordinal)
                        ? "A batch-statistics layer (BatchNorm) computed it from its batches: check the module's forward pass on this data, or change 'training.batchSize', and train again."
                        : "Lower 'training.learningRate', or check the module's forward pass on this data, and train again.");
            }

            return new TrainingResult(model.Id, module, new TrainingStats(steps == 0 ? 0 : recipe!.Epochs, steps, data.Count, finalLoss, stopwatch.Elapsed.TotalSeconds));
        }
        catch (Exception ex) when (ex is not EngineException && ModelFactory.OutOfMemory(model, "Training", ex, "use a smaller 'batchSize' in its recipe (its activations grow with it)", model.RecipeLocation) is { } outOfMemory)
        {
            module.Dispose();
            throw outOfMemory;
        }
        catch
        {
            module.Dispose();
            throw;
        }
        finally
        {
            teacher?.Dispose();
        }
    }

    private (long Steps, double? FinalLoss) Fit(ModelManifest model, TrainingRecipe recipe, nn.Module<Tensor, Tensor> module, nn.Module<Tensor, Tensor>? teacher, DataSplit data, CancellationToken cancellationToken)
    {
        var trainable = SelectTrainable(model, recipe, module);
        var maxSteps = options.MaxSteps ?? long.MaxValue;
        if (data.Count == 0 || maxSteps <= 0 || recipe.Epochs <= 0)
        {
            return (0, null);
        }

        var parameters = trainable.Select(p => p.Parameter).ToArray();
        var frozen = module.named_parameters().Where(p => !trainable.Any(t => t.Name == p.name)).Select(p => p.parameter).ToArray();
        foreach (var parameter in frozen)
        {
            parameter.requires_grad = false;
        }

        using var optimizer = CreateOptimizer(recipe, parameters);
        var temperature = recipe.Temperature;
        long steps = 0;
        double? finalLoss = null;
        var keepsBatchStatistics = BatchStatistics.Kept(module);
        if (keepsBatchStatistics && (recipe.BatchSize < 2 || data.Count < 2))
        {
            // Every batch would be one sample, skipped: the untrained weights would be written as trained (review).
            throw EngineException.At(DiagnosticCatalogue.BatchOfOne, model.RecipeLocation, null, model.Id,
                recipe.BatchSize < 2 ? "'training.batchSize' is 1" : "its data hold a single sample",
                recipe.BatchSize < 2 ? "Set 'training.batchSize' to 2 or more." : "Train it on more samples, or use a module without BatchNorm.");
        }

        module.train();
        try
        {
            for (var epoch = 0; epoch < recipe.Epochs && steps < maxSteps; epoch++)
            {
                double lossSum = 0;
                long seen = 0;
                foreach (var (features, labels) in data.Batches(recipe.BatchSize, EpochSeed(recipe.Seed, epoch)))
                {
                    using var x = features;
                    using var y = labels;
                    cancellationToken.ThrowIfCancellationRequested();
                    if (steps >= maxSteps)
                    {
                        break;
                    }

                    if (!BatchStatistics.Trains(keepsBatchStatistics, y.shape[0]))
                    {
                        continue; // A last batch of one sample: BatchNorm cannot train on it (BatchStatistics).
                    }

                    using var scope = torch.NewDisposeScope();
                    optimizer.ZeroGrad();
                    var logits = module.call(x);
                    var loss = teacher is null
                        ? nn.functional.cross_entropy(logits, y)
                        : DistillationLoss(logits, TeacherLogits(teacher, x), y, temperature);
                    loss.backward();
                    optimizer.Step();
                    steps++;
                    var value = loss.item<float>();
                    if (!float.IsFinite(value))
                    {
                        throw EngineException.At(DiagnosticCatalogue.TrainingDiverged, model.RecipeLocation, null, model.Id,
                            value.ToString(CultureInfo.InvariantCulture), epoch + 1);
                    }

                    lossSum += (double)value * y.shape[0];
                    seen += y.shape[0];
                }

                if (seen > 0)
                {
                    finalLoss = lossSum / seen;
                    options.Log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"{model.Id}: epoch {epoch + 1}/{recipe.Epochs}, loss {finalLoss:0.####}"));
                }

                options.EpochDone?.Invoke(model.Id, epoch + 1, recipe.Epochs);
            }
        }
        finally
        {
            foreach (var parameter in frozen)
            {
                parameter.requires_grad = true;
            }
        }

        return (steps, finalLoss);
    }

    /// <summary>The distillation loss documented on the class (mean over the batch).</summary>
    internal static Tensor DistillationLoss(Tensor studentLogits, Tensor teacherLogits, Tensor labels, double temperature)
    {
        // Every Scalar is held past its native call (docs/engine-notes.md): no `tensor / double`, `tensor * double` or
        // `tensor + tensor` (which passes a temporary alpha), which compute the same with temporary Scalars.
        using var t = temperature.ToScalar();
        using var softWeight = (0.5 * temperature * temperature).ToScalar();
        using var half = 0.5.ToScalar();
        var teacherLog = nn.functional.log_softmax(teacherLogits.div(t), 1);
        var studentLog = nn.functional.log_softmax(studentLogits.div(t), 1);
        var kl = (teacherLog.exp() * (teacherLog - studentLog)).sum(dim: 1).mean();
        var hard = nn.functional.cross_entropy(studentLogits, labels);
        return kl.mul(softWeight).Plus(hard.mul(half));
    }

    private static Tensor TeacherLogits(nn.Module<Tensor, Tensor> teacher, Tensor x)
    {
        using var noGrad = torch.no_grad();
        return teacher.call(x);
    }

    /// <summary>The seed of epoch <paramref name="epoch"/>'s batch order: a fixed mix of the recipe seed and the epoch.</summary>
    internal static int EpochSeed(long seed, int epoch)
    {
        unchecked
        {
            var mixed = (ulong)seed * 0x9E3779B97F4A7C15UL + ((ulong)epoch + 1) * 0xBF58476D1CE4E5B9UL;
            mixed ^= mixed >> 31;
            return (int)(mixed & 0x7FFFFFFF);
        }
    }

    private static StepOptimizer CreateOptimizer(TrainingRecipe recipe, IEnumerable<TorchSharp.Modules.Parameter> parameters) =>
        recipe.Optimizer switch
        {
            "sgd" => StepOptimizer.Sgd(parameters, recipe.LearningRate, recipe.Momentum, recipe.WeightDecay),
            _ => StepOptimizer.Adam(parameters, recipe.LearningRate, recipe.WeightDecay),
        };

    /// <summary>Every parameter, or for <c>transfer</c> those matching the trainable globs (each must match one).</summary>
    private static List<(string Name, TorchSharp.Modules.Parameter Parameter)> SelectTrainable(ModelManifest model, TrainingRecipe recipe, nn.Module module)
    {
        var all = module.named_parameters().Select(p => (Name: p.name, Parameter: p.parameter)).ToList();
        if (model.Relation != Relation.Transfer && recipe.Trainable.Count == 0)
        {
            return all;
        }

        var globs = recipe.Trainable.Select(g => new ParameterGlob(g)).ToArray();
        var names = string.Join(", ", all.Select(p => p.Name));
        if (globs.Length == 0)
        {
            throw EngineException.At(DiagnosticCatalogue.TrainableMatchesNothing, model.RecipeLocation, null, model.Id,
                "a 'transfer' model needs 'training.trainable' to say which parameters to train", model.Architecture, names);
        }

        for (var i = 0; i < globs.Length; i++)
        {
            if (!all.Any(p => globs[i].IsMatch(p.Name)))
            {
                // At the glob itself, as validate places it for a built-in architecture (QA: a custom module's was at (1,1)).
                throw EngineException.At(DiagnosticCatalogue.TrainableMatchesNothing, i < model.TrainableLocations.Count ? model.TrainableLocations[i] : model.RecipeLocation, null, model.Id,
                    globs[i].NoMatchReason(), model.Architecture, names);
            }
        }

        return [.. all.Where(p => globs.Any(g => g.IsMatch(p.Name)))];
    }

    private DataSplit LoadSplit(string datasetId, string split)
    {
        if (cache.TryGetValue((datasetId, split), out var data))
        {
            return data;
        }

        if (!workspace.Datasets.TryGetValue(datasetId, out var dataset))
        {
            throw new InvalidOperationException($"Dataset '{datasetId}' is not in the workspace; validate the workspace first.");
        }

        data = options.LoadData is { } load ? load(dataset, split) : DatasetLoader.Load(dataset, split);
        cache[(datasetId, split)] = data;
        return data;
    }

    private ModelManifest ParentManifest(ModelManifest model, ParentLink link) =>
        workspace.Models.TryGetValue(link.Id, out var parent) ? parent
        : throw new InvalidOperationException($"Parent '{link.Id}' of model '{model.Id}' is not in the workspace; validate the workspace first.");

    private string Source(ModelManifest model, ParentLink link) =>
        workspace.Models.TryGetValue(link.Id, out var parent) ? parent.CheckpointPath : link.Id;
}
