using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Verification;

/// <summary>Per-sample outputs of a model on some data: true label, prediction, cross-entropy loss and the entropy of
/// the predicted distribution.</summary>
public sealed record SampleOutputs(long[] Labels, long[] Predictions, float[] Losses, float[] Entropies)
{
    public int Count => Labels.Length;

    /// <summary>Fraction of correct predictions (0..1); null when there are no samples.</summary>
    public double? Accuracy => Count == 0 ? null : Labels.Where((l, i) => Predictions[i] == l).Count() / (double)Count;

    /// <summary>The outputs of both sample sets, <paramref name="first"/>'s then <paramref name="second"/>'s.</summary>
    public static SampleOutputs Concat(SampleOutputs first, SampleOutputs second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        return second.Count == 0 ? first : first.Count == 0 ? second
            : new([.. first.Labels, .. second.Labels], [.. first.Predictions, .. second.Predictions], [.. first.Losses, .. second.Losses], [.. first.Entropies, .. second.Entropies]);
    }
}

/// <summary>Runs a model over data in eval mode without gradients (synchronous, on the calling thread).</summary>
public static class ModelEvaluator
{
    public const int BatchSize = 512;

    public static SampleOutputs Evaluate(nn.Module<Tensor, Tensor> model, IEnumerable<DataSplit> parts)
    {
        ArgumentNullException.ThrowIfNull(model);
        var labels = new List<long>();
        var predictions = new List<long>();
        var losses = new List<float>();
        var entropies = new List<float>();
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            foreach (var part in parts)
            {
                foreach (var batch in part.Batches(BatchSize))
                {
                    using var x = batch.Features;
                    using var y = batch.Labels;
                    using var scope = torch.NewDisposeScope();
                    var output = model.call(x);
                    var logProbabilities = nn.functional.log_softmax(output, 1);
                    var loss = nn.functional.nll_loss(logProbabilities, y, reduction: nn.Reduction.None);
                    var entropy = (logProbabilities.exp() * logProbabilities).sum(dim: 1).neg();
                    labels.AddRange(TensorMemory.ToArray<long>(y));
                    predictions.AddRange(TensorMemory.ToArray<long>(output.argmax(1)));
                    losses.AddRange(TensorMemory.ToArray<float>(loss));
                    entropies.AddRange(TensorMemory.ToArray<float>(entropy));
                }
            }
        }
        finally
        {
            model.train(wasTraining);
        }

        return new SampleOutputs([.. labels], [.. predictions], [.. losses], [.. entropies]);
    }

    /// <summary>Accuracy (0..1) on the parts, or null when they hold no sample.</summary>
    public static double? Accuracy(nn.Module<Tensor, Tensor> model, IEnumerable<DataSplit> parts) => Evaluate(model, parts).Accuracy;
}
