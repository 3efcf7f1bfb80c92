using FisherUnlearn.Engine.Checkpoints;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Training;

/// <summary>A trained model (owned: dispose it) and what its training did.</summary>
public sealed class TrainingResult(string modelId, nn.Module<Tensor, Tensor> module, TrainingStats stats) : IDisposable
{
    public string ModelId { get; } = modelId;

    /// <summary>The trained network, on the CPU, every parameter with <c>requires_grad</c> on.</summary>
    public nn.Module<Tensor, Tensor> Module { get; } = module;

    public TrainingStats Stats { get; } = stats;

    /// <summary>Detached copies of the weights; the caller owns them.</summary>
    public Dictionary<string, Tensor> StateDict() => StateDicts.Copy(Module);

    /// <summary>Saves the weights atomically (safetensors bytes depend only on the weights and metadata).</summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) => CheckpointStore.Save(path, Module, metadata);

    public void Dispose() => Module.Dispose();
}
