using FisherUnlearn.Engine;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Tool.Cli;

namespace FisherUnlearn.Tool.Running;

/// <summary>The check <c>run</c> and <c>verify</c> share before they start: a removal's sample indices against the splits
/// they name (validate and plan read no data, so they cannot make it unless a split declares its <c>count</c>).</summary>
internal static class SampleIndices
{
    /// <summary>False, with the diagnostic written (FUL2013 at the selection, or the data's own error when a split cannot
    /// be read), when an index is outside its split.</summary>
    /// <param name="splits">Where the splits are read through (the command's own, so that what it reads later is not decoded
    /// again); null: a cache of this check's.</param>
    public static bool Fit(CommandEnvironment env, RemovalManifest removal, Lineage.Workspace workspace, SplitCache? splits = null)
    {
        try
        {
            RemovalData.CheckSampleIndices(removal, workspace.Datasets.Values, splits ?? new SplitCache());
            return true;
        }
        catch (EngineException ex)
        {
            env.Diagnostics.Write(ex.Diagnostic);
            return false;
        }
    }
}
