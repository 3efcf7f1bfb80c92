using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Testing;

/// <summary>
/// A synthetic, valid workspace of any size for scale tests and benchmarks, deterministic by seed: datasets, a label
/// removal (<see cref="LabelRemovalId"/>) and a sample removal (<see cref="SampleRemovalId"/>), and models in
/// "families" of the shapes seen in practice: incremental chains (each finetune adds a label), transfer stars (heads
/// on a few labels, some finetuned further), federated rounds (2-4 clients aggregated per round), merges, a few
/// distilled students with smaller architectures, and occasional merges across families.
/// </summary>
public static class SyntheticWorkspace
{
    public const string LabelRemovalId = "forget-label-3";
    public const string SampleRemovalId = "forget-feedback-samples";

    private const int FeedbackSamples = 5000;

    private static readonly (string Id, int Classes)[] Datasets =
        [("mnist", 10), ("fashion", 10), ("kmnist", 10), ("letters", 26)];

    /// <summary>The builder of a synthetic workspace of exactly <paramref name="models"/> models.</summary>
    public static WorkspaceBuilder Create(int models, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(models);
        var generator = new Generator(models, new Random(seed));
        generator.Run();
        return generator.Builder;
    }

    /// <summary>Writes the synthetic workspace's manifests under <paramref name="folder"/>.</summary>
    public static Workspace Write(string folder, int models, int seed = 1) => Create(models, seed).WriteTo(folder);

    private sealed class Generator(int target, Random rng)
    {
        private readonly Dictionary<string, List<string>> byArchitecture = new(StringComparer.Ordinal);
        private int count;

        public WorkspaceBuilder Builder { get; } = new();

        private bool Full => count >= target;

        public void Run()
        {
            foreach (var (id, classes) in Datasets)
            {
                Builder.Dataset(id, classes, trainCount: 60000, testCount: 10000);
            }

            Builder.Dataset("feedback", 10, format: "csv", trainCount: FeedbackSamples, testCount: 1000);
            Builder.Removal(LabelRemovalId, labels: [3], reason: "Synthetic: forget label 3 everywhere.");
            var indices = Enumerable.Range(0, FeedbackSamples).OrderBy(_ => rng.Next()).Take(200).Order().ToArray();
            Builder.Removal(SampleRemovalId, samples: [WorkspaceBuilder.Samples("feedback", indices)], reason: "Synthetic: erasure of 200 feedback samples.");

            for (var family = 0; !Full; family++)
            {
                var (dataset, classes) = Datasets[rng.Next(10) < 8 ? rng.Next(3) : 3];
                var architecture = Pick(classes);
                var prefix = $"f{family:D4}";
                var members = new List<string>();
                var shape = rng.NextDouble();
                if (shape < 0.35)
                {
                    Chain(prefix, dataset, classes, architecture, members);
                }
                else if (shape < 0.6)
                {
                    Star(prefix, dataset, classes, architecture, members);
                }
                else if (shape < 0.85)
                {
                    Federated(prefix, dataset, classes, architecture, members);
                }
                else
                {
                    Merges(prefix, dataset, classes, architecture, members);
                }

                if (members.Count > 0 && rng.NextDouble() < 0.15 && !Full)
                {
                    var teacher = members[rng.Next(members.Count)];
                    Add($"{prefix}-student", [dataset], [teacher], Relation.Distill, WorkspaceBuilder.Mlp(classes, 784, 64), members);
                }

                if (members.Count > 0 && rng.NextDouble() < 0.05 && !Full
                    && byArchitecture.TryGetValue(architecture.ToString(), out var sameArchitecture))
                {
                    var others = sameArchitecture.Where(m => !m.StartsWith(prefix, StringComparison.Ordinal)).ToList();
                    if (others.Count > 0)
                    {
                        var mine = members.Where(m => !m.EndsWith("-student", StringComparison.Ordinal)).ToList();
                        Add($"{prefix}-xmerge", [], [mine[rng.Next(mine.Count)], others[rng.Next(others.Count)]], Relation.Merge, architecture, members);
                    }
                }
            }
        }

        private ArchitectureSpec Pick(int classes) => rng.Next(3) switch
        {
            0 => WorkspaceBuilder.Mlp(classes, 784, 256, 128),
            1 => WorkspaceBuilder.Mlp(classes, 784, 128),
            _ => WorkspaceBuilder.Cnn(classes),
        };

