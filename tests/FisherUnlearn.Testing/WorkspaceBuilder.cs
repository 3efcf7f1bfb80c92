using System.Globalization;
using System.Text;
using System.Text.Json;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Testing;

/// <summary>
/// Builds workspaces for tests, fluently:
/// <code>
/// var workspace = new WorkspaceBuilder()
///     .Dataset("mnist", classes: 10)
///     .Model("base", data: ["mnist:0-6"])
///     .Model("plus-7", data: ["mnist:7"], parents: ["base"])
///     .Removal("forget-3", labels: [3])
///     .Build();
/// </code>
/// <see cref="Build()"/> gives an in-memory <see cref="Workspace"/>; <see cref="WriteTo"/> also writes the manifests as
/// JSON files (the layout of the samples: <c>&lt;model&gt;/&lt;model&gt;.lineage.json</c>, <c>data/&lt;id&gt;.dataset.json</c>,
/// <c>&lt;id&gt;.removal.json</c>). Either way, every location (of a model, a parent link, a data use, a sample selection)
/// is the line and column of that element in the JSON text that <see cref="WriteTo"/> writes.
/// </summary>
public sealed class WorkspaceBuilder
{
    private readonly List<DatasetEntry> datasets = [];
    private readonly List<ModelEntry> models = [];
    private readonly List<RemovalEntry> removals = [];
    private readonly HashSet<string> modelIds = new(StringComparer.Ordinal);

    /// <summary>Ids of the models added so far, in the order they were added.</summary>
    public IReadOnlyList<string> ModelIds => [.. models.Select(m => m.Id)];

    /// <summary>The default root of an in-memory workspace (never created by <see cref="Build()"/>).</summary>
    public static string DefaultRoot { get; } = Path.Combine(Path.GetTempPath(), "fiun-in-memory-workspace");

    /// <summary>A multi-layer perceptron spec: <c>mlp inputs-hidden...-classes</c> (hidden defaults to one layer of 32).</summary>
    public static ArchitectureSpec Mlp(int classes = 10, int inputs = 784, params int[] hidden) =>
        new() { Kind = ArchitectureSpec.Mlp, Classes = classes, Inputs = inputs, Hidden = hidden.Length == 0 ? [32] : hidden };

    /// <summary>A LeNet-style CNN spec over 1x28x28 inputs.</summary>
    public static ArchitectureSpec Cnn(int classes = 10) =>
        new() { Kind = ArchitectureSpec.Cnn, Classes = classes, InputShape = [1, 28, 28] };

    /// <summary>A sample selection of the <c>train</c> split.</summary>
    public static SampleSpec Samples(string dataset, params int[] indices) => new(dataset, indices);

    public WorkspaceBuilder Dataset(string id, int classes = 10, string format = "idx", int? trainCount = null, int? testCount = null)
    {
        datasets.Add(new DatasetEntry(id, classes, format, trainCount, testCount));
        return this;
    }

    /// <summary>Adds a model. <paramref name="data"/>: <c>"mnist"</c> (every label), <c>"mnist:3"</c>, <c>"mnist:0-6"</c>,
    /// <c>"mnist:1,3,5"</c>. <paramref name="parents"/>: <c>"base"</c>, or <c>"base:merge"</c> for a relation of its own;
    /// without one a parent link uses <paramref name="relation"/>, else <c>finetune</c> for one parent and
    /// <c>aggregate</c> for several. The architecture defaults to an MLP whose classes are those of its widest dataset.</summary>
    public WorkspaceBuilder Model(
        string id,
        IEnumerable<DataSpec>? data = null,
        IEnumerable<ParentSpec>? parents = null,
        Relation? relation = null,
        ArchitectureSpec? architecture = null,
        TrainingRecipe? training = null)
    {
        if (!modelIds.Add(id))
        {
            throw new ArgumentException($"Model '{id}' was already added.", nameof(id));
        }

        var parentList = parents?.ToList() ?? [];
        var fallback = relation ?? (parentList.Count >= 2 ? Relation.Aggregate : Relation.Finetune);
        models.Add(new ModelEntry(
            id,
            data?.ToList() ?? [],
            [.. parentList.Select(p => (p.Id, p.Relation ?? fallback))],
            architecture,
            training));
        return this;
    }

    public WorkspaceBuilder Removal(string id, IEnumerable<int>? labels = null, IEnumerable<SampleSpec>? samples = null, string? reason = null)
    {
        removals.Add(new RemovalEntry(id, labels?.ToList() ?? [], samples?.ToList() ?? [], reason));
        return this;
    }

