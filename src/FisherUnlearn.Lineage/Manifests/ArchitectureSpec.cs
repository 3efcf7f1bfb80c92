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

    /// <summary>The most bytes one tensor of a checkpoint may hold here: the engine keeps each tensor in one .NET array
    /// (<see cref="System.Array.MaxLength"/>, just under 2 GiB), and refuses larger ones in the files it reads.</summary>
    public static long MaxTensorBytes => System.Array.MaxLength;

    /// <summary>How many values the built-in network's parameters hold in all (as a double: a spec may declare more than a
    /// long holds); null for a custom module, whose size only its type knows.</summary>
    public double? ParameterCount() => ParameterShapes()?.Sum(p => p.Shape.Aggregate(1.0, (product, d) => product * d));

    /// <summary>The PyTorch parameter shapes of a built-in architecture, in module order (the names of
    /// <see cref="ParameterNames"/>); null for a custom module and for a spec missing what the shapes need.</summary>
    public IReadOnlyList<(string Name, long[] Shape)>? ParameterShapes()
    {
        switch (Kind)
        {
            case Mlp when Inputs is { } inputs:
                long[] sizes = [inputs, .. Hidden.Select(h => (long)h), Classes];
                return [.. Enumerable.Range(0, sizes.Length - 1).SelectMany(i => new[]
                {
                    ($"fc{i + 1}.weight", new[] { sizes[i + 1], sizes[i] }),
                    ($"fc{i + 1}.bias", new[] { sizes[i + 1] }),
                })];
            case Cnn when InputShape.Count == 3:
                // docs/architectures.md: conv1 Conv2d(C, 6, 5, padding=2), conv2 Conv2d(6, 16, 5), fc1 Linear(16 * h * w, 120)
                // with h = (H // 2 - 4) // 2 and w likewise, fc2 Linear(120, 84), fc3 Linear(84, classes).
                long flat = 16L * Math.Max(0, ((InputShape[1] / 2) - 4) / 2) * Math.Max(0, ((InputShape[2] / 2) - 4) / 2);
                return
                [
                    ("conv1.weight", [6, InputShape[0], 5, 5]), ("conv1.bias", [6]),
                    ("conv2.weight", [16, 6, 5, 5]), ("conv2.bias", [16]),
                    ("fc1.weight", [120, flat]), ("fc1.bias", [120]),
                    ("fc2.weight", [84, 120]), ("fc2.bias", [84]),
                    ("fc3.weight", [Classes, 84]), ("fc3.bias", [Classes]),
                ];
            default:
                return null;
        }
    }

    /// <summary>
    /// Why the weights of a built-in architecture cannot be held, or null when they can (and for a custom module, whose
    /// size only its assembly knows): a parameter of more float32 values than one tensor may hold
    /// (<see cref="MaxTensorBytes"/>), named with its size and the whole model's. Within the limits of each field a
    /// layer can still need terabytes (an mlp with two hidden layers of 1,000,000 units: 4 TB for fc2.weight), which
    /// libtorch would fail to allocate only once training starts.
    /// </summary>
    public string? WeightsTooLarge()
    {
        if (ParameterShapes() is not { } shapes)
        {
            return null;
        }

        var counts = shapes.Select(p => (p.Name, Count: p.Shape.Aggregate(1.0, (product, d) => product * d))).ToList();
        var largest = counts.MaxBy(p => p.Count);
        if (largest.Count * sizeof(float) <= MaxTensorBytes)
        {
            return null;
        }

        var total = counts.Sum(p => p.Count);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{this} has {total:N0} parameters ({Size(total * sizeof(float))} of float32 weights alone), and its '{largest.Name}' alone would hold {largest.Count:N0} values ({Size(largest.Count * sizeof(float))}), more than the {Size(MaxTensorBytes)} one tensor of a checkpoint may hold; use fewer units in its layers");
    }

    /// <summary>A byte count in the largest unit that keeps it at least 1 (B, KB, MB, GB, TB, PB; powers of 1000), such as "4 TB".</summary>
    public static string Size(double bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB", "PB", "EB"];
        var unit = 0;
        while (bytes >= 1000 && unit < units.Length - 1)
        {
            bytes /= 1000;
            unit++;
        }

        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes:0.#} {units[unit]}");
    }

    public bool StructurallyEquals(ArchitectureSpec other) =>
        Kind == other.Kind && Classes == other.Classes && Inputs == other.Inputs
        && Hidden.SequenceEqual(other.Hidden) && InputShape.SequenceEqual(other.InputShape)
        && Type == other.Type;
}