        private List<DataSpec> Data(string dataset, IEnumerable<int> labels)
        {
            var data = new List<DataSpec> { DataSpec.Of(dataset, [.. labels.Distinct().Order()]) };
            if (rng.NextDouble() < 0.08)
            {
                data.Add("feedback");
            }

            return data;
        }

        private List<int> SomeLabels(int classes, int min, int max) =>
            [.. Enumerable.Range(0, classes).OrderBy(_ => rng.Next()).Take(rng.Next(min, max + 1))];

        private void Chain(string prefix, string dataset, int classes, ArchitectureSpec architecture, List<string> members)
        {
            var known = rng.Next(3, 7);
            var previous = Add($"{prefix}-base", Data(dataset, Enumerable.Range(0, known)), [], null, architecture, members);
            var length = rng.Next(2, 11);
            for (var step = 1; step <= length && previous is not null; step++)
            {
                previous = Add($"{prefix}-ft{step:D2}", Data(dataset, [(known + step - 1) % classes]), [previous], Relation.Finetune, architecture, members);
            }
        }

        private void Star(string prefix, string dataset, int classes, ArchitectureSpec architecture, List<string> members)
        {
            var hub = Add($"{prefix}-base", [dataset], [], null, architecture, members);
            var heads = rng.Next(3, 16);
            for (var h = 1; h <= heads && hub is not null; h++)
            {
                var head = Add($"{prefix}-head{h:D2}", Data(dataset, SomeLabels(classes, 1, 3)), [hub], Relation.Transfer, architecture, members);
                for (var k = 1; head is not null && k <= 2 && rng.NextDouble() < 0.3; k++)
                {
                    head = Add($"{prefix}-head{h:D2}-ft{k}", Data(dataset, SomeLabels(classes, 1, 2)), [head], Relation.Finetune, architecture, members);
                }
            }
        }

        private void Federated(string prefix, string dataset, int classes, ArchitectureSpec architecture, List<string> members)
        {
            var global = Add($"{prefix}-global", Data(dataset, SomeLabels(classes, 2, 4)), [], null, architecture, members);
            var rounds = rng.Next(1, 5);
            for (var round = 1; round <= rounds && global is not null; round++)
            {
                var clients = new List<string>();
                var size = rng.Next(2, 5);
                for (var c = 1; c <= size && target - count > 1; c++)
                {
                    clients.Add(Add($"{prefix}-r{round}c{c}", Data(dataset, SomeLabels(classes, 2, 5)), [global], Relation.Finetune, architecture, members)!);
                }

                global = clients.Count >= 2
                    ? Add($"{prefix}-r{round}agg", rng.NextDouble() < 0.5 ? [] : Data(dataset, SomeLabels(classes, 1, 2)), clients, Relation.Aggregate, architecture, members)
                    : null;
            }
        }

        private void Merges(string prefix, string dataset, int classes, ArchitectureSpec architecture, List<string> members)
        {
            var root = Add($"{prefix}-base", Data(dataset, Enumerable.Range(0, classes)), [], null, architecture, members);
            var tips = new List<string>();
            var branches = rng.Next(2, 5);
            for (var b = 1; b <= branches && root is not null; b++)
            {
                if (Add($"{prefix}-b{b}", Data(dataset, SomeLabels(classes, 1, 3)), [root], Relation.Finetune, architecture, members) is { } tip)
                {
                    tips.Add(tip);
                }
            }

            for (var m = 1; tips.Count >= 2 && m <= 2; m++)
            {
                var parents = tips.OrderBy(_ => rng.Next()).Take(rng.Next(2, Math.Min(4, tips.Count) + 1)).Order(StringComparer.Ordinal).ToList();
                if (Add($"{prefix}-merge{m}", [], parents, Relation.Merge, architecture, members) is { } merged)
                {
                    tips.Add(merged);
                }
            }
        }

        private string? Add(string id, List<DataSpec> data, List<string> parents, Relation? relation, ArchitectureSpec architecture, List<string> members)
        {
            if (Full)
            {
                return null;
            }

            Builder.Model(id, data, [.. parents.Select(p => new ParentSpec(p, relation))], relation, architecture);
            count++;
            members.Add(id);
            var key = architecture.ToString();
            if (!byArchitecture.TryGetValue(key, out var list))
            {
                byArchitecture[key] = list = [];
            }

            list.Add(id);
            return id;
        }
    }
}