    /// <summary>The in-memory workspace, rooted at <see cref="DefaultRoot"/> (nothing is written).</summary>
    public Workspace Build() => Build(DefaultRoot);

    /// <summary>The in-memory workspace as if rooted at <paramref name="root"/> (nothing is written).</summary>
    public Workspace Build(string root) => Render(Path.GetFullPath(root), write: false);

    /// <summary>Writes every manifest as a JSON file under <paramref name="folder"/> (created if needed) and returns the
    /// same workspace that <see cref="Build(string)"/> gives for that root.</summary>
    public Workspace WriteTo(string folder) => Render(Path.GetFullPath(folder), write: true);

    private Workspace Render(string root, bool write)
    {
        var datasetManifests = new SortedDictionary<string, DatasetManifest>(StringComparer.Ordinal);
        foreach (var d in datasets)
        {
            var path = Path.Combine(root, "data", $"{d.Id}.dataset.json");
            var text = DatasetJson(d);
            datasetManifests[d.Id] = new DatasetManifest
            {
                Id = d.Id,
                ManifestPath = path,
                Format = d.Format,
                Classes = d.Classes,
                Train = Split(root, d, "train", d.TrainCount)!,
                Test = Split(root, d, "test", d.TestCount),
                Location = new SourceLocation(path, 1, 1),
            };
            Save(write, path, text);
        }

        var classesOf = datasets.GroupBy(d => d.Id).ToDictionary(g => g.Key, g => g.Last().Classes, StringComparer.Ordinal);
        var modelManifests = new SortedDictionary<string, ModelManifest>(StringComparer.Ordinal);
        foreach (var m in models)
        {
            var path = Path.Combine(root, m.Id, $"{m.Id}.lineage.json");
            var classes = m.Data.Select(d => classesOf.GetValueOrDefault(d.Dataset, 10)).DefaultIfEmpty(10).Max();
            var architecture = m.Architecture ?? Mlp(classes);
            // A merge averages its parents and trains on nothing (FUL1025 for a recipe of its own); any other model trains
            // on its own data alone, so one without data gets no recipe (FUL4062 for one with a recipe): its checkpoint
            // is the user's.
            var merge = m.Parents.Count > 0 && m.Parents.All(p => p.Relation == Relation.Merge);
            var training = m.Training ?? (merge || m.Data.Count == 0 ? null : DefaultTraining(m, architecture));
            var (text, parentLines, dataLines) = LineageJson(m, architecture, training);
            modelManifests[m.Id] = new ModelManifest
            {
                Id = m.Id,
                ManifestPath = path,
                CheckpointPath = Path.Combine(root, m.Id, "bin", $"{m.Id}.safetensors"),
                Architecture = architecture,
                Parents = [.. m.Parents.Select((p, k) => new ParentLink(p.Id, p.Relation, new SourceLocation(path, parentLines[k], 5)))],
                Data = [.. m.Data.Select((d, k) => new DataUse(d.Dataset, d.Labels, new SourceLocation(path, dataLines[k], 5)))],
                Training = training,
                Location = new SourceLocation(path, 1, 1),
            };
            Save(write, path, text);
        }

        var removalManifests = new SortedDictionary<string, RemovalManifest>(StringComparer.Ordinal);
        foreach (var r in removals)
        {
            var path = Path.Combine(root, $"{r.Id}.removal.json");
            var (text, sampleLines) = RemovalJson(r);
            removalManifests[r.Id] = new RemovalManifest
            {
                Id = r.Id,
                ManifestPath = path,
                Reason = r.Reason,
                Labels = r.Labels,
                Samples = [.. r.Samples.Select((s, k) => new SampleSelection(s.Dataset, s.Split, s.Indices, new SourceLocation(path, sampleLines[k], 7)))],
                Location = new SourceLocation(path, 1, 1),
            };
            Save(write, path, text);
        }

        return new Workspace
        {
            Root = root,
            Settings = new WorkspaceSettings(),
            Models = modelManifests,
            Datasets = datasetManifests,
            Removals = removalManifests,
            Diagnostics = [],
        };
    }

    // A transfer head trains its output layer (a transfer recipe without 'trainable' is FUL4061).
    private static TrainingRecipe DefaultTraining(ModelEntry m, ArchitectureSpec architecture) =>
        m.Parents.Count > 0 && m.Parents[0].Relation == Relation.Transfer && architecture.ParameterNames() is { Count: > 0 } names
            ? new TrainingRecipe { Trainable = [names[^1][..names[^1].IndexOf('.', StringComparison.Ordinal)] + ".*"] }
            : new TrainingRecipe();

