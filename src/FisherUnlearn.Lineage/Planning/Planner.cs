using System.Globalization;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Text;

namespace FisherUnlearn.Lineage.Planning;

/// <summary>
/// Works out which models a removal request affects (design.md section 2): the <b>roots</b> are the models whose own
/// <c>data</c> holds forgotten labels or samples; the <b>affected</b> models are the roots and all their descendants.
/// </summary>
/// <remarks>
/// <para><b>Labels.</b> A model is a root when one of its own data uses covers a forgotten label
/// (<see cref="DataUse.Covers"/>) that its dataset has: a use of every label of a 5-class dataset does not hold label 7.
/// When the dataset is unknown (a validation error), the label count cannot be checked and the use counts as holding it.</para>
/// <para><b>Samples.</b> A model is a root when one of its own data uses trains on the dataset and split of a sample
/// selection. This is conservative: a use restricted to some labels may hold none of the selected samples, but
/// knowing a sample's label means reading the dataset, which planning never does. At worst a model is unlearned
/// needlessly; a model that learned a selected sample is never missed.</para>
/// <para>A descendant that also trains on forgotten data itself is a root too (it may then have other upstream roots).
/// Everything runs over index arrays in time linear in models and links, plus the upstream-root sets.</para>
/// </remarks>
public static class Planner
{
    /// <summary>Plans the workspace's removal request <paramref name="removalId"/>. Fails with FUL2006 for an unknown request
    /// and with FUL2003 when the lineage has cycles (no work order exists); reports FUL2012 (info) when nothing is affected.</summary>
    public static Result<RemovalPlan> Plan(Workspace workspace, string removalId)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(removalId);
        if (!workspace.Removals.TryGetValue(removalId, out var removal))
        {
            var known = workspace.Removals.Keys.Order(StringComparer.Ordinal).ToList();
            var hint = EditDistance.Closest(removalId, known) is { } h ? $" (did you mean '{h}'?)" : string.Empty;
            return Result<RemovalPlan>.Failure(
                [Diagnostic.Create(DiagnosticCatalogue.RemovalNotFound, null, removalId, NameList.Quoted(known) + hint)]);
        }

        var graph = LineageGraph.Build(workspace);
        if (graph.HasCycles)
        {
            return Result<RemovalPlan>.Failure([.. GraphValidator.CycleDiagnostics(graph)]);
        }

