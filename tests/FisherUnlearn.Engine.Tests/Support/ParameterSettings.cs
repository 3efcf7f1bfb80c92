using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Tests.Support;

/// <summary>Method settings as a removal manifest with these <c>parameters</c> (raw JSON values) gets them.</summary>
internal static class ParameterSettings
{
    public static UnlearnSettings Read(params (string Key, string Raw)[] parameters) => UnlearnSettings.From(new RemovalManifest
    {
        Id = "r",
        ManifestPath = "r.removal.json",
        Location = new SourceLocation("r.removal.json"),
        Parameters = parameters.ToDictionary(p => p.Key, p => p.Raw),
    });
}
