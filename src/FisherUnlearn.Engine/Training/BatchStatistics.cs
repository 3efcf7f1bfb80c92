using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Training;

/// <summary>
/// Layers that normalise over the batch (BatchNorm: a <c>running_var</c> buffer) cannot train on a batch of one sample:
/// PyTorch raises an error, and libtorch as TorchSharp calls it leaves the running variance NaN (QA: a custom
/// Linear-BatchNorm module on 1,537 digits in batches of 64 trained "successfully" into a checkpoint every later command
/// refused). Training and the repair skip such a batch for such a module, as PyTorch's <c>drop_last</c> would for the last
/// batch, and training checks that what it leaves is finite before anything is written.
/// </summary>
public static class BatchStatistics
{
    /// <summary>True when the module keeps batch statistics (any buffer named <c>running_var</c>).</summary>
    public static bool Kept(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return module.named_buffers().Any(b => b.name == "running_var" || b.name.EndsWith(".running_var", StringComparison.Ordinal));
    }

    /// <summary>The layers that keep batch statistics (leaf modules holding a <c>running_var</c> buffer).</summary>
    public static IReadOnlyList<nn.Module> Layers(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return [.. module.named_modules().Select(m => m.module)
            .Where(m => !m.children().Any() && m.named_buffers().Any(b => b.name == "running_var"))];
    }

    /// <summary>Runs <paramref name="forward"/> with the batch-statistics layers in eval mode: they normalise with their
    /// running statistics and do not update them. The repair's anchor passes the forgotten samples through the model;
    /// in training mode their batches would be mixed into the running statistics written with the output (review).</summary>
    public static T WithoutUpdating<T>(IReadOnlyList<nn.Module> layers, Func<T> forward)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(forward);
        var modes = layers.Select(l => l.training).ToList();
        foreach (var layer in layers)
        {
            layer.eval();
        }

        try
        {
            return forward();
        }
        finally
        {
            for (var i = 0; i < layers.Count; i++)
            {
                layers[i].train(modes[i]);
            }
        }
    }

    /// <summary>Whether a batch of <paramref name="rows"/> samples trains a module that keeps batch statistics
    /// (<paramref name="kept"/>): every batch but one of a single sample.</summary>
    public static bool Trains(bool kept, long rows) => !kept || rows > 1;

    /// <summary>The first floating-point parameter or buffer of the module holding a NaN or infinite value, with how many
    /// it holds, in state-dict order; null when every value is finite.</summary>
    public static (string Name, long Count)? FirstNonFinite(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var noGrad = torch.no_grad();
        foreach (var (name, tensor) in module.state_dict())
        {
            if (!tensor.is_floating_point())
            {
                continue;
            }

            using var finite = tensor.isfinite();
            using var bad = finite.logical_not();
            using var count = bad.sum();
            if (count.item<long>() is var n && n > 0)
            {
                return (name, n);
            }
        }

        return null;
    }
}