        var plan = Plan(workspace, graph, removal);
        return plan.IsEmpty
            ? Result<RemovalPlan>.Success(plan, [Diagnostic.Create(DiagnosticCatalogue.NothingAffected, removal.Location, removal.Id)])
            : Result<RemovalPlan>.Success(plan);
    }

    /// <summary>Plans a removal request over a graph of the workspace. Tolerant of validation errors; with cycles the
    /// plan is still complete, but its order and waves are only best effort.</summary>
    public static RemovalPlan Plan(Workspace workspace, LineageGraph graph, RemovalManifest removal)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(removal);
        var n = graph.Count;
        var request = new Request(workspace, removal);

        // 1. Roots: what of its own data each model must forget.
        var rootLabels = new IReadOnlyList<DatasetLabels>?[n];
        var rootSamples = new IReadOnlyList<SampleSelection>?[n];
        var roots = new List<int>();
        for (var i = 0; i < n; i++)
        {
            var (labels, samples) = request.Hits(graph.ManifestAt(i));
            if (labels.Count > 0 || samples.Count > 0)
            {
                rootLabels[i] = labels;
                rootSamples[i] = samples;
                roots.Add(i);
            }
        }

        // 2. Affected = roots + descendants, with the distance from the nearest root (multi-source BFS).
        var distance = new int[n];
        Array.Fill(distance, -1);
        var queue = new Queue<int>();
        foreach (var r in roots)
        {
            distance[r] = 0;
            queue.Enqueue(r);
        }

        while (queue.Count > 0)
        {
            var v = queue.Dequeue();
            foreach (var c in graph.ChildIndices(v))
            {
                if (distance[c] < 0)
                {
                    distance[c] = distance[v] + 1;
                    queue.Enqueue(c);
                }
            }
        }

        // 3. Work order: Kahn over the affected subgraph, ties by index (= ordinal id), and longest-path waves.
        var order = AffectedOrder(graph, distance);
        var wave = new int[n];
        foreach (var v in order)
        {
            var w = 0;
            foreach (var p in graph.ParentIndices(v))
            {
                if (distance[p] >= 0)
                {
                    w = Math.Max(w, wave[p] + 1);
                }
            }

            wave[v] = w;
        }

        // 4. Upstream roots: one bit per root, unioned down the order (to a fixed point when there are cycles).
        var upstream = UpstreamRoots(graph, roots, order, distance);

        // 5. Assemble.
        var affected = new List<AffectedModel>(order.Count);
        var maxWave = -1;
        foreach (var v in order)
        {
            var upstreamIds = upstream(v);
            var path = ShortestPath(graph, v, distance);
            var isRoot = rootLabels[v] is not null;
            var reason = isRoot
                ? request.RootReason(rootLabels[v]!, rootSamples[v]!, graph.IdAt(v), upstreamIds)
                : DescendantReason(graph, path, upstreamIds);
            affected.Add(new AffectedModel(graph.IdAt(v), isRoot ? ModelRole.Root : ModelRole.Descendant, upstreamIds, path, reason)
            {
                Wave = wave[v],
                ForgottenLabels = rootLabels[v] ?? [],
                SampleHits = rootSamples[v] ?? [],
            });
            maxWave = Math.Max(maxWave, wave[v]);
        }

        var waves = new List<string>[maxWave + 1];
        for (var k = 0; k < waves.Length; k++)
        {
            waves[k] = [];
        }

        var unaffected = new List<string>();
        for (var i = 0; i < n; i++)
        {
            if (distance[i] >= 0)
            {
                waves[wave[i]].Add(graph.IdAt(i));
            }
            else
            {
                unaffected.Add(graph.IdAt(i));
            }
        }

        return new RemovalPlan
        {
            RemovalId = removal.Id,
            Removal = removal,
            Roots = [.. roots.Select(graph.IdAt)],
            Affected = affected,
            Unaffected = unaffected,
            Waves = waves,
            Workspace = workspace,
            Graph = graph,
        };
    }

    /// <summary>A short multi-line explanation of why a model is affected by the plan's request, or why it is not.</summary>
    /// <exception cref="ArgumentException">No model <paramref name="modelId"/> in the plan's workspace: check first
    /// (FUL2007, with <c>did you mean</c>) and report it as an input error.</exception>
    public static string Explain(RemovalPlan plan, string modelId)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(modelId);
        var graph = plan.Graph;
        if (!graph.Contains(modelId))
        {
            throw new ArgumentException($"No model '{modelId}' in the workspace{EditDistance.DidYouMean(modelId, graph.Ids)}.", nameof(modelId));
        }

        var lines = new List<string>();
        var request = new Request(plan.Workspace, plan.Removal);
        if (plan.Find(modelId) is { } model)
        {
            lines.Add(model.Role == ModelRole.Root
                ? $"Model '{model.Id}' is a root of removal '{plan.RemovalId}': it {model.Reason}."
                : $"Model '{model.Id}' is affected by removal '{plan.RemovalId}' as a descendant: it {model.Reason}.");
            lines.Add($"Upstream roots: {string.Join(", ", model.UpstreamRoots)}");
            lines.Add($"Path: {string.Join(" -> ", model.Path)}");
            lines.Add($"Wave: {model.Wave + 1} of {plan.Waves.Count} (the work order's numbering: waves run in order; the models of a wave are independent)");
        }
        else
        {
            var manifest = graph.Manifest(modelId);
            lines.Add($"Model '{modelId}' is not affected by removal '{plan.RemovalId}', which forgets {request.Describe()}.");
            lines.Add(manifest.Data.Count == 0
                ? "Own data: none (it does not train on data of its own)."
                : $"Own data: {JoinAnd(manifest.Data.Select(request.DescribeUse))}; none of it holds what the request forgets.");
            var ancestors = graph.Ancestors(modelId);
            lines.Add(ancestors.Count switch
            {
                0 => "Ancestors: none.",
                <= 10 => $"Ancestors: {string.Join(", ", ancestors.Select(a => $"'{a}'"))}; none is affected.",
                _ => $"Ancestors: {ancestors.Count} models; none is affected.",
            });
        }

        return string.Join('\n', lines);
    }

    private static List<int> AffectedOrder(LineageGraph graph, int[] distance)
    {
        var n = graph.Count;
        var indegree = new int[n];
        var ready = new PriorityQueue<int, int>();
        var total = 0;
        for (var v = 0; v < n; v++)
        {
            if (distance[v] < 0)
            {
                continue;
            }

            total++;
            foreach (var p in graph.ParentIndices(v))
            {
                if (distance[p] >= 0)
                {
                    indegree[v]++;
                }
            }

            if (indegree[v] == 0)
            {
                ready.Enqueue(v, v);
            }
        }

        var order = new List<int>(total);
        while (ready.TryDequeue(out var v, out _))
        {
            order.Add(v);
            foreach (var c in graph.ChildIndices(v))
            {
                if (--indegree[c] == 0)
                {
                    ready.Enqueue(c, c);
                }
            }
        }

        if (order.Count < total)
        {
            // Cycles: the models that could not be ordered follow, in ordinal order.
            for (var v = 0; v < n; v++)
            {
                if (distance[v] >= 0 && indegree[v] > 0)
                {
                    order.Add(v);
                }
            }
        }

        return order;
    }

    private static Func<int, IReadOnlyList<string>> UpstreamRoots(LineageGraph graph, List<int> roots, List<int> order, int[] distance)
    {
        var words = (roots.Count + 63) / 64;
        var bits = new ulong[graph.Count][];
        for (var k = 0; k < roots.Count; k++)
        {
            var r = roots[k];
            bits[r] = new ulong[words];
            bits[r][k >> 6] |= 1UL << (k & 63);
        }

        var changed = true;
        while (changed)
        {
            changed = false;
            foreach (var v in order)
            {
                var own = bits[v] ??= new ulong[words];
                foreach (var p in graph.ParentIndices(v))
                {
                    if (distance[p] < 0 || bits[p] is not { } from)
                    {
                        continue;
                    }

                    for (var w = 0; w < words; w++)
                    {
                        var merged = own[w] | from[w];
                        if (merged != own[w])
                        {
                            own[w] = merged;
                            changed = true;
                        }
                    }
                }
            }

            // Acyclic: one pass in topological order is complete.
            changed &= graph.HasCycles;
        }

        return v =>
        {
            var result = new List<string>();
            var own = bits[v];
            for (var w = 0; w < words; w++)
            {
                var word = own[w];
                while (word != 0)
                {
                    var bit = System.Numerics.BitOperations.TrailingZeroCount(word);
                    result.Add(graph.IdAt(roots[(w << 6) + bit]));
                    word &= word - 1;
                }
            }

            return result;
        };
    }

    /// <summary>Back from the model, each step to the ordinal-first parent one step nearer a root.</summary>
    private static string[] ShortestPath(LineageGraph graph, int v, int[] distance)
    {
        var path = new string[distance[v] + 1];
        var at = v;
        for (var k = distance[v]; k >= 0; k--)
        {
            path[k] = graph.IdAt(at);
            if (k == 0)
            {
                break;
            }

            foreach (var p in graph.ParentIndices(at))
            {
                if (distance[p] == k - 1)
                {
                    at = p;
                    break;
                }
            }
        }

        return path;
    }

    private static string DescendantReason(LineageGraph graph, IReadOnlyList<string> path, IReadOnlyList<string> upstream)
    {
        var relations = new List<string>();
        for (var k = 1; k < path.Count; k++)
        {
            var relation = graph.RelationBetween(graph.IndexOf(path[k - 1]), graph.IndexOf(path[k]))?.ToName() ?? "?";
            if (!relations.Contains(relation))
            {
                relations.Add(relation);
            }
        }

        var via = $"via {string.Join(" -> ", path)} ({string.Join(", ", relations)})";
        return upstream.Count == 1
            ? $"inherits from root '{upstream[0]}' {via}"
            : $"inherits from roots {JoinAnd(upstream.Select(r => $"'{r}'"))}; nearest {via}";
    }

    internal static string JoinAnd(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count <= 1 ? string.Concat(list) : $"{string.Join(", ", list.Take(list.Count - 1))} and {list[^1]}";
    }

    /// <summary>Labels as <c>label 3</c>, <c>labels 0-7</c> or <c>labels 1, 3, 5-6</c>.</summary>
    internal static string FormatLabels(IReadOnlyList<int> labels)
    {
        var sorted = labels.Distinct().Order().ToList();
        var parts = new List<string>();
        for (var k = 0; k < sorted.Count;)
        {
            var end = k;
            while (end + 1 < sorted.Count && sorted[end + 1] == sorted[end] + 1)
            {
                end++;
            }

            parts.Add(end - k >= 2
                ? $"{sorted[k].ToString(CultureInfo.InvariantCulture)}-{sorted[end].ToString(CultureInfo.InvariantCulture)}"
                : string.Join(", ", sorted.Skip(k).Take(end - k + 1).Select(l => l.ToString(CultureInfo.InvariantCulture))));
            k = end + 1;
        }

        return (sorted.Count == 1 ? "label " : "labels ") + string.Join(", ", parts);
    }

    /// <summary>A removal request prepared for matching models' own data.</summary>
    private sealed class Request
    {
        private readonly Workspace workspace;
        private readonly RemovalManifest removal;
        private readonly int[] labels;
        private readonly HashSet<int> labelSet;
        private readonly Dictionary<(string Dataset, string Split), List<SampleSelection>> samples = [];

        public Request(Workspace workspace, RemovalManifest removal)
        {
            this.workspace = workspace;
            this.removal = removal;
            labels = [.. removal.Labels.Distinct().Order()];
            labelSet = [.. labels];
            foreach (var selection in removal.Samples)
            {
                if (selection.Indices.Count == 0)
                {
                    continue;
                }

                var key = (selection.Dataset, selection.Split);
                if (!samples.TryGetValue(key, out var list))
                {
                    samples[key] = list = [];
                }

                list.Add(selection);
            }
        }

        /// <summary>The forgotten labels per dataset and the sample selections that a model's own data holds.</summary>
        public (IReadOnlyList<DatasetLabels> Labels, IReadOnlyList<SampleSelection> Samples) Hits(ModelManifest model)
        {
            List<DatasetLabels>? labelHits = null;
            List<SampleSelection>? sampleHits = null;
            foreach (var use in model.Data)
            {
                if (labels.Length > 0)
                {
                    var covered = CoveredLabels(use);
                    if (covered.Count > 0)
                    {
                        labelHits ??= [];
                        var at = labelHits.FindIndex(h => h.Dataset == use.Dataset);
                        if (at < 0)
                        {
                            labelHits.Add(new DatasetLabels(use.Dataset, covered));
                        }
                        else
                        {
                            labelHits[at] = labelHits[at] with { Labels = [.. labelHits[at].Labels.Union(covered).Order()] };
                        }
                    }
                }

                if (samples.TryGetValue((use.Dataset, use.Split), out var selections))
                {
                    sampleHits ??= [];
                    foreach (var s in selections)
                    {
                        if (!sampleHits.Contains(s))
                        {
                            sampleHits.Add(s);
                        }
                    }
                }
            }

            if (sampleHits is { Count: > 1 })
            {
                // Request order, whatever the order of the model's data.
                var hit = new HashSet<SampleSelection>(sampleHits, ReferenceEqualityComparer.Instance);
                sampleHits = [.. removal.Samples.Where(hit.Contains)];
            }

            return (labelHits ?? (IReadOnlyList<DatasetLabels>)[], sampleHits ?? (IReadOnlyList<SampleSelection>)[]);
        }

        public string RootReason(IReadOnlyList<DatasetLabels> labelHits, IReadOnlyList<SampleSelection> sampleHits, string id, IReadOnlyList<string> upstream)
        {
            var parts = labelHits.Select(h => $"{FormatLabels(h.Labels)} of {h.Dataset}").ToList();
            foreach (var group in sampleHits.GroupBy(s => (s.Dataset, s.Split)))
            {
                var count = group.SelectMany(s => s.Indices).Distinct().Count();
                // The split the samples come from, not the samples themselves: planning does not read their labels, so a use of
                // some labels counts whether or not it holds them (QA: "trains on 856 selected samples" of a model that has
                // none of their label).
                parts.Add($"the {group.Key.Split} split of {group.Key.Dataset}, which {count} selected sample{(count == 1 ? " comes" : "s come")} from");
            }

            var reason = $"trains on {JoinAnd(parts)}";
            var others = upstream.Where(r => r != id).Select(r => $"'{r}'").ToList();
            return others.Count == 0 ? reason
                : $"{reason}; it also inherits from root{(others.Count == 1 ? string.Empty : "s")} {JoinAnd(others)}";
        }

        /// <summary>What the request forgets, e.g. <c>label 3 and 2 samples of feedback (train split)</c>.</summary>
        public string Describe()
        {
            var parts = new List<string>();
            if (labels.Length > 0)
            {
                parts.Add(FormatLabels(labels));
            }

            foreach (var ((dataset, split), selections) in samples)
            {
                var count = selections.SelectMany(s => s.Indices).Distinct().Count();
                parts.Add($"{count} sample{(count == 1 ? string.Empty : "s")} of {dataset} ({split} split)");
            }

            return parts.Count == 0 ? "nothing" : JoinAnd(parts);
        }

        /// <summary>One data use, e.g. <c>labels 0-7 of mnist</c> or <c>every label of mnist (10 classes)</c>.</summary>
        public string DescribeUse(DataUse use)
        {
            var what = use.Labels is { } l
                ? $"{FormatLabels(l)} of {use.Dataset}"
                : workspace.Datasets.TryGetValue(use.Dataset, out var d)
                    ? $"every label of {use.Dataset} ({d.Classes} classes)"
                    : $"every label of {use.Dataset}";
            return use.Split == "train" ? what : $"{what} ({use.Split} split)";
        }

        private List<int> CoveredLabels(DataUse use)
        {
            var covered = new List<int>();
            if (use.Labels is { } own)
            {
                foreach (var label in own)
                {
                    if (labelSet.Contains(label) && !covered.Contains(label))
                    {
                        covered.Add(label);
                    }
                }

                covered.Sort();
                return covered;
            }

            int? classes = workspace.Datasets.TryGetValue(use.Dataset, out var dataset) ? dataset.Classes : null;
            foreach (var label in labels)
            {
                if (label >= 0 && (classes is null || label < classes))
                {
                    covered.Add(label);
                }
            }

            return covered;
        }
    }
}
