namespace FisherUnlearn.Lineage.Manifests;

/// <summary>How a child model was made from its parent(s).</summary>
public enum Relation
{
    /// <summary>Continue training from one parent.</summary>
    Finetune,

    /// <summary>Average two or more parents element-wise, then train (federated or data-parallel).</summary>
    Aggregate,

    /// <summary>Copy one parent and train only some parameters (<see cref="TrainingRecipe.Trainable"/>).</summary>
    Transfer,

    /// <summary>Train a student on a teacher's softened outputs; architectures may differ.</summary>
    Distill,

    /// <summary>Combine two or more parents' weights without training.</summary>
    Merge,
}

public static class RelationNames
{
    public static IReadOnlyList<string> All { get; } = ["finetune", "aggregate", "transfer", "distill", "merge"];

    public static string ToName(this Relation relation) => relation.ToString().ToLowerInvariant();

    public static bool TryParse(string name, out Relation relation)
    {
        switch (name)
        {
            case "finetune": relation = Relation.Finetune; return true;
            case "aggregate": relation = Relation.Aggregate; return true;
            case "transfer": relation = Relation.Transfer; return true;
            case "distill": relation = Relation.Distill; return true;
            case "merge": relation = Relation.Merge; return true;
            default: relation = default; return false;
        }
    }

    /// <summary>Relations that combine several parents.</summary>
    public static bool CombinesParents(this Relation relation) => relation is Relation.Aggregate or Relation.Merge;

    /// <summary>Relations whose child starts from the parents' weights, so architectures must match.</summary>
    public static bool InheritsWeights(this Relation relation) => relation is not Relation.Distill;
}
