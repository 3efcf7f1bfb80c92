using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Json;
using FisherUnlearn.Lineage.Text;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>Reads <c>*.lineage.json</c> (schema version 1).</summary>
internal static class LineageManifestReader
{
    /// <summary>The checkpoint file types the engine reads (docs/architectures.md).</summary>
    public static readonly string[] CheckpointExtensions = [".safetensors", ".pt", ".pth", ".dat"];

    public static readonly string[] Fields = ["$schema", "schemaVersion", "id", "checkpoint", "architecture", "parents", "data", "training"];
    public static readonly string[] ParentFields = ["id", "relation"];
    public static readonly string[] DataFields = ["dataset", "labels"];
    public static readonly string[] TrainingFields = ["epochs", "batchSize", "optimizer", "learningRate", "momentum", "weightDecay", "seed", "trainable", "temperature"];

    public const int MaxLabel = 99_999;

    /// <summary>The range of a label, for a report of one out of range: its dataset's class indices.</summary>
    internal const string LabelRange = "the class indices of a dataset (0 to its classes - 1, at most 99999)";

    public static ModelManifest? Read(ReadContext context, JsonNode document)
    {
        if (CommonFields.Root(context, document) is not { } root || !CommonFields.SchemaVersion(root, required: true))
        {
            return null;
        }

        var (id, location) = CommonFields.Id(root);
        var checkpoint = root.PathValue("checkpoint", required: true);
        var checkpointLocation = root.Optional("checkpoint") is { } checkpointNode ? context.At(checkpointNode) : null;
        if (checkpoint is not null && root.Optional("checkpoint") is { } checkpointValue
            && !CheckpointExtensions.Contains(Path.GetExtension(checkpoint).ToLowerInvariant()))
        {
            // The engine reads safetensors, PyTorch state_dicts and TorchSharp's format, and writes safetensors.
            // Quoted as the manifest writes it, not as the resolved path.
            var written = checkpointValue is JsonString text ? text.Value : checkpoint;
            context.Report(DiagnosticCatalogue.InvalidValue, checkpointValue, "checkpoint", written, ".safetensors (what 'train' writes), .pt or .pth (a PyTorch state_dict), .dat (TorchSharp)");
        }

        var errorsBefore = context.Diagnostics.Items.Count(d => d.IsError);
        var architecture = ArchitectureReader.Read(root);
        var architectureLocation = root.Optional("architecture") is { } architectureNode ? context.At(architectureNode) : null;
        var architectureComplete = context.Diagnostics.Items.Count(d => d.IsError) == errorsBefore;
        var parents = ReadParents(root);
        var parentsComplete = root.Object["parents"] is not JsonArray listed || listed.Count == parents.Count;
        var data = ReadData(root);
        var training = root.ObjectField("training") is { } t ? ReadTraining(new ObjectReader(context, t, "training")) : null;
        root.RejectUnknown(Fields);
        CheckTrainable(context, root, id, architecture, parents, training);
        CheckTemperature(context, root, id, parents);
        CheckMomentum(context, root, id, training);
        if (parents.Count > 0 && parents.All(p => p.Relation == Relation.Merge))
        {
            // A merge's knowledge is its parents': data or a recipe of its own would be silently ignored.
            foreach (var field in new[] { "data", "training" })
            {
                if (root.Object[field] is { } node && node is not JsonArray { Count: 0 })
                {
                    context.Report(DiagnosticCatalogue.MergeTakesNoTraining, node, field);
                }
            }
        }
        else if (root.Object["training"] is JsonObject recipe && root.Object["data"] is null or JsonArray { Count: 0 })
        {
            // What train would stop on (found in QA: validate passed, and train failed with FUL4062 at (1,1)): every relation
            // but 'merge' trains on the model's own 'data' alone (TrainingData.Assemble), never on its parents' again.
            context.Report(DiagnosticCatalogue.TrainingNoData, recipe, id ?? "?",
                "it has a 'training' recipe but no 'data' entries, and a model trains on its own 'data' alone, not on its parents' (a model that only averages its parents is a 'merge', which takes no recipe); add the data it trains on, or remove 'training' if its checkpoint is not made by 'train'");
        }

        return id is null ? null : new ModelManifest
        {
            Id = id,
            ManifestPath = context.File,
            CheckpointPath = checkpoint ?? string.Empty,
            CheckpointLocation = checkpointLocation,
            Architecture = architecture,
            ArchitectureLocation = architectureLocation,
            Parents = parents,
            ParentsComplete = parentsComplete,
            ArchitectureComplete = architectureComplete,
            Data = data,
            Training = training,
            TrainingLocation = root.Optional("training") is { } trainingNode ? context.At(trainingNode) : null,
            TrainableLocations = root.Object["training"] is JsonObject { } recipeObject && recipeObject["trainable"] is JsonArray trainableGlobs ? [.. trainableGlobs.Items.Select(context.At)] : [],
            Location = location,
        };
    }

