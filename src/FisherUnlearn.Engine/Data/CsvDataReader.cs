using System.Globalization;
using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Engine.Data;

/// <summary>
/// Reads a numeric CSV file: a header row of column names, then one sample per row. The label column (by name)
/// holds integer labels; every other column is a float32 feature. Invariant culture; cells may be wrapped in
/// double quotes; blank lines are skipped. Errors name the line and column.
/// </summary>
public static class CsvDataReader
{
    /// <summary>The parsed file: features row-major (rows x featureNames.Count), one label per row.</summary>
    public sealed record CsvContent(IReadOnlyList<string> FeatureNames, float[] Features, long[] Labels);

    /// <param name="classes">When given, a label outside 0..classes-1 is FUL4005 at its line and column (the loader checks
    /// other formats after reading, by sample index only).</param>
    public static CsvContent Read(string path, string labelColumn, int? classes = null)
    {
        if (!File.Exists(path))
        {
            throw EngineException.Create(DiagnosticCatalogue.DataFileNotFound, path, path);
        }

        EngineException.ThrowIfNotRegular(path);

        try
        {
            using var reader = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
            var lineNumber = 0;
            string? line;
            string[]? header = null;
            while (header is null && (line = reader.ReadLine()) is not null)
            {
                lineNumber++;
                if (line.Trim().Length > 0)
                {
                    header = [.. Split(line).Select(c => Unquote(c.Text))];
                }
            }

            if (header is null)
            {
                throw EngineException.Create(DiagnosticCatalogue.DataBadLayout, path, path, "the file is empty; a header row of column names is required");
            }

            var labelIndex = Array.IndexOf(header, labelColumn);
            if (labelIndex < 0)
            {
                throw EngineException.At(DiagnosticCatalogue.DataBadLayout, new SourceLocation(path, lineNumber, 1), null, path,
                    $"the header has no column '{labelColumn}' (columns: {string.Join(", ", header.Take(12).Select(Shortened))}{(header.Length > 12 ? $", ... {header.Length} in all" : string.Empty)}{Lineage.Text.EditDistance.DidYouMean(labelColumn, header)}){OtherSeparator(header)}");
            }

            if (Array.LastIndexOf(header, labelColumn) != labelIndex)
            {
                throw EngineException.At(DiagnosticCatalogue.DataBadLayout, new SourceLocation(path, lineNumber, 1), null, path,
                    $"the header names the label column '{labelColumn}' more than once (columns {labelIndex + 1} and {Array.LastIndexOf(header, labelColumn) + 1}), so the labels are ambiguous; rename or remove one");
            }

            if (header.Length < 2)
            {
                throw EngineException.At(DiagnosticCatalogue.DataBadLayout, new SourceLocation(path, lineNumber, 1), null, path,
                    "the header names only the label column; at least one feature column is required");
            }

            var featureNames = header.Where((_, i) => i != labelIndex).ToArray();
            var features = new List<float>();
            var labels = new List<long>();
            while ((line = reader.ReadLine()) is not null)
            {
                lineNumber++;
                if (line.Trim().Length == 0)
                {
                    continue;
                }

                var cells = Split(line);
                if (cells.Count != header.Length)
                {
                    throw EngineException.At(DiagnosticCatalogue.DataBadLayout, new SourceLocation(path, lineNumber, 1), null, path,
                        $"line {lineNumber} has {cells.Count} cells, the header {header.Length}");
                }

                for (var c = 0; c < cells.Count; c++)
                {
                    var text = Unquote(cells[c].Text);
                    var location = new SourceLocation(path, lineNumber, cells[c].Column);
                    if (text.Contains('\0', StringComparison.Ordinal))
                    {
                        // .NET's number parsing ignores trailing NUL characters: "1.0\0" would read as 1.0.
                        throw EngineException.At(DiagnosticCatalogue.DataBadCell, location, null, header[c], text.Replace("\0", "\\0", StringComparison.Ordinal),
                            c == labelIndex ? "an integer label" : "a finite number");
                    }

                    if (c == labelIndex)
                    {
                        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var label))
                        {
                            throw EngineException.At(DiagnosticCatalogue.DataBadCell, location, null, header[c], text, "an integer label");
                        }

                        if (classes is { } count && (label < 0 || label >= count))
                        {
                            throw EngineException.At(DiagnosticCatalogue.DataLabelOutOfRange, location, null, path, labels.Count, label, count - 1, count);
                        }

                        labels.Add(label);
                    }
                    else
                    {
                        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !float.IsFinite(value))
                        {
                            throw EngineException.At(DiagnosticCatalogue.DataBadCell, location, null, header[c], text, "a finite number");
                        }

                        features.Add(value);
                    }
                }
            }

            return new CsvContent(featureNames, [.. features], [.. labels]);
        }
        catch (IOException ex)
        {
            throw EngineException.At(DiagnosticCatalogue.DataUnreadable, new SourceLocation(path), ex, path, ex.Message);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw EngineException.At(DiagnosticCatalogue.DataUnreadable, new SourceLocation(path), ex, path, ex.Message);
        }
    }

    // A column name as an error message shows it: at most 40 characters.
    private static string Shortened(string name) => name.Length <= 40 ? name : string.Concat(name.AsSpan(0, 37), "...");

    // A header read as one column that holds another separator: the file is not comma-separated.
    private static string OtherSeparator(string[] header) =>
        header.Length == 1 && new[] { ';', '\t', '|' }.FirstOrDefault(c => header[0].Contains(c, StringComparison.Ordinal)) is var separator and not '\0'
            ? $"; the header seems separated by {(separator == '\t' ? "tabs" : $"'{separator}'")}, but the columns of a csv dataset are separated by commas"
            : string.Empty;

    private static List<(string Text, int Column)> Split(string line)
    {
        var cells = new List<(string, int)>();
        var start = 0;
        var quoted = false;
        for (var i = 0; i <= line.Length; i++)
        {
            if (i == line.Length || (line[i] == ',' && !quoted))
            {
                cells.Add((line[start..i], start + 1));
                start = i + 1;
            }
            else if (line[i] == '"')
            {
                quoted = !quoted;
            }
        }

        return cells;
    }

    private static string Unquote(string cell)
    {
        var text = cell.Trim();
        return text.Length >= 2 && text[0] == '"' && text[^1] == '"' ? text[1..^1].Replace("\"\"", "\"", StringComparison.Ordinal) : text;
    }
}
