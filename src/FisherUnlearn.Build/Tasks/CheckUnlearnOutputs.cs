using System.Globalization;
using FisherUnlearn.Lineage.Diagnostics;
using Microsoft.Build.Framework;

namespace FisherUnlearn.Build.Tasks;

/// <summary>
/// <c>msbuild -question</c> support for the Unlearn target. MSBuild sets <see cref="FailIfNotIncremental"/> only in
/// question mode; then this task logs FUL3012 for every unlearned checkpoint that the Unlearn target would (re)write, writes
/// nothing and fails. Otherwise it does nothing. An output is stale when it is missing, when one of its inputs is newer, or
/// when the input-hash cache would change (then every output of the project is).
/// </summary>
public sealed class CheckUnlearnOutputs : Microsoft.Build.Utilities.Task, IIncrementalTask
{
    /// <summary>The Unlearn target's inputs: one item per (input file, model, removal), metadata ModelId, RemovalId, OutputPath
    /// and Manifest, ManifestLine, ManifestColumn (the model's lineage manifest, where FUL3012 points).</summary>
    public ITaskItem[] Inputs { get; set; } = [];

    public string? CacheFile { get; set; }

    /// <summary>The cache content the build would write.</summary>
    public string[] CacheLines { get; set; } = [];

    public bool FailIfNotIncremental { get; set; }

    /// <summary>The outputs found stale (only in question mode).</summary>
    [Output]
    public ITaskItem[] Stale { get; private set; } = [];

    public override bool Execute()
    {
        if (!FailIfNotIncremental)
        {
            return true;
        }

        var stale = FindStale(Inputs, CacheFile, CacheLines);
        foreach (var item in stale)
        {
            Log.Log(Diagnostic.Create(DiagnosticCatalogue.UnlearnedOutputStale, ManifestLocation(item),
                item.ItemSpec, item.GetMetadata("ModelId"), item.GetMetadata("RemovalId"), item.GetMetadata("Reason")));
        }

        Stale = [.. stale];
        return stale.Count == 0;
    }

    /// <summary>Where a stale output's model is declared (its lineage manifest, at the id); null without Manifest metadata.</summary>
    internal static SourceLocation? ManifestLocation(ITaskItem item)
    {
        var manifest = item.GetMetadata("Manifest");
        if (string.IsNullOrEmpty(manifest))
        {
            return null;
        }

        _ = int.TryParse(item.GetMetadata("ManifestLine"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var line);
        _ = int.TryParse(item.GetMetadata("ManifestColumn"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var column);
        return new SourceLocation(manifest, Math.Max(line, 0), Math.Max(column, 0));
    }

    /// <summary>The outputs (item spec = output path, metadata ModelId, RemovalId, Reason and the Manifest* metadata of the
    /// inputs) that are not up to date.</summary>
    internal static List<ITaskItem> FindStale(IEnumerable<ITaskItem> inputs, string? cacheFile, IReadOnlyList<string> cacheLines)
    {
        var cacheChanged = cacheFile is not null && !CacheMatches(cacheFile, cacheLines);
        var cacheTime = cacheFile is not null && File.Exists(cacheFile) ? File.GetLastWriteTimeUtc(cacheFile) : DateTime.MinValue;
        var stale = new List<ITaskItem>();
        foreach (var group in inputs.GroupBy(i => i.GetMetadata("OutputPath"), StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var output = group.Key;
            string? reason = null;
            if (!File.Exists(output))
            {
                reason = "missing";
            }
            else if (cacheChanged)
            {
                reason = "inputs changed";
            }
            else
            {
                var written = File.GetLastWriteTimeUtc(output);
                var newer = group.Select(i => i.ItemSpec).FirstOrDefault(f => !File.Exists(f) || File.GetLastWriteTimeUtc(f) > written);
                if (newer is not null)
                {
                    reason = $"'{newer}' is newer";
                }
                else if (cacheTime > written)
                {
                    reason = "inputs changed";
                }
            }

            if (reason is not null)
            {
                var first = group.First();
                stale.Add(new Microsoft.Build.Utilities.TaskItem(output, new Dictionary<string, string>
                {
                    ["ModelId"] = first.GetMetadata("ModelId"),
                    ["RemovalId"] = first.GetMetadata("RemovalId"),
                    ["Reason"] = reason,
                    ["Manifest"] = first.GetMetadata("Manifest"),
                    ["ManifestLine"] = first.GetMetadata("ManifestLine"),
                    ["ManifestColumn"] = first.GetMetadata("ManifestColumn"),
                }));
            }
        }

        return stale;
    }

    private static bool CacheMatches(string cacheFile, IReadOnlyList<string> lines)
    {
        if (!File.Exists(cacheFile))
        {
            return false;
        }

        var existing = File.ReadAllLines(cacheFile);
        return existing.SequenceEqual(lines, StringComparer.Ordinal);
    }
}
