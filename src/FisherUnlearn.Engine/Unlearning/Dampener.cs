using FisherUnlearn.Engine.Fisher;
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
        using var heldAlpha = alpha.ToScalar(); // Held past every native call (docs/engine-notes.md).
        using var heldLambda = lambda.ToScalar();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (!forget.Parameters.ContainsKey(name) || !full.Parameters.ContainsKey(name) || include?.Invoke(name) == false)
            {
                continue;
            }

            using var scope = torch.NewDisposeScope();
            var ff = forget.ToTensor(name).to_type(parameter.dtype);
            var fd = full.ToTensor(name).to_type(parameter.dtype);
            if (!ff.shape.SequenceEqual(parameter.shape) || !fd.shape.SequenceEqual(parameter.shape))
            {
                throw new ArgumentException($"The importance of '{name}' has shape [{string.Join(", ", ff.shape)}], the parameter [{string.Join(", ", parameter.shape)}].");
            }

            var mask = ff.gt(fd.mul(heldAlpha));
            var beta = fd.mul(heldLambda).div(ff).clamp(HeldScalars.DoubleZero, HeldScalars.DoubleOne);
            parameter.copy_(torch.where(mask, parameter.mul(beta), parameter));
            selected += mask.sum().item<long>();
            considered += parameter.numel();
        }

        return new DampeningStats(selected, considered);
    }
}
