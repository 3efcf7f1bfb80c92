using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Discovery;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Lineage.Tests.Manifests;

/// <summary>Reads manifests from text as files of an imaginary workspace, and checks the diagnostics they give.</summary>
internal static class ManifestTestKit
{
    public static readonly string Root = Path.GetFullPath(Path.Combine(Path.GetTempPath(), "fiun-imaginary-workspace"));

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    public static ManifestFile Read(string relativePath, string json) => WorkspaceLoader.LoadFile(PathOf(relativePath), json, Root);

    public static ManifestFile ReadLineage(string json) => Read("models/m/m.lineage.json", json);

    public static ManifestFile ReadDataset(string json) => Read("data/d.dataset.json", json);

    public static ManifestFile ReadRemoval(string json) => Read("requests/r.removal.json", json);

    public static ManifestFile ReadSettings(string json) => Read("unlearn.json", json);

    public static void NoDiagnostics(ManifestFile file) =>
        Assert.True(file.Diagnostics.Count == 0, "unexpected diagnostics:\n" + string.Join("\n", file.Diagnostics));

    /// <summary>
    /// Asserts that the file has exactly one diagnostic with <paramref name="code"/>, at the position marked by '»' in
    /// <paramref name="marked"/> (a fragment of <paramref name="json"/> with the marker where the diagnostic points),
    /// whose message mentions each of <paramref name="mentions"/>.
    /// </summary>
    public static Diagnostic Single(ManifestFile file, string code, string json, string marked, params string[] mentions)
    {
        var matches = file.Diagnostics.Where(d => d.Code == code).ToList();
        Assert.True(matches.Count == 1, $"expected one {code}, got:\n" + string.Join("\n", file.Diagnostics));
        var diagnostic = matches[0];
        var (line, column) = TextPosition.Of(json, marked);
        Assert.Equal(file.Path, diagnostic.Location.File);
        Assert.True((line, column) == (diagnostic.Location.Line, diagnostic.Location.Column),
            $"expected {code} at ({line},{column}), got {diagnostic}");
        foreach (var mention in mentions)
        {
            Assert.Contains(mention, diagnostic.Message, StringComparison.Ordinal);
        }

        return diagnostic;
    }

    /// <summary>As <see cref="Single"/>, and no other diagnostic.</summary>
    public static Diagnostic Only(ManifestFile file, string code, string json, string marked, params string[] mentions)
    {
        var diagnostic = Single(file, code, json, marked, mentions);
        Assert.True(file.Diagnostics.Count == 1, "expected only " + code + ", got:\n" + string.Join("\n", file.Diagnostics));
        return diagnostic;
    }

    public static IReadOnlyList<string> Codes(ManifestFile file) => [.. file.Diagnostics.Select(d => d.Code).Order(StringComparer.Ordinal)];
}

/// <summary>Line and column (1-based) of a marked place in a text.</summary>
internal static class TextPosition
{
    public const char Marker = '»';

    /// <summary>The position of the marker in <paramref name="marked"/>, a fragment of <paramref name="text"/>
    /// (first occurrence); without a marker, the fragment's start.</summary>
    public static (int Line, int Column) Of(string text, string marked)
    {
        var offsetInFragment = Math.Max(0, marked.IndexOf(Marker, StringComparison.Ordinal));
        var fragment = marked.Replace(Marker.ToString(), string.Empty, StringComparison.Ordinal);
        var start = text.IndexOf(fragment, StringComparison.Ordinal);
        Assert.True(start >= 0, $"fragment '{fragment}' not in the text");
        return OfOffset(text, start + offsetInFragment);
    }

    public static (int Line, int Column) OfOffset(string text, int offset)
    {
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < offset; i++)
        {
            if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= text.Length || text[i + 1] != '\n')))
            {
                line++;
                lineStart = i + 1;
            }
        }

        return (line, offset - lineStart + 1);
    }
}
