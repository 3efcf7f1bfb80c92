using System.Runtime.CompilerServices;
using FisherUnlearn.Engine.Native;

namespace FisherUnlearn.Engine.Tests.Support;

/// <summary>
/// Gives the test process the native settings the engine sets before libtorch loads (<c>MKL_CBWR</c>,
/// <c>OMP_WAIT_POLICY</c>; docs/engine-notes.md) before any test runs: a test class that touches TorchSharp directly,
/// before anything calls <see cref="TorchRuntime"/>, would otherwise load libtorch without them, and MKL's results would
/// differ in the last bit from run to run on some CPUs (an AMD EPYC here), failing bit-identity tests depending on which
/// class the runner happened to start with.
/// </summary>
internal static class NativeSettings
{
#pragma warning disable CA2255 // A module initializer is the one hook that runs before every test class of the assembly.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Apply() => TorchRuntime.ApplyNativeDefaults();
}
