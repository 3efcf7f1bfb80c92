using System.Globalization;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>
/// What of a lineage manifest shapes a model's weights and what unlearning does with them, as stable text: its id,
/// architecture, parents and their relation, data entries, and recipe as training reads it. Not where its checkpoint lies
/// (the checkpoint counts by its content), nor a setting training ignores (FUL1026), nor <c>x-</c> fields: a change to
/// those retrains nothing and makes no output stale (found in QA: moving a checkpoint retrained the model and every
/// descendant, and made every output of the lineage stale). A data entry's labels count as a set, in ascending order
/// (training selects the samples of those labels in the split's own order; QA: reordering them retrained the model and
/// its descendants to the same weights); the entries themselves count in order, which is the order training reads them.
/// </summary>
public static class ModelContent
{
    /// <summary>The model's content (<see cref="ModelContent"/>).</summary>
    public static string Of(ModelManifest model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return string.Join('\n', new[] { $"model {model.Id}", Architecture(model.Architecture), Recipe(model.Training, model.Relation) }
            .Concat(model.Parents.Select(p => $"parent {p.Id} {p.Relation.ToName()}"))
            .Concat(model.Data.Select(use => $"data {use.Dataset} {use.Split} {(use.Labels is null ? "*" : string.Join(',', use.Labels.Distinct().Order()))}")));
    }

    /// <summary>The recipe as stable text (invariant culture, round-trip doubles), with only what training reads:
    /// <c>momentum</c> for <c>sgd</c>, <c>temperature</c> for a <c>distill</c> student.</summary>
    public static string Recipe(TrainingRecipe? recipe, Relation? relation) => recipe is null ? "no recipe" : string.Create(CultureInfo.InvariantCulture,
        $"epochs={recipe.Epochs};batchSize={recipe.BatchSize};optimizer={recipe.Optimizer};learningRate={recipe.LearningRate:R};momentum={(recipe.Optimizer == "sgd" ? recipe.Momentum : 0):R};weightDecay={recipe.WeightDecay:R};seed={recipe.Seed};trainable={string.Join(',', recipe.Trainable)};temperature={(relation == Relation.Distill ? recipe.Temperature : 0):R}");

    /// <summary>Everything of the architecture that shapes the module (the assembly of a custom one counts by its content,
    /// hashed beside this, so where it lies does not).</summary>
    public static string Architecture(ArchitectureSpec architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        return string.Create(CultureInfo.InvariantCulture,
            $"architecture kind={architecture.Kind};inputs={architecture.Inputs};hidden={string.Join(',', architecture.Hidden)};inputShape={string.Join(',', architecture.InputShape)};classes={architecture.Classes};type={architecture.Type}");
    }
}
