using System.Text.Json;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Planning;

namespace FisherUnlearn.Build;

/// <summary>
/// Whether an existing unlearned output is the one the tool made for this build's request: the job record that
/// <c>dotnet unlearn run</c> writes beside it (<c>&lt;removal folder&gt;/.jobs/&lt;model&gt;.json</c>) must say it succeeded
/// with the method the build asks for and must name the output's current content (SHA-256). Timestamps and the input-hash
/// caches see only the inputs, so without this a copy of the original checkpoint placed there, or an output remade by
/// hand with another method, passed for up to date in the build while <c>status</c>, <c>plan --check</c> and <c>verify</c>
/// called it stale (found in QA).
/// </summary>
public static class OutputCertificate
{
    /// <summary>Null when the output is missing (stale by its timestamp) or vouched for by its record; else why not.</summary>
    /// <param name="method">The method this build asks for (<c>UnlearnMethod</c>, else the removal's, else
    /// <c>unlearn.json</c>'s, else <c>fiun</c>, as the tool resolves it).</param>
    public static string? Problem(string output, string modelId, string method, FileHashStore hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        if (!File.Exists(output))
        {
            return null;
        }

        var recordPath = JobRecordFiles.PathOf(Path.GetDirectoryName(output)!, modelId);
        if (!File.Exists(recordPath))
        {
            return "no job record says 'dotnet unlearn run' made it";
        }

        string? status, recordedMethod, name, sha;
        try
        {
            using var record = JsonDocument.Parse(File.ReadAllBytes(recordPath));
            var root = record.RootElement;
            string? Text(string property) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            (status, recordedMethod, name, sha) = (Text("status"), Text("method"), Text("output"), Text("outputSha256"));
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            return "its job record cannot be read";
        }

        if (status != "done" || name != Path.GetFileName(output) || sha is null)
        {
            return "its job record does not say it was made";
        }

        if (!string.Equals(recordedMethod, method, StringComparison.OrdinalIgnoreCase))
        {
            return $"it was made with '{recordedMethod}' and this build asks for '{method}'";
        }

        return string.Equals(hashes.Hash(output), sha, StringComparison.OrdinalIgnoreCase) ? null : "its content is not what its job record says 'dotnet unlearn run' wrote";
    }

    /// <summary>The method the tool runs for <paramref name="removal"/>: the build's <c>UnlearnMethod</c>, else the removal's,
    /// else the workspace's, else the default.</summary>
    public static string MethodFor(string? buildMethod, RemovalManifest removal, WorkspaceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(removal);
        ArgumentNullException.ThrowIfNull(settings);
        var method = !string.IsNullOrWhiteSpace(buildMethod) ? buildMethod : removal.Method ?? settings.Method ?? RemovalManifest.DefaultMethod;
        return method.Trim().ToLowerInvariant();
    }
}
