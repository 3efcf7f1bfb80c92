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

    /// <summary>The other split of the same dataset, whose feature columns this file's must repeat in order.</summary>
    public sealed record CsvSibling(string Split, string Path, IReadOnlyList<string> FeatureNames);

    /// <param name="classes">When given, a label outside 0..classes-1 is FUL4005 at its line and column (the loader checks
    /// other formats after reading, by sample index only).</param>
    /// <param name="sibling">When given, feature columns that differ from its (by name or order) are FUL4008 at the header:
    /// a model reads features by position, so a swapped pair of columns would otherwise pass unnoticed.</param>
    public static CsvContent Read(string path, string labelColumn, int? classes = null, CsvSibling? sibling = null) =>
        Read(path, labelColumn, classes, sibling, MaxLineLength);

    /// <summary>The longest line read, in characters (32 Mi): a row of three million numbers fits, and a file that is one
    /// huge line (not CSV text, or rows without line breaks) is FUL4008 at that line once this much of it is read, instead
    /// of being read whole into memory (QA: a 1.2 GB line ended the process with "Out of memory.").</summary>
    public const int MaxLineLength = 32 * 1024 * 1024;

    /// <param name="maxLineLength">The longest line read (tests use a small one).</param>
    internal static CsvContent Read(string path, string labelColumn, int? classes, CsvSibling? sibling, int maxLineLength)
    {
        EngineException.ThrowIfDataMissing(path);

        EngineException.ThrowIfNotRegular(path);
        FileSignature.ThrowIfOtherFormat(path, "a CSV text file", _ => false);

        try
        {
            using var stream = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
            var reader = new LineReader(stream, path, maxLineLength);
            var (header, lineNumber) = ReadHeader(reader, path);
            string? line;
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
            if (Array.FindIndex(header, string.IsNullOrWhiteSpace) is var unnamed and >= 0)
            {
                // The names are what say that two files' columns mean the same: an empty one says nothing (a stray comma?).
                throw EngineException.At(DiagnosticCatalogue.DataBadLayout, new SourceLocation(path, lineNumber, 1), null, path,
                    $"column {unnamed + 1} of the header has no name (a stray or doubled comma? pandas writes its index so: to_csv(index=False) leaves it out); give each column its own name");
            }

            if (FirstRepeated(featureNames) is { } repeated)
            {
                // Features are read by position, but the names are what say that two files' columns mean the same.
                throw EngineException.At(DiagnosticCatalogue.DataBadLayout, new SourceLocation(path, lineNumber, 1), null, path,
                    $"the header names the feature column '{Shortened(repeated)}' more than once (columns {Array.IndexOf(header, repeated) + 1} and {Array.LastIndexOf(header, repeated) + 1}); give each column its own name");
            }

            if (sibling is not null && FeatureDifference(featureNames, sibling) is { } difference)
            {
                throw EngineException.At(DiagnosticCatalogue.DataBadLayout, new SourceLocation(path, lineNumber, 1), null, path,
                    $"{difference}; a model reads the features by position, so write both splits with the same columns in the same order");
            }
            var features = new List<float>();
            var labels = new List<long>();
            while ((line = reader.ReadLine()) is not null)
            {
                lineNumber++;
                if (line.Trim().Length == 0)
                {
                    continue;
                }

                var cells = Split(line, path, lineNumber);
                if (cells.Count != header.Length)
                {
                    throw EngineException.At(DiagnosticCatalogue.DataBadLayout, new SourceLocation(path, lineNumber, 1), null, path,
                        $"line {lineNumber} has {cells.Count} cells, the header {header.Length}");
                }

                for (var c = 0; c < cells.Count; c++)
                {
                    var text = Unquote(cells[c].Text);
                    var location = new SourceLocation(path, lineNumber, cells[c].Column);
                    if (text.Contains('\uFFFD', StringComparison.Ordinal))
                    {
                        // Bytes that are not UTF-8 were decoded as U+FFFD: say so, not only that the cell is no number.
                        throw EngineException.At(DiagnosticCatalogue.DataBadCell, location, null, header[c], text,
                            $"{(c == labelIndex ? "an integer label" : "a finite number")}: the file has bytes here that are not UTF-8 text (save it as UTF-8 or ASCII)");
                    }

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

    /// <summary>
    /// The feature column names of a file's header, in order, without reading its rows; <c>null</c> when the file
    /// cannot be read or has no header, or the label column is not in it once (<see cref="Read"/> reports those).
    /// </summary>
    public static IReadOnlyList<string>? TryReadFeatureNames(string path, string labelColumn)
    {
        try
        {
            using var stream = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
            var (header, _) = ReadHeader(new LineReader(stream, path, MaxLineLength), path);
            return header is not null && header.Count(c => c == labelColumn) == 1 ? [.. header.Where(c => c != labelColumn)] : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or EngineException)
        {
            return null;
        }
    }

    // The first place where this file's feature columns differ from the other split's, or null when they are the same
    // columns in the same order.
    private static string? FeatureDifference(IReadOnlyList<string> here, CsvSibling other)
    {
        var there = other.FeatureNames;
        for (var i = 0; i < Math.Min(here.Count, there.Count); i++)
        {
            if (here[i] != there[i])
            {
                return $"its feature column {i + 1} is '{Shortened(here[i])}', the {other.Split} split's '{Shortened(there[i])}' ('{other.Path}')";
            }
        }

        return here.Count == there.Count ? null : $"it has {here.Count} feature columns, the {other.Split} split {there.Count} ('{other.Path}')";
    }

    // The first non-blank line, split into unquoted column names, and its line number.
    private static (string[]? Header, int LineNumber) ReadHeader(LineReader reader, string path)
    {
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Trim().Length > 0)
            {
                return ([.. Split(line, path, lineNumber).Select(c => Unquote(c.Text))], lineNumber);
            }
        }

        return (null, lineNumber);
    }

    private static string? FirstRepeated(IEnumerable<string> names)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return names.FirstOrDefault(n => !seen.Add(n));
    }

    // A column name as an error message shows it: at most 40 characters.
    private static string Shortened(string name) => name.Length <= 40 ? name : string.Concat(name.AsSpan(0, 37), "...");

    // A header read as one column that holds another separator: the file is not comma-separated.
    private static string OtherSeparator(string[] header) =>
        header.Length == 1 && new[] { ';', '\t', '|' }.FirstOrDefault(c => header[0].Contains(c, StringComparison.Ordinal)) is var separator and not '\0'
            ? $"; the header seems separated by {(separator == '\t' ? "tabs" : $"'{separator}'")}, but the columns of a csv dataset are separated by commas"
            : string.Empty;

    // The cells of one line and the column each starts at. A quote left open to the end of the line is an error there:
    // counted as one cell with the rest of the line, it showed as "line n has 3 cells, the header 5".
    private static List<(string Text, int Column)> Split(string line, string path, int lineNumber)
    {
        var cells = new List<(string, int)>();
        var start = 0;
        var quoted = false;
        var opened = -1; // the current cell's first quote ('""' inside a quoted cell closes and opens again)
        for (var i = 0; i <= line.Length; i++)
        {
            if (i == line.Length || (line[i] == ',' && !quoted))
            {
                cells.Add((line[start..i], start + 1));
                start = i + 1;
                opened = i < line.Length ? -1 : opened;
            }
            else if (line[i] == '"')
            {
                quoted = !quoted;
                opened = opened < 0 ? i : opened;
            }
        }

        if (quoted)
        {
            throw EngineException.At(DiagnosticCatalogue.DataBadLayout, new SourceLocation(path, lineNumber, opened + 1), null, path,
                $"the quote at line {lineNumber}, column {opened + 1} is not closed on its line (a quoted cell ends with '\"' before the next comma; a quote inside it is written '\"\"', and cells do not span lines)");
        }

        return cells;
    }

    private static string Unquote(string cell)
    {
        var text = cell.Trim();
        return text.Length >= 2 && text[0] == '"' && text[^1] == '"' ? text[1..^1].Replace("\"\"", "\"", StringComparison.Ordinal) : text;
    }

    /// <summary>Lines as <see cref="TextReader.ReadLine"/> reads them ('\n', '\r' or "\r\n" ends one), but a line longer
    /// than the limit is FUL4008 at its number as soon as that much of it is read: memory stays in proportion to the
    /// limit, not to the line.</summary>
    private sealed class LineReader(TextReader reader, string path, int maxLength)
    {
        private readonly char[] buffer = new char[1 << 16];
        private readonly System.Text.StringBuilder pending = new();
        private int position;
        private int filled;
        private bool skipNewline; // the last line ended with '\r': a '\n' right after it ends nothing more
        private int lines;

        public string? ReadLine()
        {
            pending.Clear();
            var any = false;
            while (true)
            {
                if (position == filled)
                {
                    filled = reader.Read(buffer, 0, buffer.Length);
                    position = 0;
                    if (filled == 0)
                    {
                        return any ? Line(pending.ToString()) : null;
                    }
                }

                if (skipNewline)
                {
                    skipNewline = false;
                    if (buffer[position] == '\n')
                    {
                        position++;
                        continue;
                    }
                }

                any = true;
                var rest = buffer.AsSpan(position, filled - position);
                var end = rest.IndexOfAny('\r', '\n');
                var part = end < 0 ? rest : rest[..end];
                if (pending.Length + part.Length > maxLength)
                {
                    throw EngineException.At(DiagnosticCatalogue.DataBadLayout, new SourceLocation(path, lines + 1, 1), null, path,
                        $"line {lines + 1} is longer than {maxLength} characters, far more than a row of numbers holds (is it a text file with a line break after each row?)");
                }

                if (end < 0)
                {
                    pending.Append(part);
                    position = filled;
                    continue;
                }

                skipNewline = rest[end] == '\r';
                position += end + 1;
                return Line(pending.Length == 0 ? new string(part) : pending.Append(part).ToString());
            }
        }

        private string Line(string text)
        {
            lines++;
            return text;
        }
    }
}
