using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Models;

/// <summary>
/// The built-in <c>mlp</c>: flatten, then Linear layers <c>fc1</c>..<c>fcK</c> with ReLU between them (none after
/// the last). State dict names: <c>fc1.weight</c>, <c>fc1.bias</c>, ... exactly as the PyTorch module documented in
/// docs/architectures.md.
/// </summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear[] layers;

    /// <param name="inputs">Input features.</param>
    /// <param name="hidden">Units of each hidden layer.</param>
    /// <param name="classes">Output units.</param>
    /// <param name="initialize">PyTorch's initialisation (seeded by TorchSharp's generator), or false for uninitialised
    /// weights that a checkpoint load overwrites (<see cref="ModelFactory.Load(FisherUnlearn.Lineage.Manifests.ModelManifest)"/>).</param>
    public Mlp(int inputs, IReadOnlyList<int> hidden, int classes, bool initialize = true)
        : base(nameof(Mlp))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        ArgumentNullException.ThrowIfNull(hidden);
        var sizes = new[] { inputs }.Concat(hidden).Append(classes).ToArray();
        if (sizes.Any(s => s < 1))
        {
            throw new ArgumentException("Every layer needs at least one unit.", nameof(hidden));
        }

        layers = new Linear[sizes.Length - 1];
        for (var i = 0; i < layers.Length; i++)
        {
            layers[i] = ModelFactory.Linear(sizes[i], sizes[i + 1], initialize);
            register_module($"fc{i + 1}", layers[i]);
        }
    }

    /// <summary>The Linear layers in order (<c>fc1</c> first).</summary>
    public IReadOnlyList<Linear> Layers => layers;

    public override Tensor forward(Tensor input)
    {
        var x = input.flatten(1);
        for (var i = 0; i < layers.Length; i++)
        {
            x = layers[i].call(x);
            if (i < layers.Length - 1)
            {
                x = nn.functional.relu(x);
            }
        }

        return x;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var layer in layers)
            {
                layer.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