    private static DatasetSplit? Split(string root, DatasetEntry d, string split, int? count)
    {
        if (split == "test" && d.TestCount is null && d.Format != "idx")
        {
            return null;
        }

        return d.Format switch
        {
            "idx" => new DatasetSplit
            {
                Images = Path.Combine(root, "data", d.Id, $"{split}-images-idx3-ubyte.gz"),
                Labels = Path.Combine(root, "data", d.Id, $"{split}-labels-idx1-ubyte.gz"),
                Count = count,
            },
            "csv" => new DatasetSplit { Path = Path.Combine(root, "data", d.Id, $"{split}.csv"), LabelColumn = "label", Count = count },
            _ => new DatasetSplit { Path = Path.Combine(root, "data", d.Id, $"{split}.safetensors"), Count = count },
        };
    }

    private static void Save(bool write, string path, string text)
    {
        if (write)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        }
    }

    private static string Q(string value) => JsonSerializer.Serialize(value);

    private static string N(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Ints(IEnumerable<int> values) => $"[{string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture)))}]";

    private static string DatasetJson(DatasetEntry d)
    {
        string SplitJson(string split, int? count)
        {
            var countPart = count is { } c ? $", \"count\": {c.ToString(CultureInfo.InvariantCulture)}" : string.Empty;
            return d.Format switch
            {
                "idx" => $"{{ \"images\": {Q($"{d.Id}/{split}-images-idx3-ubyte.gz")}, \"labels\": {Q($"{d.Id}/{split}-labels-idx1-ubyte.gz")}{countPart} }}",
                "csv" => $"{{ \"path\": {Q($"{d.Id}/{split}.csv")}, \"labelColumn\": \"label\"{countPart} }}",
                _ => $"{{ \"path\": {Q($"{d.Id}/{split}.safetensors")}{countPart} }}",
            };
        }

        var lines = new List<string>
        {
            "{",
            "  \"schemaVersion\": 1,",
            $"  \"id\": {Q(d.Id)},",
            $"  \"format\": {Q(d.Format)},",
            $"  \"classes\": {d.Classes.ToString(CultureInfo.InvariantCulture)},",
        };
        var hasTest = d.TestCount is not null || d.Format == "idx";
        lines.Add($"  \"train\": {SplitJson("train", d.TrainCount)}{(hasTest ? "," : string.Empty)}");
        if (hasTest)
        {
            lines.Add($"  \"test\": {SplitJson("test", d.TestCount)}");
        }

        lines.Add("}");
        return string.Join('\n', lines) + "\n";
    }

    private static (string Text, int[] ParentLines, int[] DataLines) LineageJson(ModelEntry m, ArchitectureSpec a, TrainingRecipe? t)
    {
        var lines = new List<string>
        {
            "{",
            "  \"schemaVersion\": 1,",
            $"  \"id\": {Q(m.Id)},",
            $"  \"checkpoint\": {Q($"bin/{m.Id}.safetensors")},",
            $"  \"architecture\": {ArchitectureJson(a)},",
        };

        var parentLines = new int[m.Parents.Count];
        if (m.Parents.Count > 0)
        {
            lines.Add("  \"parents\": [");
            for (var k = 0; k < m.Parents.Count; k++)
            {
                parentLines[k] = lines.Count + 1;
                var comma = k < m.Parents.Count - 1 ? "," : string.Empty;
                lines.Add($"    {{ \"id\": {Q(m.Parents[k].Id)}, \"relation\": {Q(m.Parents[k].Relation.ToName())} }}{comma}");
            }

            lines.Add("  ],");
        }

        var dataLines = new int[m.Data.Count];
        if (m.Data.Count > 0)
        {
            lines.Add("  \"data\": [");
            for (var k = 0; k < m.Data.Count; k++)
            {
                dataLines[k] = lines.Count + 1;
                var comma = k < m.Data.Count - 1 ? "," : string.Empty;
                var labels = m.Data[k].Labels is { } l ? $", \"labels\": {Ints(l)}" : string.Empty;
                lines.Add($"    {{ \"dataset\": {Q(m.Data[k].Dataset)}{labels} }}{comma}");
            }

            lines.Add("  ],");
        }
        else
        {
            lines.Add("  \"data\": [],");
        }

        if (t is null)
        {
            lines[^1] = lines[^1].TrimEnd(',');
        }
        else
        {
            var trainable = t.Trainable.Count > 0 ? $", \"trainable\": [{string.Join(", ", t.Trainable.Select(Q))}]" : string.Empty;
            lines.Add($"  \"training\": {{ \"epochs\": {t.Epochs}, \"batchSize\": {t.BatchSize}, \"optimizer\": {Q(t.Optimizer)}, " +
                $"\"learningRate\": {N(t.LearningRate)}, \"seed\": {t.Seed}{trainable} }}");
        }

        lines.Add("}");
        return (string.Join('\n', lines) + "\n", parentLines, dataLines);
    }

    private static string ArchitectureJson(ArchitectureSpec a) => a.Kind switch
    {
        ArchitectureSpec.Mlp => $"{{ \"kind\": \"mlp\", \"inputs\": {a.Inputs ?? 784}, \"hidden\": {Ints(a.Hidden)}, \"classes\": {a.Classes} }}",
        ArchitectureSpec.Cnn => $"{{ \"kind\": \"cnn\", \"inputShape\": {Ints(a.InputShape)}, \"classes\": {a.Classes} }}",
        _ => $"{{ \"kind\": {Q(a.Kind)}, \"assembly\": {Q(a.Assembly ?? "model.dll")}, \"type\": {Q(a.Type ?? "Model")}, \"classes\": {a.Classes} }}",
    };

    private static (string Text, int[] SampleLines) RemovalJson(RemovalEntry r)
    {
        var lines = new List<string>
        {
            "{",
            "  \"schemaVersion\": 1,",
            $"  \"id\": {Q(r.Id)},",
        };
        if (r.Reason is not null)
        {
            lines.Add($"  \"reason\": {Q(r.Reason)},");
        }

        lines.Add("  \"forget\": {");
        var sampleLines = new int[r.Samples.Count];
        if (r.Labels.Count > 0)
        {
            lines.Add($"    \"labels\": {Ints(r.Labels)}{(r.Samples.Count > 0 ? "," : string.Empty)}");
        }

        if (r.Samples.Count > 0)
        {
            lines.Add("    \"samples\": [");
            for (var k = 0; k < r.Samples.Count; k++)
            {
                sampleLines[k] = lines.Count + 1;
                var s = r.Samples[k];
                var comma = k < r.Samples.Count - 1 ? "," : string.Empty;
                lines.Add($"      {{ \"dataset\": {Q(s.Dataset)}, \"split\": {Q(s.Split)}, \"indices\": {Ints(s.Indices)} }}{comma}");
            }

            lines.Add("    ]");
        }

        lines.Add("  }");
        lines.Add("}");
        return (string.Join('\n', lines) + "\n", sampleLines);
    }

    private sealed record DatasetEntry(string Id, int Classes, string Format, int? TrainCount, int? TestCount);

    private sealed record ModelEntry(string Id, List<DataSpec> Data, List<(string Id, Relation Relation)> Parents, ArchitectureSpec? Architecture, TrainingRecipe? Training);

    private sealed record RemovalEntry(string Id, List<int> Labels, List<SampleSpec> Samples, string? Reason);
}

