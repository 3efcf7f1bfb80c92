using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Training;

/// <summary>What <c>train</c> does with one model.</summary>
public enum TrainingAction
{
    /// <summary>Train it and write its checkpoint (missing, stale or forced).</summary>
    Train,

    /// <summary>Its checkpoint was made by <c>train</c> from the current inputs: leave it alone.</summary>
    UpToDate,

    /// <summary>Its checkpoint is the user's (no recipe, a <c>.pt</c>/<c>.dat</c> file, or a safetensors file <c>train</c>
    /// did not write): never overwritten unless forced where that is allowed.</summary>
    Keep,
}

/// <summary>The decision for one model, why, and the inputs hash a trained checkpoint records.</summary>
/// <param name="Damaged">Trained again because its checkpoint, made from these inputs, cannot be read any more.</param>
public sealed record TrainingDecision(TrainingAction Action, string Why, string? Inputs, bool Damaged = false);

/// <summary>
/// When <c>train</c> may (re)write a checkpoint. A checkpoint is up to date when its safetensors metadata records the
/// current inputs hash (<see cref="TrainingInputs"/>). Checkpoints <c>train</c> did not write are the user's:
/// <c>.pt</c>/<c>.pth</c>/<c>.dat</c> files are only read (FUL4064 when one would have to be written), and a
/// <c>.safetensors</c> file without our metadata is kept unless forced. A model with neither a recipe (a <c>merge</c>
/// needs none) nor a checkpoint is FUL4060.
/// </summary>
public static class TrainingPolicy
{
    /// <summary>Why <c>train</c> can never make <paramref name="model"/>'s checkpoint, in words ("'u' has no training
    /// recipe"), or null when it can: without a recipe (a <c>merge</c> needs none) or with a checkpoint in a format it only
    /// reads, only the user can put the file there (the same rules as <see cref="Decide"/>).</summary>
    public static string? WhyUntrainable(ModelManifest model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return !ModelTrainer.CanTrain(model) ? $"'{model.Id}' has no training recipe"
            : CheckpointStore.FormatOf(model.CheckpointPath) != CheckpointFormat.Safetensors
                ? $"'{model.Id}' has a {Path.GetExtension(model.CheckpointPath)} checkpoint, which 'train' never writes"
                : null;
    }

    public static TrainingDecision Decide(Workspace workspace, ModelManifest model, bool force, FileHashCache files)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(model);
        var path = model.CheckpointPath;
        var shown = workspace.Relative(path);
        var absence = CheckpointPresence.Absence(path);
        var exists = absence is null;
        if (!ModelTrainer.CanTrain(model))
        {
            return exists
                ? new TrainingDecision(TrainingAction.Keep, "has no training recipe to rebuild it", null)
                : throw new EngineException(Diagnostic.Create(DiagnosticCatalogue.TrainingRecipeMissing, model.CheckpointLocation ?? model.Location, model.Id,
                    $" and its checkpoint '{shown}' {absence}", ", or put the checkpoint there"));
        }

        ThrowIfCheckpointPathBlocked(workspace, model);
        if (CheckpointStore.FormatOf(path) != CheckpointFormat.Safetensors)
        {
            return exists && !force
                ? new TrainingDecision(TrainingAction.Keep, $"is a user checkpoint; 'train' never writes {Path.GetExtension(path)} files", null)
                : throw new EngineException(Diagnostic.Create(DiagnosticCatalogue.CheckpointNotTrainable, model.CheckpointLocation ?? model.Location, shown, model.Id, Path.GetExtension(path)));
        }

        var inputs = TrainingInputs.Compute(workspace, model, [.. model.Parents.Select(p => files.Hash(workspace.Models[p.Id].CheckpointPath))], files: files);
        var state = TrainingInputs.Check(path, inputs);
        // Train data deleted since (an erasure: the harvest lets label requests run without it, design.md section 2): the
        // checkpoint cannot be made again, so it stays as it is instead of stopping every later step.
        if (!force && state == CheckpointState.Stale && exists && DeletedTrainFiles(workspace, model) is { Count: > 0 } gone)
        {
            return new TrainingDecision(TrainingAction.Keep,
                $"cannot be trained again: its train data is gone ({string.Join(", ", gone.Take(3).Select(workspace.Relative))}{(gone.Count > 3 ? ", ..." : string.Empty)}); restore it to retrain, if its recipe or parents changed since",
                inputs);
        }

