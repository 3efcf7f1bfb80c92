using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Lineage.Graph;

/// <summary>
/// The model graph (UMIG) of a workspace: one node per model, an edge parent -> child per parent link.
/// Nodes are numbered in ordinal order of their ids, so "ties broken by index" means "ties broken by ordinal id".
/// </summary>
/// <remarks>
/// Building is tolerant of manifest errors, which <see cref="GraphValidator"/> reports: links to unknown models
/// and self-links are skipped, duplicate links are collapsed, and a graph with cycles is still built
/// (<see cref="HasCycles"/> is then true and <see cref="TopologicalOrder"/> ends with the models that could
/// not be ordered). Everything is computed over arrays of indices: building is linear in models plus links.
/// </remarks>
public sealed class LineageGraph
{
    private readonly string[] ids;
    private readonly ModelManifest[] manifests;
    private readonly Dictionary<string, int> indexById;
    private readonly int[][] parents;
    private readonly Relation[][] parentRelations;
    private readonly int[][] children;
    private readonly int[] topological;
    private readonly int orderedCount;
    private IReadOnlyList<IReadOnlyList<int>>? cycles;

    private LineageGraph(string[] ids, ModelManifest[] manifests, Dictionary<string, int> indexById, int[][] parents, Relation[][] parentRelations, int[][] children)
    {
        this.ids = ids;
        this.manifests = manifests;
        this.indexById = indexById;
        this.parents = parents;
        this.parentRelations = parentRelations;
        this.children = children;
        (topological, orderedCount) = Kahn();
        Ids = ids;
        TopologicalIndices = topological;
        TopologicalOrder = Array.ConvertAll(topological, i => ids[i]);
    }

    /// <summary>Number of models.</summary>
    public int Count => ids.Length;

    /// <summary>Every model id, in ordinal order; the position of an id is its index.</summary>
    public IReadOnlyList<string> Ids { get; }

    /// <summary>Every model, parents before children, ties broken by ordinal id (Kahn's algorithm). With cycles,
    /// the models that could not be ordered (on a cycle or downstream of one) come last, in ordinal order.</summary>
    public IReadOnlyList<string> TopologicalOrder { get; }

    /// <summary><see cref="TopologicalOrder"/> as indices.</summary>
    public IReadOnlyList<int> TopologicalIndices { get; }

    /// <summary>True when some parent links form a cycle (FUL2003).</summary>
    public bool HasCycles => orderedCount < ids.Length;

    /// <summary>The models that topological order could not place: on a cycle or downstream of one (ordinal order).</summary>
    public IReadOnlyList<string> UnorderedModels =>
        [.. topological.Skip(orderedCount).Order().Select(i => ids[i])];

    /// <summary>One cycle per strongly connected group of models, each as the ids along it in lineage direction
    /// (<c>[a, b, c]</c> means a -> b -> c -> a), starting at the group's ordinal-first model; empty without cycles.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Cycles =>
        [.. CycleIndices.Select(c => (IReadOnlyList<string>)[.. c.Select(i => ids[i])])];

    internal IReadOnlyList<IReadOnlyList<int>> CycleIndices => cycles ??= FindCycles();

    /// <summary>Builds the graph of the workspace's models.</summary>
    public static LineageGraph Build(Workspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        var ids = workspace.Models.Keys.ToArray();
        Array.Sort(ids, StringComparer.Ordinal);
        var indexById = new Dictionary<string, int>(ids.Length, StringComparer.Ordinal);
        for (var i = 0; i < ids.Length; i++)
        {
            indexById[ids[i]] = i;
        }

        var manifests = new ModelManifest[ids.Length];
        var parents = new int[ids.Length][];
        var relations = new Relation[ids.Length][];
        var childCounts = new int[ids.Length];
        var seen = new HashSet<int>();
        for (var i = 0; i < ids.Length; i++)
        {
            var manifest = workspace.Models[ids[i]];
            manifests[i] = manifest;
            seen.Clear();
            var links = new List<(int Index, Relation Relation)>(manifest.Parents.Count);
            foreach (var link in manifest.Parents)
            {
                if (indexById.TryGetValue(link.Id, out var p) && p != i && seen.Add(p))
                {
                    links.Add((p, link.Relation));
                    childCounts[p]++;
                }
            }

            links.Sort((a, b) => a.Index.CompareTo(b.Index));
            parents[i] = [.. links.Select(l => l.Index)];
            relations[i] = [.. links.Select(l => l.Relation)];
        }

        var children = new int[ids.Length][];
        for (var i = 0; i < ids.Length; i++)
        {
            children[i] = new int[childCounts[i]];
            childCounts[i] = 0;
        }

        // Children are filled in increasing child index, so each list comes out sorted.
        for (var c = 0; c < ids.Length; c++)
        {
            foreach (var p in parents[c])
            {
                children[p][childCounts[p]++] = c;
            }
        }

        return new LineageGraph(ids, manifests, indexById, parents, relations, children);
    }

