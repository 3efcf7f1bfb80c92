namespace FisherUnlearn.Engine.Tests.Support;

/// <summary>Tests of the engine's inputs that use TorchSharp: run one at a time (global RNG, native memory).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EngineInputsTorchCollection
{
    public const string Name = "Engine inputs (TorchSharp)";
}
