namespace FisherUnlearn.Engine.Checkpoints;

/// <summary>The content of a safetensors file: tensors by name (ordinal order) and the string metadata.</summary>
public sealed record SafetensorsDocument(
    IReadOnlyDictionary<string, SafetensorsTensor> Tensors,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>One tensor's header entry: its type, shape and byte range in the data section.</summary>
public sealed record SafetensorsEntry(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape, long Begin, long End);

/// <summary>A safetensors file's validated header (<see cref="SafetensorsFile.ReadHeader(string)"/>).</summary>
/// <param name="Path">The file.</param>
/// <param name="FileLength">Its length when the header was read.</param>
/// <param name="DataStart">Where the data section starts (8 + header length).</param>
/// <param name="Entries">Every tensor's entry, in header order.</param>
/// <param name="Metadata">The string metadata.</param>
public sealed record SafetensorsHeader(string Path, long FileLength, long DataStart, IReadOnlyList<SafetensorsEntry> Entries, IReadOnlyDictionary<string, string> Metadata);
