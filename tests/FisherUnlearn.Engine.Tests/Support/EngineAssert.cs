using FisherUnlearn.Engine;

namespace FisherUnlearn.Engine.Tests.Support;

/// <summary>Assertions on engine errors.</summary>
internal static class EngineAssert
{
    public static EngineException Fails(string code, Action action)
    {
        var ex = Assert.Throws<EngineException>(action);
        Assert.Equal(code, ex.Diagnostic.Code);
        return ex;
    }

    public static byte[] Snapshot(string path) => File.ReadAllBytes(path);
}
