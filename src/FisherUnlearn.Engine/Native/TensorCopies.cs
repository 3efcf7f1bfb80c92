using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Native;

/// <summary>
/// Copies of tensors made without an unheld intermediate tensor (docs/engine-notes.md, "TorchSharp tensor
/// temporaries"): in <c>tensor.detach().clone()</c> the detached tensor is unreachable once <c>clone</c> has read its
/// handle, so outside a dispose scope the finalizer thread may free it while libtorch copies from it. Each intermediate
/// here is held in a local and disposed after the call that reads it. The results belong to the caller.
/// </summary>
internal static class TensorCopies
{
    /// <summary>A copy of the tensor's values that does not track gradients (PyTorch's <c>t.detach().clone()</c>).</summary>
    public static Tensor Detached(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using var detached = tensor.detach();
        return detached.clone();
    }

    /// <summary>The tensor's values, detached, on the CPU and contiguous (a new tensor; it may share memory with
    /// <paramref name="tensor"/> when that already is all three).</summary>
    public static Tensor DetachedContiguousCpu(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using var scope = torch.NewDisposeScope();
        return tensor.detach().cpu().contiguous().MoveToOuterDisposeScope();
    }
}
