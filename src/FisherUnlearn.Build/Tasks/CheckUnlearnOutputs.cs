using System.Globalization;
using FisherUnlearn.Lineage.Diagnostics;
using Microsoft.Build.Framework;

namespace FisherUnlearn.Build.Tasks;

/// <summary>
/// <c>msbuild -question</c> support for the Unlearn target. MSBuild sets <see cref="FailIfNotIncremental"/> only in
/// question mode; then this task logs FUL3012 for every unlearned checkpoint that the Unlearn target would (re)write, writes
/// nothing and fails. Otherwise it does nothing. An output is stale when it is missing, when one of its inputs is newer, or
/// when its (removal, model) pair's input-hash cache would change.
/// </summary>
public sealed class CheckUnlearnOutputs : Microsoft.Build.Utilities.Task, IIncrementalTask
{
    /// <summary>The Unlearn target's inputs: one item per (input file, model, removal), metadata ModelId, RemovalId, OutputPath,
    /// InputsCache (the pair's input-hash cache file) and Manifest, ManifestLine, ManifestColumn (the model's lineage
    /// manifest, where FUL3012 points).</summary>
    public ITaskItem[] Inputs { get; set; } = [];

    /// <summary>The cache content the build would write: one item per line, metadata CacheFile.</summary>
    public ITaskItem[] CacheLines { get; set; } = [];

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

        var stale = FindStale(Inputs, CacheLines);
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
    internal static List<ITaskItem> FindStale(IEnumerable<ITaskItem> inputs, IEnumerable<ITaskItem> cacheLines)
    {
        var caches = cacheLines.GroupBy(l => l.GetMetadata("CacheFile"), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(l => l.ItemSpec).ToList(), StringComparer.Ordinal);
        var stale = new List<ITaskItem>();
        foreach (var group in inputs.GroupBy(i => i.GetMetadata("OutputPath"), StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var output = group.Key;
            var cache = group.First().GetMetadata("InputsCache");
            string? reason = null;
            if (!File.Exists(output))
            {
                reason = "missing";
            }
            else if (group.First().GetMetadata("Uncertified") is { Length: > 0 } uncertified)
            {
                reason = uncertified; // OutputCertificate: not the output the tool made for this request
            }
            else if (cache.Length > 0 && caches.TryGetValue(cache, out var lines) && !CacheMatches(cache, lines))
            {
                reason = "inputs changed";
            }
            else
            {
                // The pair's cache file is one of its inputs: written after the output, it means an earlier change.
                var written = File.GetLastWriteTimeUtc(output);
                var newer = group.Select(i => i.ItemSpec).FirstOrDefault(f => !File.Exists(f) || File.GetLastWriteTimeUtc(f) > written);
                if (newer is not null)
                {
                    reason = string.Equals(newer, cache, StringComparison.Ordinal) ? "inputs changed" : $"'{newer}' is newer";
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