    // What the trainer would refuse (FUL4061), found here where the manifest says it: a 'transfer' recipe without
    // 'trainable', or a glob that matches none of a built-in architecture's parameters.
    private static void CheckTrainable(ReadContext context, ObjectReader root, string? id, ArchitectureSpec? architecture, List<ParentLink> parents, TrainingRecipe? training)
    {
        if (training is null || root.Object["training"] is not JsonObject recipe)
        {
            return;
        }

        var names = architecture?.ParameterNames();
        // A custom module's names are known once its assembly is loaded (QA: "are: listed by its module." read unfinished).
        var listed = names is null ? "the names its module registers, which 'dotnet unlearn train' lists once the assembly is built" : string.Join(", ", names);
        if (parents.Count > 0 && parents.All(p => p.Relation == Relation.Transfer) && recipe["trainable"] is null)
        {
            context.Report(DiagnosticCatalogue.TrainableMatchesNothing, recipe, id ?? "?",
                "a 'transfer' model needs 'training.trainable' to say which parameters to train", architecture?.ToString() ?? "its architecture", listed);
        }

        if (names is null || recipe["trainable"] is not JsonArray globs)
        {
            return;
        }

        foreach (var item in globs.Items)
        {
            if (item is JsonString { Value.Length: > 0 } glob && new ParameterGlob(glob.Value) is var parsed && !names.Any(parsed.IsMatch))
            {
                context.Report(DiagnosticCatalogue.TrainableMatchesNothing, item, id ?? "?", parsed.NoMatchReason(), architecture!, listed);
            }
        }
    }

    // The trainer reads 'temperature' only when it distils: anywhere else it would be a silent no-op (and a merge
    // already refuses its whole recipe, FUL1025).
    private static void CheckTemperature(ReadContext context, ObjectReader root, string? id, List<ParentLink> parents)
    {
        // Only a valid value: a refused one already has its error (FUL1006/FUL1014).
        if (root.Object["training"] is not JsonObject recipe || recipe["temperature"] is not JsonNumber { Value: > 0 and <= 100 } temperature
            || parents.Any(p => p.Relation is Relation.Distill or Relation.Merge))
        {
            return;
        }

        // A parent entry refused (an unknown relation, FUL1011) is not a root's missing teacher: its error says it all (QA:
        // "relation": "distillation" also read "model 'student' is a root (trained from scratch), so it is ignored").
        if (root.Object["parents"] is JsonArray written && written.Items.Count != parents.Count)
        {
            return;
        }

        var relation = parents.Count == 0 ? "a root (trained from scratch)" : $"a '{parents[0].Relation.ToName()}' model";
        context.Report(DiagnosticCatalogue.SettingWithoutEffect, temperature, "training.temperature", "a 'distill' model (the teacher's softmax temperature)",
            id ?? "?", relation, parents.Count == 0 ? ", or give the model a teacher: a parent with the relation 'distill'" : ", or make the parent relation 'distill'");
    }

    // Only 'sgd' reads 'momentum' (Adam has its own moment estimates): with 'adam' it would be a silent no-op (found in
    // QA: the model was retrained to the same bytes and nothing said why).
    private static void CheckMomentum(ReadContext context, ObjectReader root, string? id, TrainingRecipe? training)
    {
        // Only a valid, non-zero value (0 is the default, and a refused one already has its error).
        if (training is null || training.Optimizer == "sgd" || root.Object["training"] is not JsonObject recipe
            || recipe["momentum"] is not JsonNumber { Value: > 0 and < 1 } momentum)
        {
            return;
        }

        context.Report(DiagnosticCatalogue.SettingWithoutEffect, momentum, "training.momentum", "the 'sgd' optimizer (Adam keeps its own moment estimates)",
            id ?? "?", $"trained with '{training.Optimizer}'", ", or set 'training.optimizer' to 'sgd'");
    }

