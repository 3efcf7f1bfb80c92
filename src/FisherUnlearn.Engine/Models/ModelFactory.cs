using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Models;

/// <summary>Builds the network an <see cref="ArchitectureSpec"/> declares, with freshly initialised weights
/// (seed TorchSharp first for reproducible ones). The caller owns the module.</summary>
public static class ModelFactory
{
    /// <param name="spec">The architecture.</param>
    /// <param name="manifestDirectory">The lineage manifest's folder: <c>custom</c> assembly paths are relative to it.</param>
    public static nn.Module<Tensor, Tensor> Create(ArchitectureSpec spec, string? manifestDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Classes < 1)
        {
            throw Unsupported(spec, $"classes is {spec.Classes}; it must be at least 1");
        }

        return spec.Kind switch
        {
            ArchitectureSpec.Mlp => CreateMlp(spec),
            ArchitectureSpec.Cnn => CreateCnn(spec),
            ArchitectureSpec.Custom => CustomModelLoader.Create(spec, manifestDirectory),
            _ => throw Unsupported(spec, $"the kind '{spec.Kind}' is unknown (use {string.Join(", ", ArchitectureSpec.Kinds)})"),
        };
    }

    private static Mlp CreateMlp(ArchitectureSpec spec)
    {
        if (spec.Inputs is not { } inputs || inputs < 1)
        {
            throw Unsupported(spec, "an mlp needs 'inputs' of at least 1");
        }

        if (spec.Hidden.Any(h => h < 1))
        {
            throw Unsupported(spec, "every 'hidden' layer needs at least 1 unit");
        }

        return new Mlp(inputs, spec.Hidden, spec.Classes);
    }

    private static LeNet CreateCnn(ArchitectureSpec spec)
    {
        var shape = spec.InputShape;
        if (shape.Count != 3 || shape[0] < 1 || shape[1] < LeNet.MinSide || shape[2] < LeNet.MinSide)
        {
            throw Unsupported(spec, $"a cnn needs 'inputShape' [C, H, W] with C >= 1 and H, W >= {LeNet.MinSide}, not [{string.Join(", ", shape)}]");
        }

        return new LeNet(shape, spec.Classes);
    }

    private static EngineException Unsupported(ArchitectureSpec spec, string detail) =>
        EngineException.Create(DiagnosticCatalogue.ArchitectureUnsupported, null, spec.ToString(), detail);
}
