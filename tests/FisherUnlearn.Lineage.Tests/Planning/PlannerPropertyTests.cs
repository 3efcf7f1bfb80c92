using CsCheck;
using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Lineage.Tests.Planning;

/// <summary>Properties of plans over random DAGs and random requests, checked against definitions computed here.</summary>
public sealed class PlannerPropertyTests
{
    /// <summary>(models, seed, percentage of models with parents).</summary>
    private static readonly Gen<(int Models, int Seed, int Density)> Cases = Gen.Select(Gen.Int[1, 30], Gen.Int[0, 1_000_000], Gen.Int[0, 100]);

    private static readonly Dictionary<string, int> Classes = new(StringComparer.Ordinal) { ["d"] = 5, ["e"] = 8, ["s"] = 10 };

    [Fact]
    public void Affected_iff_root_or_has_an_affected_parent() => Cases.Sample(c =>
    {
        var (workspace, plan) = Make(c);
        var affected = plan.Affected.Select(a => a.Id).ToHashSet(StringComparer.Ordinal);
        var expectedRoots = workspace.Models.Values.Where(m => IsRoot(m, plan.Removal)).Select(m => m.Id).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedRoots, plan.Roots);
        foreach (var model in workspace.Models.Values)
        {
            var expected = expectedRoots.Contains(model.Id) || ParentsOf(model, workspace).Any(affected.Contains);
            Assert.Equal(expected, affected.Contains(model.Id));
        }
    });

    [Fact]
    public void Paths_are_shortest_real_paths_from_an_upstream_root() => Cases.Sample(c =>
    {
        var (workspace, plan) = Make(c);
        var roots = plan.Roots.ToHashSet(StringComparer.Ordinal);
        foreach (var model in plan.Affected)
        {
            Assert.Contains(model.Path[0], model.UpstreamRoots);
            Assert.Equal(model.Id, model.Path[^1]);
            for (var k = 1; k < model.Path.Count; k++)
            {
                Assert.Contains(model.Path[k - 1], ParentsOf(workspace.Models[model.Path[k]], workspace));
            }

            Assert.Equal(DistanceToNearestRoot(model.Id, roots, workspace), model.Path.Count - 1);
            if (model.Role == ModelRole.Root)
            {
                Assert.Equal([model.Id], model.Path);
            }
        }
    });

    [Fact]
    public void Upstream_roots_are_the_roots_among_ancestors_or_self() => Cases.Sample(c =>
    {
        var (workspace, plan) = Make(c);
        var graph = LineageGraph.Build(workspace);
        foreach (var model in plan.Affected)
        {
            var ancestorsOrSelf = AncestorsOrSelf(model.Id, workspace);
            var expected = plan.Roots.Where(ancestorsOrSelf.Contains).ToList();
            Assert.Equal(expected, model.UpstreamRoots);
            Assert.Equal(ancestorsOrSelf.Where(a => a != model.Id).Order(StringComparer.Ordinal), graph.Ancestors(model.Id));
        }
    });

    [Fact]
    public void Waves_put_every_affected_parent_first_at_the_longest_path_depth() => Cases.Sample(c =>
    {
        var (workspace, plan) = Make(c);
        var waveOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var w = 0; w < plan.Waves.Count; w++)
        {
            Assert.NotEmpty(plan.Waves[w]);
            Assert.Equal(plan.Waves[w].Order(StringComparer.Ordinal), plan.Waves[w]);
            foreach (var id in plan.Waves[w])
            {
                waveOf.Add(id, w);
            }
        }

        Assert.Equal(plan.Affected.Count, waveOf.Count);
        var position = plan.Affected.Select((a, k) => (a.Id, k)).ToDictionary(x => x.Id, x => x.k, StringComparer.Ordinal);
        foreach (var model in plan.Affected)
        {
            Assert.Equal(waveOf[model.Id], model.Wave);
            var affectedParents = ParentsOf(workspace.Models[model.Id], workspace).Where(waveOf.ContainsKey).ToList();
            Assert.All(affectedParents, p => Assert.True(waveOf[p] < model.Wave));
            Assert.All(affectedParents, p => Assert.True(position[p] < position[model.Id]));
            Assert.Equal(affectedParents.Count == 0 ? 0 : affectedParents.Max(p => waveOf[p]) + 1, model.Wave);
        }
    });

    [Fact]
    public void Roots_descendants_and_unaffected_partition_the_models() => Cases.Sample(c =>
    {
        var (workspace, plan) = Make(c);
        var roots = plan.Affected.Where(a => a.Role == ModelRole.Root).Select(a => a.Id).ToList();
        var descendants = plan.Affected.Where(a => a.Role == ModelRole.Descendant).Select(a => a.Id).ToList();
        Assert.Equal(plan.Roots, roots.Order(StringComparer.Ordinal));
        var all = roots.Concat(descendants).Concat(plan.Unaffected).ToList();
        Assert.Equal(workspace.Models.Count, all.Count);
        Assert.Equal(workspace.Models.Keys.Order(StringComparer.Ordinal), all.Order(StringComparer.Ordinal));
        Assert.Equal(plan.Unaffected.Order(StringComparer.Ordinal), plan.Unaffected);
        Assert.Equal(plan.Affected.Count == 0, plan.IsEmpty);
    });

    [Fact]
    public void Plans_do_not_depend_on_the_order_manifests_were_added() => Cases.Sample(c =>
    {
        var first = PlannerScenarioTests.Snapshot(Make(c).Plan);
        var reversed = PlannerScenarioTests.Snapshot(Make(c, reverse: true).Plan);
        Assert.Equal(first, reversed);
    }, iter: 50);

    private static (Workspace Workspace, RemovalPlan Plan) Make((int Models, int Seed, int Density) c, bool reverse = false)
    {
        var rng = new Random(c.Seed);
        var names = Enumerable.Range(0, c.Models).Select(i => $"m{i:D2}").OrderBy(_ => rng.Next()).ToArray();
        var models = new List<(string Id, List<DataSpec> Data, List<ParentSpec> Parents)>();
        for (var i = 0; i < c.Models; i++)
        {
            var parents = new List<ParentSpec>();
            if (i > 0 && rng.Next(100) < c.Density)
            {
                var count = rng.Next(1, Math.Min(i, 4) + 1);
                var relation = count == 1
                    ? new[] { Relation.Finetune, Relation.Transfer, Relation.Distill }[rng.Next(3)]
                    : rng.Next(2) == 0 ? Relation.Aggregate : Relation.Merge;
                foreach (var j in Enumerable.Range(0, i).OrderBy(_ => rng.Next()).Take(count))
                {
                    parents.Add(new ParentSpec(names[j], relation));
                }
            }

            var data = new List<DataSpec>();
            for (var k = rng.Next(0, 3); k > 0; k--)
            {
                var dataset = new[] { "d", "e", "s" }[rng.Next(3)];
                data.Add(rng.Next(2) == 0
                    ? new DataSpec(dataset, null)
                    : new DataSpec(dataset, [.. Enumerable.Range(0, Classes[dataset]).OrderBy(_ => rng.Next()).Take(rng.Next(1, 4)).Order()]));
            }

            models.Add((names[i], data, parents));
        }

        var kind = rng.Next(3);
        var labels = kind == 1 ? [] : Enumerable.Range(0, 9).OrderBy(_ => rng.Next()).Take(rng.Next(1, 3)).ToList();
        var samples = kind == 0 ? [] : new List<SampleSpec>
        {
            new(rng.Next(2) == 0 ? "s" : "e", [rng.Next(100), 100 + rng.Next(100)], rng.Next(4) == 0 ? "test" : "train"),
        };

        var builder = new WorkspaceBuilder().Dataset("d", classes: Classes["d"]).Dataset("e", classes: Classes["e"]).Dataset("s", classes: Classes["s"], format: "csv");
        foreach (var (id, data, parents) in reverse ? Enumerable.Reverse(models) : models)
        {
            builder.Model(id, data: data, parents: parents, architecture: WorkspaceBuilder.Mlp(10));
        }

        var workspace = builder.Removal("r", labels: labels, samples: samples).Build();
        return (workspace, PlannerScenarioTests.PlanOf(workspace, "r"));
    }

    private static bool IsRoot(ModelManifest model, RemovalManifest removal) =>
        model.Data.Any(use =>
            removal.Labels.Any(l => use.Labels is null ? l < Classes[use.Dataset] : use.Labels.Contains(l))
            || removal.Samples.Any(s => s.Dataset == use.Dataset && s.Split == use.Split && s.Indices.Count > 0));

    private static IEnumerable<string> ParentsOf(ModelManifest model, Workspace workspace) =>
        model.Parents.Select(p => p.Id).Where(workspace.Models.ContainsKey).Distinct();

    private static HashSet<string> AncestorsOrSelf(string id, Workspace workspace)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { id };
        var stack = new Stack<string>([id]);
        while (stack.Count > 0)
        {
            foreach (var p in ParentsOf(workspace.Models[stack.Pop()], workspace))
            {
                if (seen.Add(p))
                {
                    stack.Push(p);
                }
            }
        }

        return seen;
    }

    /// <summary>Breadth-first search up the parent links to the nearest root.</summary>
    private static int DistanceToNearestRoot(string id, HashSet<string> roots, Workspace workspace)
    {
        var distance = new Dictionary<string, int>(StringComparer.Ordinal) { [id] = 0 };
        var queue = new Queue<string>([id]);
        while (queue.Count > 0)
        {
            var v = queue.Dequeue();
            if (roots.Contains(v))
            {
                return distance[v];
            }

            foreach (var p in ParentsOf(workspace.Models[v], workspace))
            {
                if (distance.TryAdd(p, distance[v] + 1))
                {
                    queue.Enqueue(p);
                }
            }
        }

        return -1;
    }
}