/// <summary>A model's use of a dataset: <c>"mnist"</c> (every label), <c>"mnist:3"</c>, <c>"mnist:0-6"</c>, <c>"mnist:1,3,5-6"</c>.</summary>
public readonly record struct DataSpec(string Dataset, IReadOnlyList<int>? Labels)
{
    public static DataSpec Of(string dataset, params int[] labels) => new(dataset, labels.Length == 0 ? null : labels);

    public static implicit operator DataSpec(string text) => Parse(text);

    public static DataSpec Parse(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return new DataSpec(text, null);
        }

        var labels = new List<int>();
        foreach (var part in text[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-', 1);
            if (dash > 0)
            {
                var from = int.Parse(part[..dash], CultureInfo.InvariantCulture);
                var to = int.Parse(part[(dash + 1)..], CultureInfo.InvariantCulture);
                labels.AddRange(Enumerable.Range(from, to - from + 1));
            }
            else
            {
                labels.Add(int.Parse(part, CultureInfo.InvariantCulture));
            }
        }

        return new DataSpec(text[..colon], labels);
    }
}

/// <summary>A parent link: <c>"base"</c> (the model's relation) or <c>"base:merge"</c>.</summary>
public readonly record struct ParentSpec(string Id, Relation? Relation)
{
    public static implicit operator ParentSpec(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return new ParentSpec(text, null);
        }

        return RelationNames.TryParse(text[(colon + 1)..], out var relation)
            ? new ParentSpec(text[..colon], relation)
            : throw new ArgumentException($"Unknown relation in '{text}'.", nameof(text));
    }
}

/// <summary>Samples to forget: indices within one split of one dataset.</summary>
public sealed record SampleSpec(string Dataset, IReadOnlyList<int> Indices, string Split = "train");
