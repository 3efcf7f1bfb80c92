using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Unlearning;

/// <summary>What a repair pass did.</summary>
/// <param name="Samples">Retained training samples it trained on.</param>
/// <param name="Steps">Optimiser steps taken.</param>
/// <param name="Epochs">Passes over the samples it made.</param>
/// <param name="Loss">The samples' mean cross-entropy at the end, when the pass measured it (<see cref="RepairFit"/>).</param>
public sealed record RepairStats(int Samples, long Steps, int Epochs = 0, double? Loss = null);

/// <summary>How closely the repair fits its retained samples again: past its first epochs it goes on, a pass at a time,
/// until their mean cross-entropy (measured in eval mode before each further pass) is at most <paramref name="TargetLoss"/>,
/// for at most <paramref name="MaxEpochs"/> passes in all.</summary>
internal sealed record RepairFit(double TargetLoss, int MaxEpochs);

/// <summary>What the repair must not teach the model again: the forgotten samples, held to the class probabilities the
/// dampened model gives them (a soft cross-entropy, weighted by <paramref name="Weight"/>, added to each step's loss).</summary>
/// <param name="Features">The forgotten samples' features.</param>
/// <param name="Probabilities">The dampened model's class probabilities on them, before the repair.</param>
/// <param name="Weight">The anchor term's weight against the retained samples' cross-entropy.</param>
internal sealed record RepairAnchor(Tensor Features, Tensor Probabilities, double Weight);

/// <summary>
/// The repair pass of a sample request (docs/methods.md, step 5): a short fine-tune of the dampened model on retained
/// training samples, which gives back retained accuracy the dampening took. The forgotten samples are not among them, so
/// the model learns them again no more than a model that never saw them would. Adam, cross-entropy, the samples in a
/// seeded order each epoch; every parameter trains. Deterministic on one libtorch thread.
/// </summary>
internal static class RetainRepair
{
    /// <summary>Trains <paramref name="module"/> in place for <paramref name="epochs"/> passes over <paramref name="parts"/>,
    /// then, given <paramref name="fit"/>, for further passes until the samples are fit that closely.</summary>
    public static RepairStats Run(nn.Module<Tensor, Tensor> module, IReadOnlyList<DataSplit> parts, int epochs, double learningRate, int batchSize, int seed,
        CancellationToken cancellationToken, RepairAnchor? anchor = null, RepairFit? fit = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(parts);
        var samples = parts.Sum(p => p.Count);
        if (samples == 0 || epochs <= 0)
        {
            return new RepairStats(samples, 0);
        }

        using var enableGrad = torch.enable_grad();
        using var data = torch.NewDisposeScope();
        var tensors = parts.Select(p => p.ToTensors()).ToList();
        var x = SampleStack.Cat(parts, [.. tensors.Select(t => t.Features)]);
        var y = tensors.Count == 1 ? tensors[0].Labels : torch.cat(tensors.Select(t => t.Labels).ToList(), 0);
        using var optimizer = StepOptimizer.Adam(module.parameters(), learningRate, 0);
        var wasTraining = module.training;
        var keepsBatchStatistics = BatchStatistics.Kept(module);
        module.train();
        long steps = 0;
        var epoch = 0;
        double? loss = null;
        // The anchor's forward pass leaves batch statistics as they are (BatchStatistics.WithoutUpdating), so one row is
        // as good as many there.
        var anchored = anchor is { Weight: > 0 } a && a.Features.shape[0] > 0 ? a : null;
        var normLayers = keepsBatchStatistics ? BatchStatistics.Layers(module) : [];
        var anchorRows = anchored is null ? 0 : (int)anchored.Features.shape[0];
        var anchorOrder = anchored is null ? [] : Array.ConvertAll(DataSplit.Shuffled(anchorRows, seed), i => (long)i);
        var anchorAt = 0;
        // Held past every native call that reads it (docs/engine-notes.md): `soft * weight` and `loss + soft` made temporary
        // Scalars, which the finalizer freed mid-call under load (CI: "Expected false to be true" in a repair).
        using var anchorWeight = (anchored?.Weight ?? 0).ToScalar();
        try
        {
            for (; epoch < Math.Max(epochs, fit?.MaxEpochs ?? 0); epoch++)
            {
                if (epoch >= epochs && (loss = MeanLoss(module, x, y)) <= fit!.TargetLoss)
                {
                    break;
                }

                var order = Array.ConvertAll(DataSplit.Shuffled(samples, ModelTrainer.EpochSeed(seed, epoch)), i => (long)i);
                for (var start = 0; start < samples && BatchStatistics.Trains(keepsBatchStatistics, Math.Min(batchSize, samples - start)); start += batchSize)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var step = torch.NewDisposeScope();
                    var positions = torch.tensor(order.AsSpan(start, Math.Min(batchSize, samples - start)).ToArray());
                    optimizer.ZeroGrad();
                    var batchLoss = nn.functional.cross_entropy(module.call(x.index_select(0, positions)), y.index_select(0, positions));
                    if (anchored is not null)
                    {
                        // The next anchor rows, cycling through them in a seeded order.
                        var take = Math.Min(batchSize, anchorRows);
                        var rows = new long[take];
                        for (var i = 0; i < take; i++, anchorAt = (anchorAt + 1) % anchorRows)
                        {
                            rows[i] = anchorOrder[anchorAt];
                        }

                        var at = torch.tensor(rows);
                        var anchorBatch = anchored.Features.index_select(0, at);
                        var logProbabilities = nn.functional.log_softmax(BatchStatistics.WithoutUpdating(normLayers, () => module.call(anchorBatch)), 1);
                        var soft = -(anchored.Probabilities.index_select(0, at) * logProbabilities).sum(1).mean();
                        batchLoss = batchLoss.Plus(soft.mul(anchorWeight));
                    }

                    batchLoss.backward();
                    optimizer.Step();
                    steps++;
                }
            }

            if (fit is not null && epoch == fit.MaxEpochs && epoch > epochs)
            {
                loss = MeanLoss(module, x, y); // The last pass ran: what it left.
            }
        }
        finally
        {
            module.train(wasTraining);
            foreach (var parameter in module.parameters())
            {
                using var grad = parameter.grad;
                grad?.zero_();
            }
        }

        return new RepairStats(samples, steps, epoch, loss);
    }

    /// <summary>The mean cross-entropy of <paramref name="module"/> on the samples, in eval mode, in chunks.</summary>
    private static double MeanLoss(nn.Module<Tensor, Tensor> module, Tensor x, Tensor y)
    {
        using var noGrad = torch.no_grad();
        var wasTraining = module.training;
        module.eval();
        try
        {
            var rows = x.shape[0];
            var sum = 0.0;
            for (long start = 0; start < rows; start += ChunkRows)
            {
                using var chunk = torch.NewDisposeScope();
                var length = Math.Min(ChunkRows, rows - start);
                var losses = nn.functional.cross_entropy(module.call(x.narrow(0, start, length)), y.narrow(0, start, length), reduction: nn.Reduction.Sum);
                sum += losses.item<float>();
            }

            return sum / rows;
        }
        finally
        {
            module.train(wasTraining);
        }
    }

    private const long ChunkRows = 512;
}
