using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Fisher;

/// <summary>
/// Computes diagonal Fisher importances of a model on data (<see cref="FisherEstimator"/>). The model is put in
/// <c>eval()</c> mode while computing, as the reference does (dropout off, BatchNorm on running statistics; gradients
/// still flow), and its mode, <c>requires_grad</c> flags and weights are as before afterwards; its <c>.grad</c> fields are
/// cleared. Labels are the data's true labels (the empirical Fisher): for a forget set, the labels being forgotten.
/// Synchronous, on the calling thread (TorchSharp's dispose scopes and no_grad are per thread); CPU.
/// </summary>
public static class FisherCalculator
{
    public static FisherDiagonal Compute(nn.Module<Tensor, Tensor> model, DataSplit data, FisherOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return ComputeEach(model, [data], options, cancellationToken)[0];
    }

    /// <summary>
    /// The diagonal of each part of data, the same values one <see cref="Compute"/> per part gives, with the model set up
    /// once (and, for the exact estimator, its layers found and probed once): a harvest computes a model's ten labels
    /// this way.
    /// </summary>
    public static IReadOnlyList<FisherDiagonal> ComputeEach(nn.Module<Tensor, Tensor> model, IReadOnlyList<DataSplit> parts, FisherOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(parts);
        options ??= new FisherOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(options.BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ChunkSize, 1, nameof(options.ChunkSize));
        if (options.Estimator.UsesTemperature() && !(double.IsFinite(options.Temperature) && options.Temperature > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Temperature, "The temperature must be finite and > 0.");
        }
        TorchRuntime.EnsureLoaded();

        var all = model.named_parameters().Select(p => (Name: p.name, Parameter: p.parameter)).ToList();
        if (options.Parameters is { } wanted)
        {
            var unknown = wanted.Where(w => all.All(p => p.Name != w)).ToList();
            if (unknown.Count > 0)
            {
                throw new ArgumentException($"The model has no parameter {string.Join(", ", unknown.Select(u => $"'{u}'"))}; it has {string.Join(", ", all.Select(p => p.Name))}.", nameof(options));
            }
        }

        var selected = options.Parameters is null ? all : all.Where(p => options.Parameters.Contains(p.Name)).ToList();
        var wasTraining = model.training;
        var requiresGrad = all.Select(p => p.Parameter.requires_grad).ToArray();
        var accumulators = parts.Select(_ => new Dictionary<string, Tensor>(StringComparer.Ordinal)).ToList();
        try
        {
            var selectedNames = selected.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var (name, parameter) in all)
            {
                parameter.requires_grad = selectedNames.Contains(name);
            }

            model.eval();
            using (torch.no_grad())
            {
                foreach (var part in accumulators)
                {
                    foreach (var (name, parameter) in selected)
                    {
                        part[name] = torch.zeros(parameter.shape, parameter.dtype);
                    }
                }
            }

            var divisors = options.Estimator switch
            {
                FisherEstimator.Exact or FisherEstimator.Tempered => ExactFisher.AccumulateEach(model, parts, selected, accumulators, options, cancellationToken),
                FisherEstimator.Batch => [.. parts.Select((p, i) => BatchLevel(model, p, selected, accumulators[i], options.BatchSize, labelFree: false, cancellationToken))],
                FisherEstimator.LabelFree => [.. parts.Select((p, i) => BatchLevel(model, p, selected, accumulators[i], options.BatchSize, labelFree: true, cancellationToken))],
                _ => throw new ArgumentOutOfRangeException(nameof(options), options.Estimator, "Unknown estimator."),
            };
            var results = new List<FisherDiagonal>(parts.Count);
            for (var i = 0; i < parts.Count; i++)
            {
                if (divisors[i] > 0)
                {
                    using var noGrad = torch.no_grad();
                    using var heldDivisor = divisors[i].ToScalar(); // Held past every native call (docs/engine-notes.md).
                    foreach (var accumulator in accumulators[i].Values)
                    {
                        accumulator.div_(heldDivisor);
                    }
                }

                results.Add(FisherDiagonal.FromTensors(accumulators[i], options.Estimator, parts[i].Count, options.BatchSize, options.Temperature));
            }

            return results;
        }
        finally
        {
            model.zero_grad();
            for (var i = 0; i < all.Count; i++)
            {
                all[i].Parameter.requires_grad = requiresGrad[i];
            }

            model.train(wasTraining);
            foreach (var accumulator in accumulators.SelectMany(a => a.Values))
            {
                accumulator.Dispose();
            }
        }
    }

    // The reference estimators (SSD calc_importance; LFSSD): one backward per mini-batch of the data in order, the last
    // batch possibly smaller (DataLoader's drop_last=False); the sum is divided by the number of batches.
    private static int BatchLevel(nn.Module<Tensor, Tensor> model, DataSplit data, IReadOnlyList<(string Name, Parameter Parameter)> selected,
        Dictionary<string, Tensor> accumulators, int batchSize, bool labelFree, CancellationToken cancellationToken)
    {
        var batches = 0;
        foreach (var batch in data.Batches(batchSize))
        {
            using var features = batch.Features;
            using var labels = batch.Labels;
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            model.zero_grad();
            var output = model.call(features);
            var loss = labelFree
                ? output.flatten(1).Squared().sum(dim: 1).mean()
                : nn.functional.cross_entropy(output, labels);
            loss.backward();
            using (torch.no_grad())
            {
                foreach (var (name, parameter) in selected)
                {
                    var grad = parameter.grad;
                    if (grad is not null)
                    {
                        accumulators[name].AddInPlace(labelFree ? grad.abs() : grad.Squared());
                    }
                }
            }

            batches++;
        }

        return batches;
    }
}
