using FisherUnlearn.Lineage.Diagnostics;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Checkpoints;

/// <summary>Checks that a state dict fits a module: the same names and, for each, the same shape.</summary>
public static class CheckpointValidator
{
    /// <summary>Every difference, one line each (missing, unexpected, wrong shape), in name order; empty when they fit.</summary>
    public static IReadOnlyList<string> FindMismatches(nn.Module module, IReadOnlyDictionary<string, IReadOnlyList<long>> shapes)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(shapes);
        var expected = module.state_dict().ToDictionary(p => p.Key, p => (IReadOnlyList<long>)p.Value.shape, StringComparer.Ordinal);
        const string Wrapped = "module.";
        if (shapes.Count > 0 && shapes.Keys.All(n => n.StartsWith(Wrapped, StringComparison.Ordinal)) && !expected.Keys.Any(n => n.StartsWith(Wrapped, StringComparison.Ordinal))
            && shapes.Keys.Select(n => n[Wrapped.Length..]).ToHashSet(StringComparer.Ordinal).SetEquals(expected.Keys))
        {
            // A state dict saved from torch.nn.DataParallel / DistributedDataParallel: one line that says so, not a list of
            // every name as missing and unexpected.
            return [$"every name carries the '{Wrapped}' prefix of torch.nn.DataParallel or DistributedDataParallel ('{shapes.Keys.Order(StringComparer.Ordinal).First()}'): save model.module.state_dict() instead, or strip the prefix from the names"];
        }

        var problems = new List<string>();
        foreach (var name in expected.Keys.Union(shapes.Keys).OrderBy(n => n, StringComparer.Ordinal))
        {
            var inModule = expected.TryGetValue(name, out var want);
            var inCheckpoint = shapes.TryGetValue(name, out var have);
            if (!inCheckpoint)
            {
                problems.Add($"missing '{name}' {SafetensorsFile.Describe(want!)}");
            }
            else if (!inModule)
            {
                problems.Add($"unexpected '{name}' {SafetensorsFile.Describe(have!)}");
            }
            else if (!want!.SequenceEqual(have!))
            {
                problems.Add($"'{name}' has shape {SafetensorsFile.Describe(have!)}, expected {SafetensorsFile.Describe(want!)}");
            }
        }

        return problems;
    }

    public static IReadOnlyList<string> FindMismatches(nn.Module module, IReadOnlyDictionary<string, Tensor> state) =>
        FindMismatches(module, state.ToDictionary(s => s.Key, s => (IReadOnlyList<long>)s.Value.shape, StringComparer.Ordinal));

    /// <summary>Throws FUL4025, listing every difference, unless the state dict fits the module.</summary>
    public static void EnsureMatches(string path, string architecture, nn.Module module, IReadOnlyDictionary<string, Tensor> state)
    {
        var problems = FindMismatches(module, state);
        if (problems.Count > 0)
        {
            throw EngineException.Create(DiagnosticCatalogue.CheckpointArchitectureMismatch, path, path, architecture, string.Join("; ", problems));
        }
    }
}
