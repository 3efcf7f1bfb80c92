using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Training;

/// <summary>
/// Native <see cref="Scalar"/>s that are never finalized, and tensor helpers that use them, for the TorchSharp 0.107
/// Scalar lifetime race (docs/engine-notes.md): a temporary Scalar (any implicit <c>double/int -&gt; Scalar</c>
/// conversion, and the constants TorchSharp itself passes inside <c>add_(Tensor)</c>, <c>square()</c>,
/// <c>Tensor + Tensor</c>, <c>Tensor * double</c>, ...) can be freed by the finalizer thread while libtorch still reads
/// it. Static fields are GC roots, so these stay valid for the process; libtorch only reads them, so any thread may use
/// them. Each has the type TorchSharp's own temporary had (int 1 and 2, double 0 and 1), so results are unchanged.
/// For a value known only at run time, hold it in a local instead: <c>using var s = value.ToScalar();</c>.
/// </summary>
internal static class HeldScalars
{
    /// <summary>int 1: the <c>alpha</c> TorchSharp passes in <c>add(Tensor)</c> and <c>add_(Tensor)</c>.</summary>
    public static readonly Scalar IntOne;

    /// <summary>int 2: the exponent of TorchSharp's <c>square()</c> (<c>pow(2)</c>).</summary>
    public static readonly Scalar IntTwo;

    /// <summary>0.0.</summary>
    public static readonly Scalar DoubleZero;

    /// <summary>1.0.</summary>
    public static readonly Scalar DoubleOne;

    // An explicit static constructor (no beforefieldinit): the Scalars are created on first use, which is always after
    // TorchRuntime has loaded the native library.
    static HeldScalars()
    {
        IntOne = 1.ToScalar();
        IntTwo = 2.ToScalar();
        DoubleZero = 0.0.ToScalar();
        DoubleOne = 1.0.ToScalar();
    }

    /// <summary><c>target.add_(other)</c> (in place) with a held alpha of 1.</summary>
    public static Tensor AddInPlace(this Tensor target, Tensor other) => target.add_(other, IntOne);

    /// <summary><c>left.add(right)</c> (<c>left + right</c>) with a held alpha of 1.</summary>
    public static Tensor Plus(this Tensor left, Tensor right) => left.add(right, IntOne);

    /// <summary><c>x.square()</c>: <c>pow(2)</c> with a held exponent.</summary>
    public static Tensor Squared(this Tensor x) => x.pow(IntTwo);
}
