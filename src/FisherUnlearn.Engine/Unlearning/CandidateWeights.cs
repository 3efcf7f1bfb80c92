using System.Runtime.InteropServices;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Unlearning;

/// <summary>
/// The dampenable parameters of a model under calibration (those both importances hold and <c>include</c> accepts),
/// with their original values. A candidate setting's weights are computed from the originals with
/// <see cref="Dampener.Dampen"/> into buffers kept from one setting to the next, so the model a setting is evaluated on
/// is, bit for bit, the model <see cref="Dampener.Apply"/> makes. Parameters that are not float32 on the CPU are
/// dampened with the tensor formulation, as <see cref="Dampener.Apply"/> does.
/// </summary>
internal sealed class CandidateWeights : IDisposable
{
    private readonly List<Item> items = [];

    public CandidateWeights(nn.Module<Tensor, Tensor> model, FisherDiagonal forget, FisherDiagonal full, Func<string, bool>? include)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter, ff, fd) in Dampener.Dampenable(model, forget, full, include))
        {
            var original = TensorCopies.Detached(parameter);
            float[]? values = null;
            if (Dampener.IsFloat32Cpu(parameter))
            {
                values = new float[parameter.numel()];
                using var contiguous = original.contiguous();
                MemoryMarshal.Cast<byte, float>(contiguous.bytes).CopyTo(values);
            }

            // A buffer only where the weights cannot be written into the parameter's own memory.
            var buffer = values is null || parameter.is_contiguous() ? null : new float[values.Length];
            items.Add(new Item(name, parameter, original, values, buffer, ff, fd));
        }
    }

    /// <summary>How many weights the setting with this alpha selects (the model is not touched).</summary>
    public long CountSelected(double alpha)
    {
        long selected = 0;
        foreach (var item in items)
        {
            if (item.Original is not null)
            {
                selected += Dampener.CountSelected(item.Forget.Values, item.Full.Values, (float)alpha);
            }
            else
            {
                using var noGrad = torch.no_grad();
                using var scope = torch.NewDisposeScope();
                using var heldAlpha = alpha.ToScalar(); // Held past every native call (docs/engine-notes.md).
                var ff = torch.tensor(item.Forget.Values, [.. item.Forget.Shape]).to_type(item.Parameter.dtype);
                var fd = torch.tensor(item.Full.Values, [.. item.Full.Shape]).to_type(item.Parameter.dtype);
                selected += ff.gt(fd.mul(heldAlpha)).sum().item<long>();
            }
        }

        return selected;
    }

    /// <summary>Computes the setting's weights (the originals when <paramref name="setting"/> is null: no dampening) and
    /// writes them into the model. Returns how many weights the setting selected.</summary>
    public long Write((double Alpha, double Lambda)? setting)
    {
        using var noGrad = torch.no_grad();
        long selected = 0;
        foreach (var item in items)
        {
            if (item.Original is { } original)
            {
                // Straight into the parameter's memory (contiguous: no buffer); through the buffer and copy_ otherwise.
                var buffer = item.Buffer;
                var output = buffer is null ? MemoryMarshal.Cast<byte, float>(item.Parameter.bytes) : buffer.AsSpan();
                if (setting is var (alpha, lambda))
                {
                    selected += Dampener.Dampen(original, item.Forget.Values, item.Full.Values, (float)alpha, (float)lambda, output);
                }
                else
                {
                    original.CopyTo(output);
                }

                if (buffer is not null)
                {
                    using var values = torch.tensor(buffer, item.Parameter.shape);
                    item.Parameter.copy_(values);
                }
            }
            else
            {
                item.Parameter.copy_(item.Tensor);
                if (setting is var (alpha, lambda))
                {
                    selected += Dampener.ApplyWithTensors(item.Parameter, item.Forget, item.Full, alpha, lambda);
                }
            }
        }

        return selected;
    }

    /// <summary>The values of a dampenable parameter under the setting last given to <see cref="Write"/> (a copy).</summary>
    public float[] Values(string name) => TensorMemory.ToArray<float>(items.First(i => i.Name == name).Parameter);

    public void Dispose()
    {
        foreach (var item in items)
        {
            item.Tensor.Dispose();
        }
    }

    private sealed record Item(string Name, Tensor Parameter, Tensor Tensor, float[]? Original, float[]? Buffer, FisherParameter Forget, FisherParameter Full);
}