    public bool Contains(string id) => indexById.ContainsKey(id);

    /// <summary>The index of a model, or -1 when there is no such model.</summary>
    public int IndexOf(string id) => indexById.TryGetValue(id, out var i) ? i : -1;

    public string IdAt(int index) => ids[index];

    public ModelManifest ManifestAt(int index) => manifests[index];

    public ModelManifest Manifest(string id) => manifests[RequireIndex(id)];

    /// <summary>The known parents of a model (distinct, ordinal order, never itself).</summary>
    public IReadOnlyList<int> ParentIndices(int index) => parents[index];

    /// <summary>The children of a model (ordinal order).</summary>
    public IReadOnlyList<int> ChildIndices(int index) => children[index];

    /// <summary>The relation of the link from <paramref name="parent"/> to <paramref name="child"/>, or null without such a link.</summary>
    public Relation? RelationBetween(int parent, int child)
    {
        var at = Array.BinarySearch(parents[child], parent);
        return at >= 0 ? parentRelations[child][at] : null;
    }

    public IReadOnlyList<string> Parents(string id) => ToIds(parents[RequireIndex(id)]);

    public IReadOnlyList<string> Children(string id) => ToIds(children[RequireIndex(id)]);

    /// <summary>Every model the given one inherits from, directly or not (ordinal order, without itself).</summary>
    public IReadOnlyList<string> Ancestors(string id) => ToIds(Reach([RequireIndex(id)], parents));

    /// <summary>Every model the given ones inherit from, directly or not, in one pass (ordinal order, without the given
    /// ones themselves).</summary>
    public IReadOnlyList<string> Ancestors(IEnumerable<string> ids) => ToIds(Reach([.. ids.Distinct(StringComparer.Ordinal).Select(RequireIndex)], parents));

    /// <summary>Every model made from the given one, directly or not (ordinal order, without itself).</summary>
    public IReadOnlyList<string> Descendants(string id) => ToIds(Reach([RequireIndex(id)], children));

    /// <summary>Indices reachable from <paramref name="start"/> along parent links (sorted).</summary>
    public IReadOnlyList<int> AncestorIndices(int start) => Reach([start], parents);

    /// <summary>Indices reachable from <paramref name="start"/> along child links (sorted).</summary>
    public IReadOnlyList<int> DescendantIndices(int start) => Reach([start], children);

    /// <summary>The starts and everything downstream of them, as a membership array (breadth-first, no recursion).</summary>
    internal bool[] DownstreamClosure(IEnumerable<int> starts)
    {
        var mark = new bool[ids.Length];
        var queue = new Queue<int>();
        foreach (var s in starts)
        {
            if (!mark[s])
            {
                mark[s] = true;
                queue.Enqueue(s);
            }
        }

        while (queue.Count > 0)
        {
            foreach (var c in children[queue.Dequeue()])
            {
                if (!mark[c])
                {
                    mark[c] = true;
                    queue.Enqueue(c);
                }
            }
        }

        return mark;
    }

    private int RequireIndex(string id) =>
        indexById.TryGetValue(id, out var i) ? i : throw new KeyNotFoundException($"No model '{id}' in the lineage graph.");

    private string[] ToIds(IReadOnlyList<int> indices)
    {
        var result = new string[indices.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = ids[indices[i]];
        }

        return result;
    }

    private int[] Reach(int[] starts, int[][] adjacency)
    {
        var mark = new bool[ids.Length];
        var stack = new Stack<int>(starts);
        var found = new List<int>();
        foreach (var s in starts)
        {
            mark[s] = true;
        }

        while (stack.Count > 0)
        {
            foreach (var n in adjacency[stack.Pop()])
            {
                if (!mark[n])
                {
                    mark[n] = true;
                    found.Add(n);
                    stack.Push(n);
                }
            }
        }

        found.Sort();
        return [.. found];
    }

