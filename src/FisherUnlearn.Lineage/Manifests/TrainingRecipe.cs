namespace FisherUnlearn.Lineage.Manifests;

/// <summary>How a model is trained (by <c>train</c>) and retrained without forgotten data (the exact reference).</summary>
public sealed record TrainingRecipe
{
    public static IReadOnlyList<string> Optimizers { get; } = ["sgd", "adam"];

    public int Epochs { get; init; } = 1;

    public int BatchSize { get; init; } = 64;

    public string Optimizer { get; init; } = "adam";

    public double LearningRate { get; init; } = 0.001;

    public double Momentum { get; init; }

    public double WeightDecay { get; init; }

    public long Seed { get; init; } = 1;

    /// <summary>For <c>transfer</c>: globs over parameter names (PyTorch names, such as <c>fc3.*</c>) to train.</summary>
    public IReadOnlyList<string> Trainable { get; init; } = [];

    /// <summary>For <c>distill</c>: the softmax temperature of the teacher's outputs.</summary>
    public double Temperature { get; init; } = 2.0;
}
