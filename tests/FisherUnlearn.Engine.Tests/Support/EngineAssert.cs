using FisherUnlearn.Engine;
using FisherUnlearn.Engine.Checkpoints;

namespace FisherUnlearn.Engine.Tests.Support;

/// <summary>Assertions on engine errors and outputs.</summary>
internal static class EngineAssert
{
    public static EngineException Fails(string code, Action action)
    {
        var ex = Assert.Throws<EngineException>(action);
        Assert.Equal(code, ex.Diagnostic.Code);
        return ex;
    }

    public static byte[] Snapshot(string path) => File.ReadAllBytes(path);

    /// <summary>Two checkpoints hold the same names and, bit for bit, the same weights (their metadata may differ).</summary>
    public static void SameWeights(string one, string other)
    {
        var first = CheckpointStore.Load(one);
        var second = CheckpointStore.Load(other);
        try
        {
            Assert.Equal(first.Keys.Order(), second.Keys.Order());
            Assert.All(first, p => Assert.True(p.Value.allclose(second[p.Key], 0, 0), $"{p.Key} differs"));
        }
        finally
        {
            foreach (var tensor in first.Values.Concat(second.Values))
            {
                tensor.Dispose();
            }
        }
    }
}