    private (int[] Order, int Ordered) Kahn()
    {
        var n = ids.Length;
        var indegree = new int[n];
        var ready = new PriorityQueue<int, int>();
        for (var i = 0; i < n; i++)
        {
            indegree[i] = parents[i].Length;
            if (indegree[i] == 0)
            {
                ready.Enqueue(i, i);
            }
        }

        var order = new int[n];
        var count = 0;
        while (ready.TryDequeue(out var v, out _))
        {
            order[count++] = v;
            foreach (var c in children[v])
            {
                if (--indegree[c] == 0)
                {
                    ready.Enqueue(c, c);
                }
            }
        }

        var ordered = count;
        for (var i = 0; i < n; i++)
        {
            if (indegree[i] > 0)
            {
                order[count++] = i;
            }
        }

        return (order, ordered);
    }

    /// <summary>Tarjan's strongly connected components (iterative) over the unordered models, then the shortest
    /// cycle through each component's first model.</summary>
    private IReadOnlyList<IReadOnlyList<int>> FindCycles()
    {
        if (!HasCycles)
        {
            return [];
        }

        var n = ids.Length;
        var candidate = new bool[n];
        for (var k = orderedCount; k < n; k++)
        {
            candidate[topological[k]] = true;
        }

        var index = new int[n];
        var low = new int[n];
        var onStack = new bool[n];
        var component = new int[n];
        Array.Fill(index, -1);
        Array.Fill(component, -1);
        var sccStack = new Stack<int>();
        var callStack = new Stack<(int Node, int NextChild)>();
        var counter = 0;
        var components = new List<List<int>>();

        for (var root = 0; root < n; root++)
        {
            if (!candidate[root] || index[root] >= 0)
            {
                continue;
            }

            callStack.Push((root, 0));
            index[root] = low[root] = counter++;
            sccStack.Push(root);
            onStack[root] = true;
            while (callStack.Count > 0)
            {
                var (v, next) = callStack.Pop();
                var kids = children[v];
                var descended = false;
                while (next < kids.Length)
                {
                    var w = kids[next++];
                    if (!candidate[w])
                    {
                        continue;
                    }

                    if (index[w] < 0)
                    {
                        callStack.Push((v, next));
                        index[w] = low[w] = counter++;
                        sccStack.Push(w);
                        onStack[w] = true;
                        callStack.Push((w, 0));
                        descended = true;
                        break;
                    }

                    if (onStack[w])
                    {
                        low[v] = Math.Min(low[v], index[w]);
                    }
                }

                if (descended)
                {
                    continue;
                }

                if (low[v] == index[v])
                {
                    var members = new List<int>();
                    int w;
                    do
                    {
                        w = sccStack.Pop();
                        onStack[w] = false;
                        component[w] = components.Count;
                        members.Add(w);
                    }
                    while (w != v);
                    components.Add(members);
                }

                if (callStack.Count > 0)
                {
                    var parent = callStack.Peek().Node;
                    low[parent] = Math.Min(low[parent], low[v]);
                }
            }
        }

        var result = new List<(int First, IReadOnlyList<int> Cycle)>();
        for (var c = 0; c < components.Count; c++)
        {
            if (components[c].Count < 2)
            {
                continue; // self-links are not edges of the graph, so a single model is never a cycle
            }

            var start = components[c].Min();
            result.Add((start, ShortestCycle(start, component, c)));
        }

        result.Sort((a, b) => a.First.CompareTo(b.First));
        return [.. result.Select(r => r.Cycle)];
    }

    /// <summary>Breadth-first search from <paramref name="start"/> along child links inside its component, back to
    /// itself; children are visited in ordinal order, so the cycle is deterministic.</summary>
    private int[] ShortestCycle(int start, int[] component, int c)
    {
        var previous = new Dictionary<int, int> { [start] = -1 };
        var queue = new Queue<int>();
        queue.Enqueue(start);
        while (queue.Count > 0)
        {
            var v = queue.Dequeue();
            foreach (var w in children[v])
            {
                if (component[w] != c)
                {
                    continue;
                }

                if (w == start)
                {
                    var path = new List<int>();
                    for (var x = v; x != -1; x = previous[x])
                    {
                        path.Add(x);
                    }

                    path.Reverse();
                    return [.. path];
                }

                if (previous.TryAdd(w, v))
                {
                    queue.Enqueue(w);
                }
            }
        }

        throw new InvalidOperationException("A strongly connected component without a cycle through its first model.");
    }
}
