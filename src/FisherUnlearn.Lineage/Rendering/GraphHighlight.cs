using FisherUnlearn.Lineage.Planning;

namespace FisherUnlearn.Lineage.Rendering;

/// <summary>Which models to mark in a picture of the lineage: the roots of a removal and the other affected models.</summary>
public sealed record GraphHighlight(IReadOnlySet<string> Roots, IReadOnlySet<string> Affected)
{
    public static GraphHighlight None { get; } = new(new HashSet<string>(), new HashSet<string>()) { ForRemoval = false };

    /// <summary>True when the picture is of a removal: every model not affected is then marked unaffected, also when
    /// the removal affects none.</summary>
    public bool ForRemoval { get; init; } = true;

    /// <summary>The roots and affected models of a removal's plan.</summary>
    public static GraphHighlight Of(RemovalPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return new GraphHighlight(plan.Roots.ToHashSet(StringComparer.Ordinal), plan.Affected.Select(a => a.Id).ToHashSet(StringComparer.Ordinal));
    }

    public string? ClassOf(string modelId) =>
        Roots.Contains(modelId) ? "root"
        : Affected.Contains(modelId) ? "affected"
        : ForRemoval ? "unaffected"
        : null;
}
