using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Lineage.Planning;

/// <summary>Why a model is in a plan: its own data holds forgotten data, or it inherits from a model that does.</summary>
public enum ModelRole
{
    /// <summary>The model's own <c>data</c> holds forgotten labels or samples (it may also inherit them).</summary>
    Root,

    /// <summary>The model learned forgotten data only through its ancestors.</summary>
    Descendant,
}

/// <summary>Forgotten labels that a root's own data holds in one dataset (ascending).</summary>
public sealed record DatasetLabels(string Dataset, IReadOnlyList<int> Labels);

/// <summary>
/// One affected model of a plan.
/// </summary>
/// <param name="Id">The model id.</param>
/// <param name="Role">Root or descendant.</param>
/// <param name="UpstreamRoots">The roots the model is, or descends from (ordinal order; a root lists itself).</param>
/// <param name="Path">One shortest path from an upstream root to the model, both included; a root's path is itself.
/// Ties are broken by taking, at each step back from the model, the ordinal-first parent at the shortest distance.</param>
/// <param name="Reason">Why the model is affected, for people.</param>
public sealed record AffectedModel(string Id, ModelRole Role, IReadOnlyList<string> UpstreamRoots, IReadOnlyList<string> Path, string Reason)
{
    /// <summary>The model's wave in the work order (see <see cref="RemovalPlan.Waves"/>).</summary>
    public int Wave { get; init; }

    /// <summary>For a root: the forgotten labels its own data holds, per dataset (in the order of its data). Empty for a descendant.</summary>
    public IReadOnlyList<DatasetLabels> ForgottenLabels { get; init; } = [];

    /// <summary>For a root: the request's sample selections that hit its own data (in request order). Empty for a descendant.</summary>
    public IReadOnlyList<SampleSelection> SampleHits { get; init; } = [];
}

/// <summary>
/// What a removal request affects and in which order to work. Build it with <see cref="Planner"/>.
/// </summary>
public sealed record RemovalPlan
{
    private Dictionary<string, AffectedModel>? byId;

    public required string RemovalId { get; init; }

    /// <summary>The request the plan is for.</summary>
    public required RemovalManifest Removal { get; init; }

    /// <summary>Models whose own data holds forgotten labels or samples (ordinal order).</summary>
    public required IReadOnlyList<string> Roots { get; init; }

    /// <summary>Roots and all their descendants, parents before children, ties by ordinal id.</summary>
    public required IReadOnlyList<AffectedModel> Affected { get; init; }

    /// <summary>Every other model (ordinal order).</summary>
    public required IReadOnlyList<string> Unaffected { get; init; }

    /// <summary>
    /// The work order: the topological levels of the affected subgraph. A model's wave is the length of the longest
    /// path of affected models that reaches it, so wave 0 holds the roots with no affected parent and every affected
    /// parent of a model is in an earlier wave. Models of one wave are independent (ordinal order within a wave).
    /// </summary>
    public required IReadOnlyList<IReadOnlyList<string>> Waves { get; init; }

    /// <summary>True when the request touches no model.</summary>
    public bool IsEmpty => Affected.Count == 0;

    internal Workspace Workspace { get; init; } = null!;

    internal LineageGraph Graph { get; init; } = null!;

    /// <summary>The affected model with this id, or null when it is unaffected or unknown.</summary>
    public AffectedModel? Find(string modelId) =>
        (byId ??= Affected.ToDictionary(a => a.Id, StringComparer.Ordinal)).GetValueOrDefault(modelId);

    public bool IsAffected(string modelId) => Find(modelId) is not null;
}
