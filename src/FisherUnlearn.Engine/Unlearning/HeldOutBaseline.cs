using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Unlearning;

/// <summary>
/// What a repaired setting's forgotten samples are held to (docs/methods.md, step 5, <c>sampleBaseline</c>): a model's
/// accuracy on held-out samples of the forgotten samples' labels, each label weighted by how many of the forgotten samples
/// have it, and the target that accuracy gives. Measured on whatever weights the model holds, so each repaired setting is
/// held to its own: the samples may lead unseen ones of their labels by no more than chance explains, which is how
/// <c>verify --reference retrain</c> judges them (QA: a wide MLP's dampening and repair took its held-out accuracy from
/// 96.6% to 94.9% and met a target fixed from the original's at 97.0% with the samples at 96.4%, 1.5 points ahead of
/// unseen ones, which verify called remembered).
/// </summary>
internal sealed class HeldOutBaseline : IDisposable
{
    private readonly Tensor features;
    private readonly long[] labels;
    private readonly double[] weights;
    private readonly Func<double, double> limitAt;

    /// <param name="parts">Per label (and dataset): its held-out samples and how many forgotten samples have the label.</param>
    /// <param name="limitAt">The target the samples are held to at a held-out accuracy.</param>
    public HeldOutBaseline(IReadOnlyList<(DataSplit HeldOut, int Samples)> parts, Func<double, double> limitAt)
    {
        this.limitAt = limitAt;
        var used = parts.Where(p => p.HeldOut.Count > 0 && p.Samples > 0).ToList();
        var total = (double)used.Sum(p => p.Samples);
        var tensors = new List<Tensor>();
        var labelList = new List<long>();
        var weightList = new List<double>();
        foreach (var (heldOut, samples) in used)
        {
            var (x, y) = heldOut.ToTensors();
            tensors.Add(x);
            using (y)
            {
                labelList.AddRange(TensorMemory.ToArray<long>(y));
            }

            weightList.AddRange(Enumerable.Repeat(samples / total / heldOut.Count, heldOut.Count));
        }

        features = tensors.Count switch
        {
            0 => zeros(0),
            1 => tensors[0],
            _ => SampleStack.Cat([.. used.Select(p => p.HeldOut)], tensors),
        };
        if (tensors.Count > 1)
        {
            tensors.ForEach(t => t.Dispose());
        }

        labels = [.. labelList];
        weights = [.. weightList];
    }

    /// <summary>Whether there is anything to measure (some forgotten sample's label has held-out samples).</summary>
    public bool IsEmpty => labels.Length == 0;

    /// <summary>The model's accuracy on the held-out samples as it now is, weighted by the forgotten samples' labels; null
    /// when there is nothing to measure.</summary>
    public double? Level(nn.Module<Tensor, Tensor> model)
    {
        if (IsEmpty)
        {
            return null;
        }

        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            var level = 0.0;
            for (var start = 0; start < labels.Length; start += Verification.ModelEvaluator.BatchSize)
            {
                using var scope = NewDisposeScope();
                var length = Math.Min(Verification.ModelEvaluator.BatchSize, labels.Length - start);
                var predicted = TensorMemory.ToArray<long>(model.call(features.narrow(0, start, length)).argmax(1));
                for (var i = 0; i < length; i++)
                {
                    if (predicted[i] == labels[start + i])
                    {
                        level += weights[start + i];
                    }
                }
            }

            return Math.Min(1, level);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>The target the forgotten samples are held to when the model scores <paramref name="level"/> on unseen
    /// samples of their labels.</summary>
    public double LimitAt(double level) => limitAt(level);

    /// <summary>The target for the model as it now is, with the held-out accuracy it follows (null when there is nothing
    /// to measure).</summary>
    public (double Limit, double Level)? Measure(nn.Module<Tensor, Tensor> model) =>
        Level(model) is { } level ? (LimitAt(level), level) : null;

    public void Dispose() => features.Dispose();
}
