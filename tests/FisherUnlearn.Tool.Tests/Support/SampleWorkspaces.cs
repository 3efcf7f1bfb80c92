using FisherUnlearn.Testing;

namespace FisherUnlearn.Tool.Tests.Support;

/// <summary>Small workspaces written to temporary folders for command scenarios.</summary>
internal static class SampleWorkspaces
{
    /// <summary>Dataset <c>toy</c> (4 classes); chain a (labels 0, 1) -> b (label 2, finetune); removals
    /// <c>forget-1</c> (root a), <c>forget-2</c> (root b) and <c>forget-3</c> (no model trains on label 3).</summary>
    public static TempWorkspace Chain()
    {
        var ws = new TempWorkspace();
        ToyChain.Write(ws);
        ws.Write("forget-1.removal.json", """{ "schemaVersion": 1, "id": "forget-1", "forget": { "labels": [1] } }""");
        ws.Write("forget-2.removal.json", """{ "schemaVersion": 1, "id": "forget-2", "forget": { "labels": [2] } }""");
        ws.Write("forget-3.removal.json", """{ "schemaVersion": 1, "id": "forget-3", "forget": { "labels": [3] } }""");
        return ws;
    }
}
