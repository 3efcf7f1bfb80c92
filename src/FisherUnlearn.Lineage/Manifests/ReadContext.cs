using System.Globalization;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Json;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>State of reading one manifest: where it is, the workspace it belongs to, and the problems found.
/// Holds the typed value checks shared by the readers; every check reports and returns null on a bad value.</summary>
internal sealed class ReadContext
{
    public ReadContext(string file, string workspaceRoot, DiagnosticBag diagnostics)
    {
        File = file;
        WorkspaceRoot = workspaceRoot;
        ManifestDirectory = Path.GetDirectoryName(file) is { Length: > 0 } directory ? directory : workspaceRoot;
        Diagnostics = diagnostics;
    }

    public string File { get; }

    public string WorkspaceRoot { get; }

    public string ManifestDirectory { get; }

    public DiagnosticBag Diagnostics { get; }

    /// <summary>Where the manifest's <c>id</c> value is, once read.</summary>
    public SourceLocation? IdLocation { get; set; }

    public SourceLocation At(JsonNode node) => new(File, node.Line, node.Column);

    /// <summary>Where each whole number 0..<paramref name="max"/> of an array is written (the first place, when repeated),
    /// so that a check made later, against another file, can point at the value itself.</summary>
    public IReadOnlyDictionary<int, SourceLocation> LocationsOf(JsonArray array, int max)
    {
        ArgumentNullException.ThrowIfNull(array);
        var locations = new Dictionary<int, SourceLocation>();
        foreach (var item in array.Items)
        {
            if (item is JsonNumber number && number.TryGetInt64(out var value) && value >= 0 && value <= max)
            {
                locations.TryAdd((int)value, At(item));
            }
        }

        return locations;
    }

    public SourceLocation At(JsonProperty property) => new(File, property.Line, property.Column);

    public void Report(DiagnosticDescriptor descriptor, JsonNode at, params object?[] args) =>
        Diagnostics.Report(descriptor, At(at), args);

    public void Report(DiagnosticDescriptor descriptor, JsonProperty at, params object?[] args) =>
        Diagnostics.Report(descriptor, At(at), args);

    public void WrongType(string name, string expected, JsonNode actual) =>
        Report(DiagnosticCatalogue.WrongType, actual, name, expected, actual.Describe());

    public string? AsString(JsonNode node, string name, bool allowEmpty = false)
    {
        if (node is not JsonString s)
        {
            WrongType(name, "a string", node);
            return null;
        }

        if (!allowEmpty && s.Value.Length == 0)
        {
            Report(DiagnosticCatalogue.EmptyValue, node, name);
            return null;
        }

        return s.Value;
    }

    public long? AsLong(JsonNode node, string name, long min, long max)
    {
        if (node is not JsonNumber number || !number.IsWhole)
        {
            WrongType(name, "an integer", node);
            return null;
        }

        if (!number.TryGetInt64(out var value) || value < min || value > max)
        {
            Report(DiagnosticCatalogue.OutOfRange, node, name, number.Raw, Range(min, max));
            return null;
        }

        return value;
    }

    public int? AsInt(JsonNode node, string name, int min, int max) => (int?)AsLong(node, name, min, max);

    /// <summary>A number in [min, max], or (min, max] when <paramref name="minExclusive"/>.</summary>
    public double? AsNumber(JsonNode node, string name, double min, double max, bool minExclusive = false, bool maxExclusive = false)
    {
        if (node is not JsonNumber number)
        {
            WrongType(name, "a number", node);
            return null;
        }

        var value = number.Value;
        var tooLow = minExclusive ? value <= min : value < min;
        var tooHigh = maxExclusive ? value >= max : value > max;
        if (tooLow || tooHigh || !double.IsFinite(value))
        {
            var range = $"{(minExclusive ? "(" : "[")}{Format(min)}, {Format(max)}{(maxExclusive ? ")" : "]")}";
            Report(DiagnosticCatalogue.OutOfRange, node, name, number.Raw, range);
            return null;
        }

        return value;
    }

    public bool? AsBoolean(JsonNode node, string name)
    {
        if (node is JsonBoolean b)
        {
            return b.Value;
        }

        WrongType(name, "true or false", node);
        return null;
    }

    /// <summary>A list of distinct integers in [min, max]: wrong, out-of-range and repeated items are reported
    /// (each repeated value once) and left out. <paramref name="range"/>, when given, says the range in an out-of-range
    /// report in words, for numbers whose real range another file sets (a label's is its dataset's classes: "0..99999"
    /// alone would invite a label the dataset lacks).</summary>
    public List<int> AsDistinctIntegers(JsonArray array, string name, int min, int max, string noun, int maxCount, string? range = null)
    {
        if (array.Count > maxCount)
        {
            Report(DiagnosticCatalogue.OutOfRange, array, name, $"{array.Count} {noun}s long", $"at most {maxCount.ToString("N0", CultureInfo.InvariantCulture)} {noun}s");
        }

        var result = new List<int>(array.Count);
        var seen = new HashSet<int>(array.Count);
        HashSet<int>? reported = null;
        var items = array.Items;
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (item is not JsonNumber number || !number.IsWhole)
            {
                WrongType($"{name}[{i}]", "an integer", item);
                continue;
            }

            var whole = number.TryGetInt64(out var value);
            if (!whole || value < min || value > max)
            {
                // Above the largest a described range allows: its bound said, not only "0 and up" (QA: 99999999999999999999999
                // read as "outside the positions of the split's samples (0 and up…)").
                var tooLarge = whole ? value > max : !number.Raw.StartsWith('-');
                Report(DiagnosticCatalogue.OutOfRange, item, $"{name}[{i}]", number.Raw,
                    range is null ? Range(min, max) : tooLarge ? $"{range}: at most {max.ToString("N0", CultureInfo.InvariantCulture)}" : range);
                continue;
            }

            var v = (int)value;
            if (seen.Add(v))
            {
                result.Add(v);
            }
            else if ((reported ??= []).Add(v))
            {
                Report(DiagnosticCatalogue.DuplicateValue, item, $"'{name}'", $"{noun} {v}");
            }
        }

        return result;
    }

    /// <summary>A path relative to the manifest's folder, resolved to an absolute path; null when it is empty,
    /// absolute or leaves the workspace. Backslashes are read as separators so Windows-written manifests work.</summary>
    public string? AsPath(JsonNode node, string name)
    {
        var text = AsString(node, name);
        if (text is null)
        {
            return null;
        }

        if (WorkspacePaths.Unusable(text) is { } why)
        {
            Report(DiagnosticCatalogue.UnusablePath, node, name, why);
            return null;
        }

        var full = WorkspacePaths.Resolve(WorkspaceRoot, ManifestDirectory, text);
        if (full is null)
        {
            Report(DiagnosticCatalogue.PathOutsideWorkspace, node, text);
        }

        return full;
    }

    /// <summary>A plain-name id (see <see cref="ManifestId"/>).</summary>
    public string? AsId(JsonNode node, string name)
    {
        var text = AsString(node, name);
        if (text is null)
        {
            return null;
        }

        if (!ManifestId.IsValid(text))
        {
            // Shown with every character an id may not hold outside printable ASCII escaped: "ok\u200bzero" would
            // otherwise look valid to the reader.
            Report(DiagnosticCatalogue.InvalidId, node, string.Concat(text.Select(c => Text.HiddenCharacters.LooksLikeNothingOrSpace(c) ? Text.HiddenCharacters.Shown(c) : c.ToString())));
            return null;
        }

        return text;
    }

    public static string Range(long min, long max) =>
        $"{min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)}";

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
