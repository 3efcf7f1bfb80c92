namespace FisherUnlearn.Engine.Checkpoints;

/// <summary>The content of a safetensors file: tensors by name (ordinal order) and the string metadata.</summary>
public sealed record SafetensorsDocument(
    IReadOnlyDictionary<string, SafetensorsTensor> Tensors,
    IReadOnlyDictionary<string, string> Metadata);
