using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Training;

/// <summary>
/// SGD (momentum, weight decay) and Adam with PyTorch's update rules, written here rather than taken from
/// <c>torch.optim</c> for one reason: TorchSharp 0.107's optimizers pass coefficients as temporary <see cref="Scalar"/>
/// objects (implicit conversions from double) whose native handle can be finalized by the GC while libtorch still reads
/// it, which intermittently fails a step with "Expected false to be true" in <c>Scalar::toFloat</c> (seen here in about
/// one training run in five). Every coefficient below is a Scalar held for the optimizer's lifetime.
/// </summary>
internal sealed class StepOptimizer : IDisposable
{
    private readonly IReadOnlyList<TorchSharp.Modules.Parameter> parameters;
    private readonly bool adam;
    private readonly double learningRate;
    private readonly double beta1;
    private readonly double beta2;
    private readonly Scalar momentum;
    private readonly Scalar weightDecay;
    private readonly Scalar beta1Scalar;
    private readonly Scalar beta2Scalar;
    private readonly Scalar oneMinusBeta1;
    private readonly Scalar oneMinusBeta2;
    private readonly Scalar epsilon;
    private readonly Scalar one;
    private readonly Scalar minusLearningRate;
    private readonly Tensor?[] first;
    private readonly Tensor?[] second;
    private readonly bool hasMomentum;
    private readonly bool hasWeightDecay;
    private long step;

    private StepOptimizer(IEnumerable<TorchSharp.Modules.Parameter> parameters, bool adam, double learningRate, double momentum, double weightDecay)
    {
        this.parameters = [.. parameters];
        this.adam = adam;
        this.learningRate = learningRate;
        beta1 = 0.9;
        beta2 = 0.999;
        hasMomentum = momentum != 0;
        hasWeightDecay = weightDecay != 0;
        this.momentum = momentum.ToScalar();
        this.weightDecay = weightDecay.ToScalar();
        beta1Scalar = beta1.ToScalar();
        beta2Scalar = beta2.ToScalar();
        oneMinusBeta1 = (1 - beta1).ToScalar();
        oneMinusBeta2 = (1 - beta2).ToScalar();
        epsilon = 1e-8.ToScalar();
        one = 1.0.ToScalar();
        minusLearningRate = (-learningRate).ToScalar();
        first = new Tensor?[this.parameters.Count];
        second = new Tensor?[this.parameters.Count];
    }

    public static StepOptimizer Sgd(IEnumerable<TorchSharp.Modules.Parameter> parameters, double learningRate, double momentum, double weightDecay) =>
        new(parameters, adam: false, learningRate, momentum, weightDecay);

    /// <summary>Adam with PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, L2 weight decay added to the gradient.</summary>
    public static StepOptimizer Adam(IEnumerable<TorchSharp.Modules.Parameter> parameters, double learningRate, double weightDecay) =>
        new(parameters, adam: true, learningRate, 0, weightDecay);

    public void ZeroGrad()
    {
        foreach (var parameter in parameters)
        {
            using var grad = parameter.grad; // a new handle on the gradient: held past zero_, then released
            grad?.zero_();
        }
    }

    public void Step()
    {
        step++;
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var biasCorrection1 = 1 - Math.Pow(beta1, step);
        var biasCorrection2 = Math.Sqrt(1 - Math.Pow(beta2, step));
        using var stepSize = (-learningRate / biasCorrection1).ToScalar();
        using var correction2 = biasCorrection2.ToScalar();
        for (var i = 0; i < parameters.Count; i++)
        {
            var parameter = parameters[i];
            var grad = parameter.grad;
            if (grad is null)
            {
                continue;
            }

            if (hasWeightDecay)
            {
                grad = grad.add(parameter, alpha: weightDecay);
            }

            if (adam)
            {
                var m = first[i] ??= torch.zeros_like(parameter).DetachFromDisposeScope();
                var v = second[i] ??= torch.zeros_like(parameter).DetachFromDisposeScope();
                m.mul_(beta1Scalar).add_(grad, alpha: oneMinusBeta1);
                v.mul_(beta2Scalar).addcmul_(grad, grad, value: oneMinusBeta2);
                var denominator = v.sqrt().div_(correction2).add_(epsilon, alpha: HeldScalars.IntOne); // add_(Scalar) alone passes a temporary alpha
                parameter.addcdiv_(m, denominator, value: stepSize);
            }
            else if (hasMomentum)
            {
                var buffer = first[i];
                if (buffer is null)
                {
                    first[i] = buffer = grad.clone().DetachFromDisposeScope();
                }
                else
                {
                    buffer.mul_(momentum).add_(grad, alpha: one);
                }

                parameter.add_(buffer, alpha: minusLearningRate);
            }
            else
            {
                parameter.add_(grad, alpha: minusLearningRate);
            }
        }

        GC.KeepAlive(this);
    }

    public void Dispose()
    {
        foreach (var tensor in first.Concat(second))
        {
            tensor?.Dispose();
        }

        foreach (var scalar in new[] { momentum, weightDecay, beta1Scalar, beta2Scalar, oneMinusBeta1, oneMinusBeta2, epsilon, one, minusLearningRate })
        {
            scalar.Dispose();
        }
    }
}
