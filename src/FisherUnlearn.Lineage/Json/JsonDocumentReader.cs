using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Unicode;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.IO;
using Newtonsoft.Json;

namespace FisherUnlearn.Lineage.Json;

/// <summary>
/// Reads a JSON document into a <see cref="JsonNode"/> tree that knows where each value is. Strict: the file must
/// be UTF-8 (a BOM is allowed), at most <see cref="MaxBytes"/> long and nested at most <see cref="MaxDepth"/> deep,
/// and must be plain RFC 8259 JSON (no comments, single quotes, trailing commas, NaN or hex numbers, which
/// Newtonsoft would otherwise accept). Problems go to the <see cref="DiagnosticBag"/>; the method returns null when
/// the document cannot be read at all. Duplicate keys are reported and the tree is still returned.
/// </summary>
public static class JsonDocumentReader
{
    /// <summary>Manifests larger than this (1 MiB) are refused with FUL1017.</summary>
    public const int MaxBytes = 1024 * 1024;

    /// <summary>Objects and arrays nested deeper than this are refused with FUL1003.</summary>
    public const int MaxDepth = 64;

    private static readonly SearchValues<char> LineBreaks = SearchValues.Create("\r\n");

    /// <summary>Reads and parses a file. I/O problems are reported as FUL1023 (a FIFO, device or socket as FUL1027), never thrown.</summary>
    public static JsonNode? ReadFile(string path, DiagnosticBag diagnostics)
    {
        if (RegularFile.KindOf(path) is { } kind)
        {
            // A FIFO would block the open and a device never ends: refused before it is opened.
            diagnostics.Report(DiagnosticCatalogue.NotARegularFile, new SourceLocation(path), path, kind);
            return null;
        }

        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
            var length = stream.Length;
            if (length > MaxBytes)
            {
                diagnostics.Report(DiagnosticCatalogue.FileTooLarge, new SourceLocation(path), length, MaxBytes);
                return null;
            }

            bytes = new byte[length];
            stream.ReadExactly(bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            diagnostics.Report(DiagnosticCatalogue.UnreadableFile, new SourceLocation(path), ex.Message.TrimEnd('.'));
            return null;
        }

        return Parse(bytes, path, diagnostics);
    }

    /// <summary>Parses UTF-8 bytes (with or without a BOM).</summary>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8, string file, DiagnosticBag diagnostics)
    {
        if (utf8.Length > MaxBytes)
        {
            diagnostics.Report(DiagnosticCatalogue.FileTooLarge, new SourceLocation(file), utf8.Length, MaxBytes);
            return null;
        }

        if (utf8.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            utf8 = utf8[3..];
        }

        if (!Utf8.IsValid(utf8))
        {
            ReportInvalidUtf8(utf8, file, diagnostics);
            return null;
        }

        return ParseText(Encoding.UTF8.GetString(utf8), file, diagnostics);
    }

    /// <summary>Parses a document that is already text (tests, editors). The size limit applies to its UTF-8 form.</summary>
    public static JsonNode? Parse(string text, string file, DiagnosticBag diagnostics)
    {
        var byteCount = Encoding.UTF8.GetByteCount(text);
        if (byteCount > MaxBytes)
        {
            diagnostics.Report(DiagnosticCatalogue.FileTooLarge, new SourceLocation(file), byteCount, MaxBytes);
            return null;
        }

        return ParseText(text.StartsWith('\uFEFF') ? text[1..] : text, file, diagnostics);
    }

    private static void ReportInvalidUtf8(ReadOnlySpan<byte> utf8, string file, DiagnosticBag diagnostics)
    {
        // Decode the valid prefix to find the line and column of the first bad byte.
        var buffer = new char[utf8.Length];
        Utf8.ToUtf16(utf8, buffer, out var bytesRead, out var charsWritten, replaceInvalidSequences: false);
        var prefix = buffer.AsSpan(0, charsWritten);
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < prefix.Length; i++)
        {
            var c = prefix[i];
            if (c == '\n' || (c == '\r' && (i + 1 >= prefix.Length || prefix[i + 1] != '\n')))
            {
                line++;
                lineStart = i + 1;
            }
        }