        return (force, state) switch
        {
            (false, CheckpointState.UpToDate) => new TrainingDecision(TrainingAction.UpToDate, "up to date", inputs),
            (false, CheckpointState.Foreign) => new TrainingDecision(TrainingAction.Keep, "was not made by 'train'; use --force to train it again", inputs),
            (false, CheckpointState.Unreadable) => throw new EngineException(Diagnostic.Create(DiagnosticCatalogue.CheckpointNotReplaced,
                model.CheckpointLocation ?? model.Location, model.Id, shown, UnreadableBecause(path))),
            (true, _) => new TrainingDecision(TrainingAction.Train, "forced", inputs),
            (_, CheckpointState.Missing) => new TrainingDecision(TrainingAction.Train, "no checkpoint", inputs),
            (_, CheckpointState.Damaged) => new TrainingDecision(TrainingAction.Train, $"damaged ({UnreadableBecause(path)})", inputs, Damaged: true),
            _ => new TrainingDecision(TrainingAction.Train, "stale", inputs),
        };
    }

    /// <summary>
    /// FUL4029 when <c>train</c> would have to write the checkpoint of <paramref name="model"/> (it has a recipe) where a
    /// folder is, FUL4076 when a file stands where one of its folders goes: found before any model is trained, since
    /// writing the file would fail only once the training is spent (found in QA: FUL4028 "Is a directory", and "The file
    /// 'm/bin/sub' already exists" with advice about free space, exit 1, after the whole recipe ran). A model without a
    /// recipe is FUL4060's.
    /// </summary>
    /// <exception cref="EngineException">FUL4029, FUL4076.</exception>
    public static void ThrowIfCheckpointPathBlocked(Workspace workspace, ModelManifest model)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(model);
        if (!ModelTrainer.CanTrain(model))
        {
            return;
        }

        var at = model.CheckpointLocation ?? model.Location;
        if (Directory.Exists(model.CheckpointPath))
        {
            throw new EngineException(Diagnostic.Create(DiagnosticCatalogue.CheckpointPathIsFolder, at, workspace.Relative(model.CheckpointPath), model.Id));
        }

        if (Path.GetDirectoryName(Path.GetFullPath(model.CheckpointPath)) is { } folder && RegularFile.FileAtOrAbove(folder) is { } file)
        {
            throw new EngineException(Diagnostic.Create(DiagnosticCatalogue.CheckpointFolderIsFile, at, workspace.Relative(model.CheckpointPath), model.Id, workspace.Relative(file)));
        }
    }

    // What reading the checkpoint's header says, as the reason it cannot be read.
    private static string UnreadableBecause(string path)
    {
        try
        {
            _ = SafetensorsFile.ReadHeader(path);
            return "its header could not be read";
        }
        catch (EngineException ex)
        {
            return ex.Reason ?? EngineException.FirstLine(ex.Diagnostic.Message);
        }
    }

    /// <summary>
    /// Which of <paramref name="models"/> (those whose checkpoint is there) <c>train</c> would make again, not forced:
    /// made from other inputs than the manifest now names (<c>Ancestor</c> null), or made by <c>train</c> below an ancestor
    /// it would make again, since it then retrains the descendants (<c>Ancestor</c>: the nearest such, by parents in ordinal
    /// order). A model <c>train</c> keeps (no recipe, the user's checkpoint, train data gone) stops that chain. A model whose
    /// checkpoint cannot be read (its decision fails, or it is damaged since <c>train</c> made it) or is missing is not
    /// listed: reading it reports what is wrong; a model below it is, with it as <c>Ancestor</c> and <c>AncestorUnusable</c>
    /// set (whether its own inputs changed cannot be told until that checkpoint is made again). In ordinal order.
    /// </summary>
    public static IReadOnlyList<(string Model, string? Ancestor, bool AncestorUnusable)> WouldRemake(Workspace workspace, IEnumerable<string> models, FileHashCache files)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(models);
        var actions = new Dictionary<string, (TrainingAction? Action, bool OwnUnreadable)>(StringComparer.Ordinal);
        (TrainingAction? Action, bool OwnUnreadable) Decided(string id)
        {
            if (!actions.TryGetValue(id, out var decided))
            {
                try
                {
                    decided = Decide(workspace, workspace.Models[id], force: false, files) is { Damaged: false } decision ? (decision.Action, false) : (null, true);
                }
                catch (EngineException ex)
                {
                    // A parent's checkpoint that cannot be read (hashed for this model's inputs) is the parent's problem,
                    // not this model's: its own checkpoint may be fine (QA: a child of an unreadable root was named as the
                    // unreadable ancestor of the models below it).
                    decided = (null, !IsParentCheckpoint(workspace, workspace.Models[id], ex.Diagnostic.Location.File));
                }

                actions[id] = decided;
            }

            return decided;
        }

        TrainingAction? Action(string id) => Decided(id).Action;

        // A checkpoint that is there but cannot be read (damaged since train made it, or refused): its descendants' inputs
        // hash it as it is now, so their "stale" says nothing of their own inputs (QA: a truncated root made FUL4069 say
        // every model below it was "made from other inputs", and train then found them all up to date). They are named
        // with that ancestor instead: train makes it again first, and then tells.
        // A missing one likewise: its descendants' inputs hash its absence (QA: FUL4069 said a child of a deleted checkpoint
        // was "made from other inputs").
        bool Unusable(string id) => Decided(id).OwnUnreadable || !CheckpointPresence.IsPresent(workspace.Models[id].CheckpointPath);
        var unusableAbove = new Dictionary<string, string?>(StringComparer.Ordinal);
        string? UnusableAbove(string id) => NearestAbove(workspace, id, unusableAbove, Unusable, _ => true);

        bool Remade(string id) => Action(id) == TrainingAction.Train && CheckpointPresence.IsPresent(workspace.Models[id].CheckpointPath) && UnusableAbove(id) is null;
        var remadeAbove = new Dictionary<string, string?>(StringComparer.Ordinal);
        string? RemadeAbove(string id) => NearestAbove(workspace, id, remadeAbove, Remade, p => Action(p) == TrainingAction.UpToDate);

        var result = new List<(string, string?, bool)>();
        foreach (var id in models.Where(workspace.Models.ContainsKey).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (Remade(id))
            {
                result.Add((id, null, false));
            }
            else if (!Unusable(id) && UnusableAbove(id) is { } unusable)
            {
                result.Add((id, unusable, true));
            }
            else if (Action(id) == TrainingAction.UpToDate && RemadeAbove(id) is { } ancestor)
            {
                result.Add((id, ancestor, false));
            }
        }

        return result;
    }

    private static bool IsParentCheckpoint(Workspace workspace, ModelManifest model, string file) =>
        file.Length > 0 && model.Parents.Any(p => workspace.Models.TryGetValue(p.Id, out var parent)
            && string.Equals(Path.GetFullPath(parent.CheckpointPath), Path.GetFullPath(file), StringComparison.Ordinal));

    // The nearest ancestor of a model (by parents in ordinal order, depth first) that is a hit, looking further up only
    // through parents that pass; null when there is none. Memoised in 'found' (the graph is acyclic, validated: the
    // entry written first only guards the recursion).
    private static string? NearestAbove(Workspace workspace, string id, Dictionary<string, string?> found, Func<string, bool> hit, Func<string, bool> passes)
    {
        if (!found.TryGetValue(id, out var nearest))
        {
            found[id] = null;
            nearest = workspace.Models[id].Parents.Select(p => p.Id).Where(workspace.Models.ContainsKey).Order(StringComparer.Ordinal)
                .Select(p => hit(p) ? p : passes(p) ? NearestAbove(workspace, p, found, hit, passes) : null)
                .FirstOrDefault(a => a is not null);
            found[id] = nearest;
        }

        return nearest;
    }

    // The files of the splits the model trains on that are no longer there.
    private static List<string> DeletedTrainFiles(Workspace workspace, ModelManifest model) =>
        [.. model.Data
            .Select(use => workspace.Datasets.TryGetValue(use.Dataset, out var dataset) ? dataset.GetSplit(use.Split) : null)
            .OfType<DatasetSplit>()
            .SelectMany(Unlearning.RemovalData.DeletedFiles)
            .Distinct(StringComparer.Ordinal)];
}
