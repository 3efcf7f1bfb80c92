using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>A lineage manifest (<c>*.lineage.json</c>): one model, its checkpoint, parents, own data and recipe.</summary>
public sealed record ModelManifest
{
    public required string Id { get; init; }

    /// <summary>Absolute path of the manifest file.</summary>
    public required string ManifestPath { get; init; }

    /// <summary>Absolute path of the checkpoint (resolved against the manifest's folder).</summary>
    public required string CheckpointPath { get; init; }

    /// <summary>Where the <c>checkpoint</c> value is written (null when absent), for problems with that file.</summary>
    public SourceLocation? CheckpointLocation { get; init; }

    public required ArchitectureSpec Architecture { get; init; }

    /// <summary>Where the <c>architecture</c> value is written (null when absent), for a network that cannot be made or
    /// does not fit its data.</summary>
    public SourceLocation? ArchitectureLocation { get; init; }

    public IReadOnlyList<ParentLink> Parents { get; init; } = [];

    /// <summary>False when some entry of <c>parents</c> could not be read (its error is reported where it is written):
    /// <see cref="Parents"/> then lacks it, so checks of how many parents a relation needs would only echo that error.</summary>
    public bool ParentsComplete { get; init; } = true;

    /// <summary>False when <c>architecture</c> had an error (reported where it is written): comparing it with a parent's
    /// or a child's would only echo that error.</summary>
    public bool ArchitectureComplete { get; init; } = true;

    public IReadOnlyList<DataUse> Data { get; init; } = [];

    public TrainingRecipe? Training { get; init; }

    /// <summary>Where the <c>training</c> recipe is written (null when absent), for problems with what it trains on.</summary>
    public SourceLocation? TrainingLocation { get; init; }

    /// <summary>Where each glob of <c>training.trainable</c> is written, in order (empty without them): a glob that matches
    /// none of a custom module's parameters is found only at <c>train</c>, and reported there.</summary>
    public IReadOnlyList<SourceLocation> TrainableLocations { get; init; } = [];

    /// <summary>Where a problem with the recipe as a whole (its training failed or diverged) is reported: the
    /// <c>training</c> object, else the model.</summary>
    public SourceLocation RecipeLocation => TrainingLocation ?? Location;

    public required SourceLocation Location { get; init; }

    /// <summary>The relation to the parents (all parents share one), or null for a model with no parents.</summary>
    public Relation? Relation => Parents.Count == 0 ? null : Parents[0].Relation;

    public string ManifestDirectory => Path.GetDirectoryName(ManifestPath)!;
}