        diagnostics.Report(DiagnosticCatalogue.InvalidUtf8, new SourceLocation(file, line, charsWritten - lineStart + 1), utf8[bytesRead], bytesRead);
    }

    private static JsonNode? ParseText(string text, string file, DiagnosticBag diagnostics) =>
        new Parser(text, file, diagnostics).Run();

    /// <summary>One parse: drives Newtonsoft's <see cref="JsonTextReader"/> (which is not recursive) and builds the
    /// tree with an explicit stack, so depth is checked before anything grows.</summary>
    private sealed class Parser(string text, string file, DiagnosticBag diagnostics)
    {
        private readonly List<int> lineStarts = ComputeLineStarts(text);
        private readonly List<Frame> stack = [];

        public JsonNode? Run()
        {
            if (text.AsSpan().Trim(" \t\r\n").IsEmpty)
            {
                Fail(text.Length, "the file is empty; a manifest is a JSON object such as { \"schemaVersion\": 1, ... }");
                return null;
            }

            using var reader = new JsonTextReader(new StringReader(text))
            {
                DateParseHandling = DateParseHandling.None,
                FloatParseHandling = FloatParseHandling.Double,
                MaxDepth = null, // depth is checked below, before a frame is pushed
                CloseInput = true,
                ArrayPool = CharArrayPool.Instance,
            };

            JsonNode? root = null;
            var position = 0;
            var previous = JsonToken.None;
            try
            {
                while (reader.Read())
                {
                    var token = reader.TokenType;
                    var end = lineStarts[reader.LineNumber - 1] + reader.LinePosition;
                    var start = SkipSeparators(position, out var commas);
                    position = end;
                    if (!CheckCommas(token, previous, commas, start))
                    {
                        return null;
                    }

                    previous = token;
                    var (line, column) = LineColumn(start, reader.LineNumber);
                    switch (token)
                    {
                        case JsonToken.StartObject:
                        case JsonToken.StartArray:
                            if (stack.Count >= MaxDepth)
                            {
                                diagnostics.Report(DiagnosticCatalogue.NestingTooDeep, At(start), MaxDepth);
                                return null;
                            }

                            JsonNode container = token == JsonToken.StartObject ? new JsonObject(line, column) : new JsonArray(line, column);
                            Attach(container, ref root);
                            stack.Add(new Frame(container));
                            break;

                        case JsonToken.EndObject:
                        case JsonToken.EndArray:
                            stack.RemoveAt(stack.Count - 1);
                            break;

                        case JsonToken.PropertyName:
                            if (text[start] != '"')
                            {
                                return Fail(start, "property names must be in double quotes");
                            }

                            var nameEnd = text.LastIndexOf('"', end - 1, end - start);
                            if (!CheckStringCharacters(start + 1, nameEnd))
                            {
                                return null;
                            }

                            var frame = stack[^1];
                            frame.PendingName = (string)reader.Value!;
                            frame.PendingLine = line;
                            frame.PendingColumn = column;
                            break;

                        case JsonToken.String:
                            if (text[start] != '"')
                            {
                                return Fail(start, "strings must be in double quotes");
                            }

                            if (!CheckStringCharacters(start + 1, end - 1))
                            {
                                return null;
                            }

                            Attach(new JsonString((string)reader.Value!, line, column), ref root);
                            break;

                        case JsonToken.Integer:
                        case JsonToken.Float:
                            var raw = text[start..end];
                            if (!IsJsonNumber(raw))
                            {
                                return Fail(start, $"'{raw}' is not a JSON number (decimal digits without leading zeros; NaN and Infinity are not JSON)");
                            }

                            Attach(CreateNumber(raw, reader.Value, line, column), ref root);
                            break;

                        case JsonToken.Boolean:
                            Attach(new JsonBoolean((bool)reader.Value!, line, column), ref root);
                            break;

                        case JsonToken.Null:
                            Attach(new JsonNull(line, column), ref root);
                            break;

                        case JsonToken.Comment:
                            return Fail(start, "comments are not allowed in JSON; use a field whose name starts with 'x-' for notes");

                        default:
                            return Fail(start, $"unexpected '{text[start]}'");
                    }
                }
            }
            catch (JsonReaderException ex)
            {
                var offset = ex.LineNumber > 0 && ex.LineNumber <= lineStarts.Count
                    ? Math.Min(text.Length, lineStarts[ex.LineNumber - 1] + Math.Max(0, ex.LinePosition)) // where the reader stopped
                    : position;
                var (at, message) = Locate(ex, offset, position, previous);
                return Fail(at, message);
            }

            if (stack.Count > 0 || root is null)
            {
                var missing = stack.Count > 0 && stack[^1].Node is JsonArray ? "']'" : "'}'";
                return Fail(text.Length, $"unexpected end of file, {missing} expected; the file looks truncated");
            }

            return root;
        }

        /// <summary>Where a syntax error is and what to say. Newtonsoft stops where it gave up, which is past the
        /// mistake when the mistake is a whole token: an unquoted key (<c>x-note: 1</c> stops at the '-'), a bad literal
        /// (<c>tru</c>), a string never closed (the end of the file). Those point at the token's first character; a
        /// missing ',' points just after the value it should follow.</summary>
        /// <param name="offset">Where Newtonsoft stopped.</param>
        /// <param name="end">The end of the last token read.</param>
        /// <param name="previous">The last token read.</param>
        private (int Offset, string Message) Locate(JsonReaderException ex, int offset, int end, JsonToken previous)
        {
            var start = SkipSeparators(end, out var commas); // the first character of the token being read
            var message = Describe(ex);
            if (start >= text.Length)
            {
                return (offset, message);
            }

            var first = text[start];
            var expectingName = stack.Count > 0 && stack[^1].Node is JsonObject && stack[^1].PendingName is null
                && (previous == JsonToken.StartObject || commas > 0);
            if (expectingName && first is not ('"' or '}'))
            {
                return (start, "property names must be in double quotes");
            }

            if (ex.Message.StartsWith("Unterminated string", StringComparison.Ordinal) && first is '"' or '\'')
            {
                return (start, "unterminated string: it starts here and no '\"' closes it");
            }

            if (first is '}' or ']' && stack.Count > 0 && ex.Message.Contains("is not valid for closing", StringComparison.Ordinal))
            {
                var open = stack[^1].Node;
                var (expected, opening) = open is JsonArray ? ("]", "[") : ("}", "{");
                return (start, $"'{first}' cannot close the '{opening}' of line {open.Line}: a '{expected}' is missing before it");
            }

            if (ex.Message.StartsWith("After parsing a value an unexpected character was encountered", StringComparison.Ordinal)
                && commas == 0 && (first is '"' or '{' or '[' or '-' or 't' or 'f' or 'n' || char.IsAsciiDigit(first)))
            {
                return (end, "',' expected after this value, before the next one");
            }

            if (ex.Message.StartsWith("Invalid character after parsing property name", StringComparison.Ordinal))
            {
                // At what follows the name (start is the name itself, not yet read).
                var close = first == '"' ? text.IndexOf('"', start + 1) : -1;
                return (close > start ? SkipSeparators(close + 1, out _) : offset, "':' expected after the property name");
            }

            if (ex.Message.StartsWith("Unexpected character encountered while parsing value", StringComparison.Ordinal) && char.IsAsciiLetter(first))
            {
                return (start, $"'{text[start..Token(start)]}' is not a JSON value: write a string in double quotes, a number, true, false or null");
            }

            // A bad literal or number (tru, nul, 1.2.3, undefined): its first character, not the one after it.
            if (first is not ('"' or '{' or '[' or '}' or ']' or ':') && offset > start && !text.AsSpan(start, offset - start).ContainsAny(" \t\r\n,:{}[]\""))
            {
                return char.IsAsciiLetter(first)
                    ? (start, $"'{text[start..Token(start)]}' is not a JSON value: write a string in double quotes, a number, true, false or null")
                    : (start, message);
            }

            return (offset, message);
        }

        // The end of the bare word starting at from (a misspelt literal such as tru or True).
        private int Token(int from)
        {
            var to = from;
            while (to < text.Length && !" \t\r\n,:{}[]\"".Contains(text[to], StringComparison.Ordinal))
            {
                to++;
            }

            return to;
        }

        private static string Describe(JsonReaderException ex)
        {
            // Newtonsoft appends "Path '...', line n, position m."; the location goes into the diagnostic instead.
            var message = ex.Message;
            var cut = message.IndexOf(" Path '", StringComparison.Ordinal);
            if (cut > 0)
            {
                message = message[..cut];
            }

            message = message.TrimEnd(' ');
            message = message.EndsWith('.') ? message[..^1] : message;
            // "...encountered: }." names the character last: quoted, so a '.' or ',' stays visible.
            message = System.Text.RegularExpressions.Regex.Replace(message, @": (.)$", ": '$1'");
            return message.Length > 0 ? char.ToLowerInvariant(message[0]) + message[1..] : "unreadable JSON";
        }

        private static JsonNumber CreateNumber(string raw, object? value, int line, int column) => value switch
        {
            long l => new JsonNumber(raw, l, l, line, column),
            double d => new JsonNumber(raw, d, null, line, column),
            BigInteger b => new JsonNumber(raw, (double)b, null, line, column),
            _ => new JsonNumber(raw, double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture), null, line, column),
        };

        private void Attach(JsonNode node, ref JsonNode? root)
        {
            if (stack.Count == 0)
            {
                root = node;
                return;
            }

            var frame = stack[^1];
            if (frame.Node is JsonArray array)
            {
                array.Add(node);
                return;
            }

            var name = frame.PendingName!;
            var added = ((JsonObject)frame.Node).Add(new JsonProperty(name, frame.PendingLine, frame.PendingColumn, node));
            if (!added)
            {
                diagnostics.Report(DiagnosticCatalogue.DuplicateKey, new SourceLocation(file, frame.PendingLine, frame.PendingColumn), name);
            }

            frame.PendingName = null;
        }

        /// <summary>Newtonsoft tolerates missing, doubled and trailing commas in places; JSON does not.</summary>
        private bool CheckCommas(JsonToken token, JsonToken previous, int commas, int start)
        {
            if (commas == 0)
            {
                return true;
            }

            var afterOpening = previous is JsonToken.StartObject or JsonToken.StartArray or JsonToken.PropertyName;
            if (token is JsonToken.EndObject or JsonToken.EndArray)
            {
                Fail(text.LastIndexOf(',', start), "trailing commas are not allowed in JSON; remove the last ','");
                return false;
            }

            if (afterOpening || commas > 1 || stack.Count == 0)
            {
                Fail(text.LastIndexOf(',', start), "unexpected ','");
                return false;
            }

            return true;
        }

        private bool CheckStringCharacters(int from, int to)
        {
            if (to <= from)
            {
                return true;
            }

            var bad = text.AsSpan(from, to - from).IndexOfAnyInRange('\0', '\u001F');
            if (bad < 0)
            {
                return true;
            }

            if (text[from + bad] is '\n' or '\r')
            {
                // Usually a closing '"' forgotten on that line: the string then runs on into the next one.
                Fail(from - 1, "this string is not closed on its line: a '\"' is missing (a line break inside a string is written \\n)");
                return false;
            }

            Fail(from + bad, $"control character U+{(int)text[from + bad]:X4} inside a string; write it as an escape such as \\n or \\t");
            return false;
        }

        private int SkipSeparators(int from, out int commas)
        {
            commas = 0;
            var i = from;
            while (i < text.Length)
            {
                var c = text[i];
                if (c is ' ' or '\t' or '\n' or '\r')
                {
                    i++;
                }
                else if (c == ',')
                {
                    commas++;
                    i++;
                }
                else
                {
                    break;
                }
            }

            return i;
        }

        private JsonNode? Fail(int offset, string message)
        {
            diagnostics.Report(DiagnosticCatalogue.MalformedJson, At(offset), message);
            return null;
        }

        private SourceLocation At(int offset)
        {
            var (line, column) = LineColumn(offset);
            return new SourceLocation(file, line, column);
        }

        /// <summary>Line and column of an offset; <paramref name="hint"/> is a line at or after it (the reader's).</summary>
        private (int Line, int Column) LineColumn(int offset, int hint = 0)
        {
            if (hint > 0 && hint <= lineStarts.Count && offset >= lineStarts[hint - 1])
            {
                return (hint, offset - lineStarts[hint - 1] + 1);
            }

            var index = lineStarts.BinarySearch(offset);
            if (index < 0)
            {
                index = ~index - 1;
            }

            return (index + 1, offset - lineStarts[index] + 1);
        }

        private static List<int> ComputeLineStarts(string text)
        {
            // Same rule as JsonTextReader: "\r\n", "\r" and "\n" each end a line.
            var starts = new List<int>(text.Length / 24 + 1) { 0 };
            var span = text.AsSpan();
            var i = 0;
            while (true)
            {
                var next = span[i..].IndexOfAny(LineBreaks);
                if (next < 0)
                {
                    return starts;
                }

                i += next;
                i += span[i] == '\r' && i + 1 < span.Length && span[i + 1] == '\n' ? 2 : 1;
                starts.Add(i);
            }
        }

        /// <summary>RFC 8259: <c>-? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?</c>.</summary>
        private static bool IsJsonNumber(string s)
        {
            var i = 0;
            if (i < s.Length && s[i] == '-')
            {
                i++;
            }

            if (i >= s.Length || !char.IsAsciiDigit(s[i]))
            {
                return false;
            }

            if (s[i] == '0')
            {
                i++;
            }
            else
            {
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    i++;
                }
            }

            if (i < s.Length && s[i] == '.')
            {
                i++;
                if (!SkipDigits(s, ref i))
                {
                    return false;
                }
            }

            if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
            {
                i++;
                if (i < s.Length && (s[i] == '+' || s[i] == '-'))
                {
                    i++;
                }

                if (!SkipDigits(s, ref i))
                {
                    return false;
                }
            }

            return i == s.Length;
        }

        private static bool SkipDigits(string s, ref int i)
        {
            var from = i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }

            return i > from;
        }

        /// <summary>Lets Newtonsoft rent its buffers: thousands of small files are read per load.</summary>
        private sealed class CharArrayPool : IArrayPool<char>
        {
            public static readonly CharArrayPool Instance = new();

            public char[] Rent(int minimumLength) => ArrayPool<char>.Shared.Rent(minimumLength);

            public void Return(char[]? array)
            {
                if (array is not null)
                {
                    ArrayPool<char>.Shared.Return(array);
                }
            }
        }

        private sealed class Frame(JsonNode node)
        {
            public JsonNode Node { get; } = node;

            public string? PendingName { get; set; }

            public int PendingLine { get; set; }

            public int PendingColumn { get; set; }
        }
    }
}
