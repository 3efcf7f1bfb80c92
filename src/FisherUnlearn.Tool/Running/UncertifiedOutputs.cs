using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Text;

namespace FisherUnlearn.Tool.Running;

/// <summary>
/// The outputs <c>verify</c> measured that are not the current request's: made before an input changed or changed since
/// (<see cref="Stale"/>, FUL5006), made with another method than the request's (<see cref="OtherMethod"/>: model id to
/// the method its record names, FUL5009), or without the job record that says what made them (<see cref="Unrecorded"/>,
/// FUL5007).
/// </summary>
internal sealed record UncertifiedOutputs(IReadOnlyList<string> Stale, IReadOnlyDictionary<string, string> OtherMethod, IReadOnlyList<string> Unrecorded)
{
    public bool IsEmpty => Stale.Count == 0 && OtherMethod.Count == 0 && Unrecorded.Count == 0;

    /// <summary>The model's status in verify's JSON: <c>stale</c>, <c>unrecorded</c> or <c>done</c>.</summary>
    public string Status(string id) => Stale.Contains(id) || OtherMethod.ContainsKey(id) ? "stale" : Unrecorded.Contains(id) ? "unrecorded" : "done";

    /// <summary>The code that says why the model's output is not certified, or null when it is.</summary>
    public string? Code(string id) =>
        Stale.Contains(id) ? DiagnosticCatalogue.VerifiedOutputStale.Code
        : OtherMethod.ContainsKey(id) ? DiagnosticCatalogue.VerifiedOutputOtherMethod.Code
        : Unrecorded.Contains(id) ? DiagnosticCatalogue.VerifiedOutputUnrecorded.Code
        : null;

    /// <summary>Why, in the words of the reports' error column, or null when the output is certified.</summary>
    public string? Why(string id) =>
        Stale.Contains(id) ? "out of date: an input changed since it was made, or the output since it was written"
        : OtherMethod.TryGetValue(id, out var made) ? $"made with '{made}', not the method the request asks for"
        : Unrecorded.Contains(id) ? "no job record: nothing shows 'run' made this output for the current request"
        : null;

    /// <summary>One error per kind (and per other method), at the removal manifest. <paramref name="methodGiven"/>: the
    /// method came from <c>verify --method</c>, not from the request, which changes what to do about FUL5009.</summary>
    public IEnumerable<Diagnostic> Diagnostics(RemovalManifest removal, string method, bool methodGiven = false)
    {
        ArgumentNullException.ThrowIfNull(removal);
        if (Stale.Count > 0)
        {
            yield return Diagnostic.Create(DiagnosticCatalogue.VerifiedOutputStale, removal.Location, NameList.Quoted([.. Stale]), removal.Id);
        }

        foreach (var group in OtherMethod.GroupBy(p => p.Value, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var (source, advice) = methodGiven
                ? ("given with --method",
                    $"Verify them as made with 'dotnet unlearn verify {removal.Id} --method {group.Key}' (or without --method when that is the request's own), or make them with '{method}' first: 'dotnet unlearn run {removal.Id} --method {method}'.")
                : ($"the method '{removal.Id}' asks for: its manifest's, else 'method' of unlearn.json, else fiun",
                    $"Run 'dotnet unlearn run {removal.Id}' to make them with '{method}', or, when 'run' was given '--method {group.Key}' on purpose, verify them with 'dotnet unlearn verify {removal.Id} --method {group.Key}'.");
            yield return Diagnostic.Create(DiagnosticCatalogue.VerifiedOutputOtherMethod, removal.Location,
                NameList.Quoted([.. group.Select(p => p.Key).Order(StringComparer.Ordinal)]), group.Key, method, source, advice);
        }

        if (Unrecorded.Count > 0)
        {
            yield return Diagnostic.Create(DiagnosticCatalogue.VerifiedOutputUnrecorded, removal.Location, NameList.Quoted([.. Unrecorded]), removal.Id);
        }
    }
}
