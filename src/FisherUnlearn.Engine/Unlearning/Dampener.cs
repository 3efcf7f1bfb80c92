using System.Numerics;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Unlearning;

/// <summary>How many weights one dampening selected, of how many it looked at.</summary>
public sealed record DampeningStats(long Selected, long Considered);

/// <summary>
/// Selective synaptic dampening (SSD, Foster et al.): for each element i of each parameter that both diagonals hold
/// (and <c>include</c> accepts), <c>selected(i) iff F_f[i] &gt; alpha * F_D[i]</c>, and selected weights become
/// <c>min(lambda * F_D[i] / F_f[i], 1) * theta_i</c>. Computed with <c>torch.where(mask, p * beta, p)</c> under no_grad,
/// so unselected weights keep their exact bits (0/0 at an unselected element never reaches the weight) and no magnitude
/// ever grows (beta is in [0, 1]).
/// </summary>
public static class Dampener
{
    public static DampeningStats Apply(nn.Module<Tensor, Tensor> model, FisherDiagonal forget, FisherDiagonal full, double alpha, double lambda,
        Func<string, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(forget);
        ArgumentNullException.ThrowIfNull(full);
        if (!(alpha >= 0) || !(lambda >= 0) || double.IsInfinity(alpha) || double.IsInfinity(lambda))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), $"alpha ({alpha}) and lambda ({lambda}) must be finite and non-negative.");
        }

        long selected = 0;
        long considered = 0;
        using var noGrad = torch.no_grad();
        foreach (var (_, parameter, ff, fd) in Dampenable(model, forget, full, include))
        {
            selected += IsFloat32Cpu(parameter)
                ? ApplyFloat32(parameter, ff, fd, (float)alpha, (float)lambda)
                : ApplyWithTensors(parameter, ff, fd, alpha, lambda);
            considered += parameter.numel();
        }

        return new DampeningStats(selected, considered);
    }

    /// <summary>The parameters a dampening touches: those both importances hold and <paramref name="include"/> accepts,
    /// with their two importances. A shape that differs from the parameter's is an <see cref="ArgumentException"/>.</summary>
    internal static IEnumerable<(string Name, Tensor Parameter, FisherParameter Forget, FisherParameter Full)> Dampenable(
        nn.Module<Tensor, Tensor> model, FisherDiagonal forget, FisherDiagonal full, Func<string, bool>? include)
    {
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (!forget.Parameters.ContainsKey(name) || !full.Parameters.ContainsKey(name) || include?.Invoke(name) == false)
            {
                continue;
            }

            var (ff, fd) = (forget[name], full[name]);
            if (!ff.Shape.SequenceEqual(parameter.shape) || !fd.Shape.SequenceEqual(parameter.shape))
            {
                throw new ArgumentException($"The importance of '{name}' has shape [{string.Join(", ", ff.Shape)}], the parameter [{string.Join(", ", parameter.shape)}].");
            }

            yield return (name, parameter, ff, fd);
        }
    }

    /// <summary>Whether the one-pass float32 kernel (<see cref="Dampen"/>) applies to the parameter.</summary>
    internal static bool IsFloat32Cpu(Tensor parameter) => parameter.dtype == ScalarType.Float32 && parameter.device_type == DeviceType.CPU;

    /// <summary>The same arithmetic as the tensor path (float32 products and quotient, as libtorch computes a float32
    /// tensor times a double scalar), in one pass over the values: no tensor is made from the diagonals, and the weights
    /// are read and written once. <see cref="ApplyWithTensors"/> is the reference it is tested against bit for bit.</summary>
    internal static long ApplyFloat32(Tensor parameter, FisherParameter forget, FisherParameter full, float alpha, float lambda)
    {
        if (parameter.is_contiguous())
        {
            // In place, in the parameter's own memory (under no_grad, as Apply runs it): no copy either way.
            var memory = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(parameter.bytes);
            return Dampen(memory, forget.Values, full.Values, alpha, lambda, memory);
        }

        var weights = new float[parameter.numel()];
        using (var source = TensorCopies.DetachedContiguousCpu(parameter))
        {
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(source.bytes).CopyTo(weights);
        }

        var selected = Dampen(weights, forget.Values, full.Values, alpha, lambda, weights);
        if (selected > 0)
        {
            using var dampened = torch.tensor(weights, parameter.shape);
            parameter.copy_(dampened);
        }

        return selected;
    }

    /// <summary>The float32 kernel: <paramref name="output"/>[i] = <paramref name="weights"/>[i] times
    /// <c>clamp(F_D * lambda / F_f, 0, 1)</c> where <c>F_f &gt; F_D * alpha</c>, else the weight itself (the two spans
    /// may be the same). Returns how many elements it selected. The calibration's evaluations share it, so the model a
    /// setting is evaluated on is, bit for bit, the model <see cref="Apply"/> makes.</summary>
    internal static long Dampen(ReadOnlySpan<float> weights, ReadOnlySpan<float> forget, ReadOnlySpan<float> full, float alpha, float lambda, Span<float> output)
    {
        long selected = 0;
        var i = 0;
        if (Vector.IsHardwareAccelerated && weights.Length >= Vector<float>.Count)
        {
            // The same IEEE float32 operations lane by lane (a product, a quotient, a comparison, a clamp), so every lane
            // gives the bits of the scalar loop below; calibration runs this once per setting over every weight.
            var alphas = new Vector<float>(alpha);
            var lambdas = new Vector<float>(lambda);
            var counts = Vector<int>.Zero;
            for (; i <= weights.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var w = new Vector<float>(weights[i..]);
                var ff = new Vector<float>(forget[i..]);
                var fd = new Vector<float>(full[i..]);
                var mask = Vector.GreaterThan(ff, fd * alphas);
                var beta = Vector.Min(Vector.Max(fd * lambdas / ff, Vector<float>.Zero), Vector<float>.One);
                Vector.ConditionalSelect(mask, w * beta, w).CopyTo(output[i..]);
                counts -= mask; // -1 in every selected lane.
            }

            selected = Vector.Sum(counts);
        }

        for (; i < weights.Length; i++)
        {
            if (forget[i] > full[i] * alpha)
            {
                var beta = full[i] * lambda / forget[i];
                output[i] = weights[i] * (beta < 0f ? 0f : beta > 1f ? 1f : beta);
                selected++;
            }
            else
            {
                output[i] = weights[i];
            }
        }

        return selected;
    }

    /// <summary>How many elements <see cref="Dampen"/> would select at <paramref name="alpha"/>.</summary>
    internal static long CountSelected(ReadOnlySpan<float> forget, ReadOnlySpan<float> full, float alpha)
    {
        long selected = 0;
        var i = 0;
        if (Vector.IsHardwareAccelerated && forget.Length >= Vector<float>.Count)
        {
            var alphas = new Vector<float>(alpha);
            var counts = Vector<int>.Zero;
            for (; i <= forget.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                counts -= Vector.GreaterThan(new Vector<float>(forget[i..]), new Vector<float>(full[i..]) * alphas);
            }

            selected = Vector.Sum(counts);
        }

        for (; i < forget.Length; i++)
        {
            if (forget[i] > full[i] * alpha)
            {
                selected++;
            }
        }

        return selected;
    }

    /// <summary>The tensor formulation of <see cref="Apply"/> for one parameter (any dtype or device); kept as the
    /// reference of the float32 fast path.</summary>
    internal static long ApplyWithTensors(Tensor parameter, FisherParameter forget, FisherParameter full, double alpha, double lambda)
    {
        using var noGrad = torch.no_grad();
        using var heldAlpha = alpha.ToScalar(); // Held past every native call (docs/engine-notes.md).
        using var heldLambda = lambda.ToScalar();
        using var scope = torch.NewDisposeScope();
        var ff = torch.tensor(forget.Values, [.. forget.Shape]).to_type(parameter.dtype);
        var fd = torch.tensor(full.Values, [.. full.Shape]).to_type(parameter.dtype);
        var mask = ff.gt(fd.mul(heldAlpha));
        var beta = fd.mul(heldLambda).div(ff).clamp(HeldScalars.DoubleZero, HeldScalars.DoubleOne);
        parameter.copy_(torch.where(mask, parameter.mul(beta), parameter));
        return mask.sum().item<long>();
    }
}
