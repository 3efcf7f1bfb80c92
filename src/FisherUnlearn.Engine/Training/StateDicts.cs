using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Lineage.Hashing;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Training;

/// <summary>Helpers over state dicts (parameter name -> tensor). Returned tensors belong to the caller.</summary>
public static class StateDicts
{
    /// <summary>
    /// The element-wise mean of several state dicts with the same names and shapes (the <c>aggregate</c> and
    /// <c>merge</c> relations): floating-point entries are summed in the order given, in float32 or wider, then divided
    /// by the count; other entries (integer buffers) are copied from the first.
    /// </summary>
    public static Dictionary<string, Tensor> Average(IReadOnlyList<IReadOnlyDictionary<string, Tensor>> states)
    {
        ArgumentNullException.ThrowIfNull(states);
        if (states.Count == 0)
        {
            throw new ArgumentException("At least one state dict is needed.", nameof(states));
        }

        var first = states[0];
        foreach (var other in states.Skip(1))
        {
            var problems = first.Keys.Except(other.Keys).Concat(other.Keys.Except(first.Keys))
                .Concat(first.Keys.Intersect(other.Keys).Where(k => !first[k].shape.SequenceEqual(other[k].shape)))
                .ToArray();
            if (problems.Length > 0)
            {
                throw new ArgumentException($"The state dicts differ in: {string.Join(", ", problems.Distinct())}.", nameof(states));
            }
        }

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var noGrad = torch.no_grad();
        using var count = states.Count.ToScalar(); // Held past every native call (docs/engine-notes.md).
        foreach (var (name, tensor) in first.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (!tensor.is_floating_point())
            {
                result[name] = TensorCopies.Detached(tensor);
                continue;
            }

            var sum = TensorCopies.Detached(tensor);
            foreach (var other in states.Skip(1))
            {
                using var detached = other[name].detach();
                using var converted = detached.to_type(sum.dtype);
                sum.AddInPlace(converted);
            }

            sum.div_(count);
            result[name] = sum;
        }

        return result;
    }

    /// <summary>Detached copies of a module's state dict (parameters and buffers).</summary>
    public static Dictionary<string, Tensor> Copy(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var noGrad = torch.no_grad();
        return module.state_dict().ToDictionary(s => s.Key, s => TensorCopies.Detached(s.Value), StringComparer.Ordinal);
    }

    /// <summary>Copies a state dict into a module after checking names and shapes (FUL4025, naming
    /// <paramref name="source"/>).</summary>
    public static void LoadInto(nn.Module module, IReadOnlyDictionary<string, Tensor> state, string source, string architecture)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(state);
        CheckpointValidator.EnsureMatches(source, architecture, module, state);
        using var noGrad = torch.no_grad();
        foreach (var (name, target) in module.state_dict())
        {
            target.copy_(state[name]);
        }
    }

    /// <summary>SHA-256 of the state dict's safetensors bytes without metadata: equal to the content, not to the
    /// file (which also holds metadata).</summary>
    public static string Hash(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var tensors = state.ToDictionary(s => s.Key, s => SafetensorsTensor.FromTensor(s.Value), StringComparer.Ordinal);
        return ContentHash.OfBytes(SafetensorsFile.Serialize(tensors));
    }
}