    private static List<ParentLink> ReadParents(ObjectReader root)
    {
        var result = new List<ParentLink>();
        if (root.Array("parents") is not { } parents)
        {
            return result;
        }

        var context = root.Context;
        for (var i = 0; i < parents.Count; i++)
        {
            var path = $"parents[{i}]";
            if (parents.Items[i] is not JsonObject item)
            {
                context.WrongType(path, "an object such as { \"id\": \"base\", \"relation\": \"finetune\" }", parents.Items[i]);
                continue;
            }

            var reader = new ObjectReader(context, item, path);
            var parentId = reader.Id("id", required: true);
            Relation? relation = null;
            if (reader.String("relation", required: true) is { } name)
            {
                if (RelationNames.TryParse(name, out var parsed))
                {
                    relation = parsed;
                }
                else
                {
                    context.Report(DiagnosticCatalogue.UnknownRelation, item["relation"]!, name);
                }
            }

            reader.RejectUnknown(ParentFields);
            if (parentId is not null && relation is { } r)
            {
                result.Add(new ParentLink(parentId, r, context.At(item)));
            }
        }

        return result;
    }

    private static List<DataUse> ReadData(ObjectReader root)
    {
        var result = new List<DataUse>();
        if (root.Array("data") is not { } data)
        {
            return result;
        }

        var context = root.Context;
        HashSet<string>? datasets = null;
        for (var i = 0; i < data.Count; i++)
        {
            var path = $"data[{i}]";
            if (data.Items[i] is not JsonObject item)
            {
                context.WrongType(path, "an object such as { \"dataset\": \"mnist\" }", data.Items[i]);
                continue;
            }

            var reader = new ObjectReader(context, item, path);
            var dataset = reader.Id("dataset", required: true);
            List<int>? labels = null;
            IReadOnlyDictionary<int, SourceLocation> labelLocations = new Dictionary<int, SourceLocation>();
            if (reader.Array("labels") is { } array)
            {
                labelLocations = context.LocationsOf(array, MaxLabel);
                if (array.Count == 0)
                {
                    // An empty list would silently mean "learned nothing from this dataset".
                    context.Report(DiagnosticCatalogue.EmptyValue, array, reader.Name("labels"));
                }

                labels = context.AsDistinctIntegers(array, reader.Name("labels"), 0, MaxLabel, "label", MaxLabel + 1, LabelRange);
            }

            reader.RejectUnknown(DataFields);
            if (dataset is null)
            {
                continue;
            }

            if (!(datasets ??= new HashSet<string>(StringComparer.Ordinal)).Add(dataset))
            {
                context.Report(DiagnosticCatalogue.DuplicateValue, item["dataset"]!, "'data'", $"dataset '{dataset}'");
                continue;
            }

            result.Add(new DataUse(dataset, labels, context.At(item)) { DatasetLocation = context.At(item["dataset"]!), LabelLocations = labelLocations });
        }

        return result;
    }

    private static TrainingRecipe ReadTraining(ObjectReader reader)
    {
        var context = reader.Context;
        var defaults = new TrainingRecipe();
        string? optimizer = null;
        if (reader.String("optimizer") is { } name)
        {
            if (ObjectReader.Contains(TrainingRecipe.Optimizers, name))
            {
                optimizer = name;
            }
            else
            {
                context.Report(DiagnosticCatalogue.InvalidValue, reader.Object["optimizer"]!, reader.Name("optimizer"), name,
                    string.Join(", ", TrainingRecipe.Optimizers) + EditDistance.DidYouMean(name, TrainingRecipe.Optimizers));
            }
        }

        var trainable = new List<string>();
        if (reader.Array("trainable") is { } globs)
        {
            if (globs.Count == 0)
            {
                // An empty list would silently mean "train everything": say what to write instead.
                context.Report(DiagnosticCatalogue.InvalidValue, globs, reader.Name("trainable"), "[]",
                    "parameter patterns such as [\"fc3.*\"] (a 'transfer' model needs at least one; other models may leave 'trainable' out to train every parameter)");
            }

            for (var i = 0; i < globs.Count; i++)
            {
                if (context.AsString(globs.Items[i], $"{reader.Name("trainable")}[{i}]") is { } glob)
                {
                    trainable.Add(glob);
                }
            }
        }

        var recipe = new TrainingRecipe
        {
            Epochs = reader.Int("epochs", 1, 10_000) ?? defaults.Epochs,
            BatchSize = reader.Int("batchSize", 1, 1_000_000) ?? defaults.BatchSize,
            Optimizer = optimizer ?? defaults.Optimizer,
            LearningRate = reader.Number("learningRate", 0, 10, minExclusive: true) ?? defaults.LearningRate,
            Momentum = reader.Number("momentum", 0, 1, maxExclusive: true) ?? defaults.Momentum,
            WeightDecay = reader.Number("weightDecay", 0, 1) ?? defaults.WeightDecay,
            Seed = reader.Long("seed", long.MinValue, long.MaxValue) ?? defaults.Seed,
            Trainable = trainable,
            Temperature = reader.Number("temperature", 0, 100, minExclusive: true) ?? defaults.Temperature,
        };
        reader.RejectUnknown(TrainingFields);
        return recipe;
    }
}
