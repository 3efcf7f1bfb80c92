namespace FisherUnlearn.Lineage.Manifests;

/// <summary>
/// The network of a model. Built-in kinds: <c>mlp</c> (<see cref="Inputs"/>, <see cref="Hidden"/>,
/// <see cref="Classes"/>) and <c>cnn</c> (LeNet-style, <see cref="InputShape"/>, <see cref="Classes"/>);
/// <c>custom</c> names a C# <c>Module&lt;Tensor,Tensor&gt;</c> by <see cref="Assembly"/> and <see cref="Type"/>.
/// </summary>
public sealed record ArchitectureSpec
{
    public const string Mlp = "mlp";
    public const string Cnn = "cnn";
    public const string Custom = "custom";

    /// <summary>The smallest height and width the built-in cnn takes (two 5x5 convolutions, two 2x2 poolings).</summary>
    public const int CnnMinSide = 12;

    public static IReadOnlyList<string> Kinds { get; } = [Mlp, Cnn, Custom];

    public required string Kind { get; init; }

    public required int Classes { get; init; }

    public int? Inputs { get; init; }

    public IReadOnlyList<int> Hidden { get; init; } = [];

    public IReadOnlyList<int> InputShape { get; init; } = [];

    /// <summary>For <c>custom</c>: the assembly path, relative to the manifest's folder.</summary>
    public string? Assembly { get; init; }

    /// <summary>For <c>custom</c>: the full name of the module type.</summary>
    public string? Type { get; init; }

    /// <summary>A short human description such as <c>mlp 784-256-128-10</c>.</summary>
    public override string ToString() => Kind switch
    {
        Mlp => $"mlp {string.Join('-', new[] { Inputs ?? 0 }.Concat(Hidden).Append(Classes))}",
        Cnn => $"cnn {string.Join('x', InputShape)}->{Classes}",
        _ => $"{Kind} {Type}",
    };

    /// <summary>The PyTorch parameter names of a built-in architecture, in module order (docs/architectures.md); null for
    /// a custom module, whose names only its assembly knows. The engine's tests check these against the real modules.</summary>
    public IReadOnlyList<string>? ParameterNames() => Kind switch
    {
        Mlp => [.. Enumerable.Range(1, Hidden.Count + 1).SelectMany(k => new[] { $"fc{k}.weight", $"fc{k}.bias" })],
        Cnn => [.. new[] { "conv1", "conv2", "fc1", "fc2", "fc3" }.SelectMany(layer => new[] { layer + ".weight", layer + ".bias" })],
        _ => null,
    };

    public bool StructurallyEquals(ArchitectureSpec other) =>
        Kind == other.Kind && Classes == other.Classes && Inputs == other.Inputs
        && Hidden.SequenceEqual(other.Hidden) && InputShape.SequenceEqual(other.InputShape)
        && Type == other.Type;
}
