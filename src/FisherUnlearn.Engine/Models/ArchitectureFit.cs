using System.Runtime.InteropServices;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Models;

/// <summary>
/// Whether a model's data go through its network: one sample, forward, in eval mode and without gradients, before any
/// real work. Data of another size than the architecture's inputs (an mlp with 'inputs' 100 on 28x28 digits, a cnn
/// 'inputShape' of 20x20) or a custom module with another number of outputs than 'classes' would otherwise fail deep in
/// libtorch, with a native stack trace; here they are FUL4068, at the model's manifest, saying what does not fit.
/// </summary>
public static class ArchitectureFit
{
    /// <exception cref="EngineException">FUL4068 when a sample of <paramref name="data"/> does not fit.</exception>
    public static void Check(nn.Module<Tensor, Tensor> module, ModelManifest model, DataSplit data)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0)
        {
            return;
        }

        var sample = $"samples of shape [{string.Join(", ", data.SampleShape)}] from the {data.SplitName} split of '{data.DatasetId}'";
        // A built-in network takes a known number of values per sample: said in those words, not as libtorch's "mat1 and mat2
        // shapes cannot be multiplied (2x4 and 5x8)" (QA).
        var values = data.SampleShape.Aggregate(1L, (product, d) => product * d);
        var takes = model.Architecture.Kind switch
        {
            ArchitectureSpec.Mlp => model.Architecture.Inputs,
            ArchitectureSpec.Cnn when model.Architecture.InputShape.Count == 3 => model.Architecture.InputShape.Aggregate(1, (product, d) => product * d),
            _ => null,
        };
        if (takes is { } expected && expected != values)
        {
            var field = model.Architecture.Kind == ArchitectureSpec.Mlp ? $"'inputs' {expected}" : $"'inputShape' [{string.Join(", ", model.Architecture.InputShape)}]";
            throw Unfit(model, sample, $"its {field} takes {expected} values per sample, and these have {values}", null);
        }

        // Images (an IDX or safetensors split whose samples have two or more dimensions) of as many values in another layout
        // would be reshaped silently: QA's 'inputShape' [4, 14, 14] on 28x28 digits trained on the pixels cut into four
        // channels. A leading channel of 1 may be left out of the data ([28, 28] for [1, 28, 28]).
        if (model.Architecture.Kind == ArchitectureSpec.Cnn && model.Architecture.InputShape.Count == 3 && data.SampleShape.Count >= 2
            && !SameLayout(data.SampleShape, model.Architecture.InputShape))
        {
            var fix = data.SampleShape.Count == 2
                ? $"set 'inputShape' to [1, {string.Join(", ", data.SampleShape)}]"
                : "a cnn takes [C, H, W]: set 'inputShape' to the samples' layout when it is that, or store them channels first";
            throw Unfit(model, sample, $"its 'inputShape' [{string.Join(", ", model.Architecture.InputShape)}] would rearrange the values of each sample into another layout; {fix}", null);
        }

        var wasTraining = module.training;
        module.eval(); // no batch-norm statistics change, no dropout
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            // Two samples when there are: a module that gives one row whatever the batch (a flatten over the batch) fits one.
            var (features, _) = data.Batches(Math.Min(2, data.Count)).First();
            var batch = features.shape[0];
            Tensor output;
            try
            {
                output = module.call(features);
            }
            // Running out of memory is not data that do not fit: left to the step's own FUL3025 (or its failure).
            catch (Exception ex) when (ex is ExternalException or ArgumentException or InvalidOperationException or IndexOutOfRangeException && !ModelFactory.IsAllocationFailure(ex))
            {
                throw Unfit(model, sample, $"they do not go through it ({EngineException.FirstLine(ex.Message)})", ex);
            }

            if (output.dim() != 2 || output.shape[0] != batch || output.shape[1] != model.Architecture.Classes)
            {
                throw Unfit(model, sample,
                    $"it gives outputs of shape [{string.Join(", ", output.shape)}] for {(batch == 1 ? "one sample" : $"{batch} samples")}, not [{batch}, {model.Architecture.Classes}] (one row per sample, 'classes' columns)", null);
            }
        }
        finally
        {
            if (wasTraining)
            {
                module.train();
            }
        }
    }

    private static bool SameLayout(IReadOnlyList<int> sample, IReadOnlyList<int> inputShape) =>
        sample.SequenceEqual(inputShape) || (inputShape[0] == 1 && sample.SequenceEqual(inputShape.Skip(1)));

    /// <summary><see cref="Check"/> on the train split of <paramref name="dataset"/> and on its test split when it has one:
    /// the test split is read by calibration (a sample request's held-out accuracy) and by every metric, and one whose
    /// samples have another shape failed deep in libtorch (verify aborted the process).</summary>
    /// <exception cref="EngineException">FUL4068 when a sample of either split does not fit.</exception>
    public static void CheckSplits(nn.Module<Tensor, Tensor> module, ModelManifest model, DatasetManifest dataset, SplitCache splits)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(splits);
        if (splits.TryGet(dataset, "train") is { } train)
        {
            Check(module, model, train);
        }

        if (dataset.Test is not null)
        {
            Check(module, model, splits.Get(dataset, "test"));
        }
    }

    private static EngineException Unfit(ModelManifest model, string sample, string problem, Exception? inner) =>
        EngineException.At(DiagnosticCatalogue.DataDoesNotFitArchitecture, model.ArchitectureLocation ?? model.Location, inner, model.Id, model.Architecture, sample, problem);
}
