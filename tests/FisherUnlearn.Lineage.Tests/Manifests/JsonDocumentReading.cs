using System.Text;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Json;
using FisherUnlearn.Lineage.Manifests;
using static FisherUnlearn.Lineage.Tests.Manifests.ManifestTestKit;

namespace FisherUnlearn.Lineage.Tests.Manifests;

/// <summary>The JSON layer under every manifest: strict syntax, encoding, size and depth, with positions.</summary>
public sealed class JsonDocumentReading
{
    private const string File = "/ws/x.json";

    private static (JsonNode? Node, IReadOnlyList<Diagnostic> Diagnostics) Parse(string text)
    {
        var bag = new DiagnosticBag();
        return (JsonDocumentReader.Parse(text, File, bag), bag.Items);
    }

    private static Diagnostic SingleError(IReadOnlyList<Diagnostic> diagnostics, DiagnosticDescriptor expected)
    {
        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(expected.Code, diagnostic.Code);
        return diagnostic;
    }

    [Fact]
    public void Nodes_carry_the_line_and_column_of_their_first_character()
    {
        // arrange
        var text = "{\r\n  \"a\": [1, \"two\"],\n\t\"b\" :\n  null }";

        // act
        var (node, diagnostics) = Parse(text);

        // assert
        Assert.Empty(diagnostics);
        var root = Assert.IsType<JsonObject>(node);
        Assert.Equal((1, 1), (root.Line, root.Column));
        var a = root.Get("a")!;
        Assert.Equal((2, 3), (a.Line, a.Column));
        var array = Assert.IsType<JsonArray>(a.Value);
        Assert.Equal((2, 8), (array.Line, array.Column));
        Assert.Equal((2, 9), (array.Items[0].Line, array.Items[0].Column));
        Assert.Equal((2, 12), (array.Items[1].Line, array.Items[1].Column));
        var b = root.Get("b")!;
        Assert.Equal((3, 2), (b.Line, b.Column));
        Assert.Equal((4, 3), (b.Value.Line, b.Value.Column));
    }

    [Fact]
    public void Numbers_keep_their_text_and_whole_numbers_read_as_integers()
    {
        var (node, _) = Parse("[3, 3.0, 3e0, 0.25, -7, 12345678901234]");

        var items = Assert.IsType<JsonArray>(node).Items.Cast<JsonNumber>().ToList();
        Assert.Equal(["3", "3.0", "3e0", "0.25", "-7", "12345678901234"], items.Select(n => n.Raw));
        Assert.True(items[0].IsInteger && items[1].IsInteger && items[2].IsInteger);
        Assert.False(items[3].IsInteger);
        Assert.True(items[5].TryGetInt64(out var big) && big == 12345678901234);
    }

    [Fact]
    public void Truncated_document_is_FUL1001_at_the_end()
    {
        var text = "{ \"schemaVersion\": 1,\n  \"id\": \"a\",\n  \"parents\": [";

        var (node, diagnostics) = Parse(text);

        Assert.Null(node);
        var diagnostic = SingleError(diagnostics, DiagnosticCatalogue.MalformedJson);
        Assert.Equal((3, 15), (diagnostic.Location.Line, diagnostic.Location.Column));
        Assert.Contains("truncated", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unterminated_string_is_FUL1001()
    {
        var (_, diagnostics) = Parse("{ \"id\": \"abc");

        var diagnostic = SingleError(diagnostics, DiagnosticCatalogue.MalformedJson);
        Assert.Equal(1, diagnostic.Location.Line);
        Assert.Contains("nterminated string", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ \"a\": 1, }", 1, 9, "trailing comma")]
    [InlineData("[1, 2,]", 1, 6, "trailing comma")]
    [InlineData("[1,,2]", 1, 4, "unexpected ','")]
    [InlineData("{ \"a\": 1 /* note */ }", 1, 10, "comments")]
    [InlineData("{ \"a\": 1 // note\n}", 1, 10, "comments")]
    [InlineData("{ 'a': 1 }", 1, 3, "double quotes")]
    [InlineData("{ \"a\": 'b' }", 1, 8, "double quotes")]
    [InlineData("{ a: 1 }", 1, 3, "double quotes")]
    [InlineData("[NaN]", 1, 2, "not a JSON number")]
    [InlineData("[Infinity]", 1, 2, "not a JSON number")]
    [InlineData("[0x1F]", 1, 2, "not a JSON number")]
    [InlineData("[012]", 1, 2, "not a JSON number")]
    [InlineData("{ \"a\": \"x\ty\" }", 1, 10, "control character")]
    [InlineData("{\n  \"id\": \"a,\n  \"b\": 1\n}", 2, 9, "not closed on its line")]
    [InlineData("{\r\n  \"id\": \"a,\r\n  \"b\": 1\r\n}", 2, 9, "not closed on its line")]
    [InlineData("[1] [2]", 1, 5, "additional text")]
    [InlineData("", 1, 1, "empty")]
    [InlineData("  \n ", 2, 2, "empty")]
    [InlineData("[1 2]", 1, 3, "',' expected after this value")]
    [InlineData("[1 :]", 1, 4, "unexpected character")]
    public void Lenient_or_broken_syntax_is_FUL1001_with_its_position(string text, int line, int column, string mention)
    {
        var (node, diagnostics) = Parse(text);

        Assert.Null(node);
        var diagnostic = SingleError(diagnostics, DiagnosticCatalogue.MalformedJson);
        Assert.Equal((line, column), (diagnostic.Location.Line, diagnostic.Location.Column));
        Assert.Contains(mention, diagnostic.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("{ schemaVersion: 1, \"id\": \"r\", \"forget\": { \"labels\": [3] } }", "{ »schemaVersion", "double quotes")]
    [InlineData("{\n  \"schemaVersion\": 1,\n  x-owner: \"me\",\n  \"id\": \"r\"\n}", "  »x-owner", "double quotes")]
    [InlineData("{\n  schema.version: 1\n}", "  »schema.version", "double quotes")]
    [InlineData("{\n  schema version: 1\n}", "  »schema version", "double quotes")]
    [InlineData("{\n  \"schemaVersion\": 1,\n  \"forget\": { x-labels: [3] }\n}", "{ »x-labels", "double quotes")]
    [InlineData("{\n  \"schemaVersion\": 1\n  \"id\": \"r\"\n}", "\"schemaVersion\": 1»", "',' expected after this value")]
    [InlineData("{\n  \"forget\": { \"labels\": [3] }\n  \"id\": \"r\"\n}", "[3] }»", "',' expected after this value")]
    [InlineData("{\n  \"forget\": { \"labels\": [3\n  4] }\n}", "[3»", "',' expected after this value")]
    [InlineData("{\n  \"schemaVersion\": 1,\n  \"id\": \"r\n}", "\"id\": »\"r", "unterminated string")]
    [InlineData("{\n  \"schemaVersion\": 1,\n  \"id\": \"r\",\n}", "\"r\"»,", "trailing comma")]
    [InlineData("{\n  \"forget\": { \"labels\": [3,] }\n}", "[3»,", "trailing comma")]
    [InlineData("{\n  \"schemaVersion\": tru\n}", "\"schemaVersion\": »tru", "'tru' is not a JSON value", "true, false or null")]
    [InlineData("{\n  \"x-flag\": True\n}", "\"x-flag\": »True", "'True' is not a JSON value")]
    [InlineData("{\n  \"x-flag\": nul,\n  \"id\": \"r\"\n}", "\"x-flag\": »nul", "'nul' is not a JSON value")]
    [InlineData("{\n  \"schemaVersion\" 1\n}", "\"schemaVersion\" »1", "':' expected after the property name")]
    [InlineData("{\n  \"schemaVersion\": 1.2.3\n}", "\"schemaVersion\": »1.2.3", "not a valid number")]
    [InlineData("{\n  \"forget\": { \"labels\": [3 }\n}", "[3 »}", "a ']' is missing")]
    [InlineData("{\n  \"id\": \"r\" }\n}", "\"r\" }\n»}", "additional text", "'}'")]
    public void A_syntax_error_in_a_manifest_points_at_the_mistake_itself(string json, string marked, params string[] mentions)
    {
        var file = ReadRemoval(json);

        Only(file, "FUL1001", json, marked, mentions);
    }

    [Fact]
    public void Invalid_utf8_is_FUL1002_at_the_bad_byte()
    {
        // "é" as Latin-1 (0xE9) on line 2, after 16 ASCII characters.
        var bytes = Encoding.ASCII.GetBytes("{\n  \"reason\": \"caf\u0000\" }");
        bytes[Array.IndexOf(bytes, (byte)0)] = 0xE9;
        var bag = new DiagnosticBag();

        var node = JsonDocumentReader.Parse(bytes, File, bag);

        Assert.Null(node);
        var diagnostic = SingleError(bag.Items, DiagnosticCatalogue.InvalidUtf8);
        Assert.Equal((2, 17), (diagnostic.Location.Line, diagnostic.Location.Column));
        Assert.Contains("0xE9", diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains("offset 18", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0xC0, 0x80 })] // overlong NUL
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // UTF-16 surrogate encoded in UTF-8
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })] // beyond U+10FFFF
    [InlineData(new byte[] { 0xE2, 0x82 })] // truncated sequence
    public void Non_shortest_surrogate_and_truncated_utf8_are_FUL1002(byte[] bad)
    {
        var bytes = Encoding.ASCII.GetBytes("[\"").Concat(bad).Concat(Encoding.ASCII.GetBytes("\"]")).ToArray();
        var bag = new DiagnosticBag();

        JsonDocumentReader.Parse(bytes, File, bag);

        var diagnostic = SingleError(bag.Items, DiagnosticCatalogue.InvalidUtf8);
        Assert.Equal((1, 3), (diagnostic.Location.Line, diagnostic.Location.Column));
    }

    [Fact]
    public void Utf8_bom_and_non_ascii_text_are_accepted()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("{ \"reason\": \"café 🚀\" }")).ToArray();
        var bag = new DiagnosticBag();

        var node = JsonDocumentReader.Parse(bytes, File, bag);

        Assert.Empty(bag.Items);
        var root = Assert.IsType<JsonObject>(node);
        Assert.Equal((1, 1), (root.Line, root.Column));
        Assert.Equal("café 🚀", Assert.IsType<JsonString>(root["reason"]).Value);
    }

    [Fact]
    public void Array_nested_200000_deep_is_FUL1003_not_a_crash()
    {
        var text = new string('[', 200_000) + new string(']', 200_000);

        var (node, diagnostics) = Parse(text);

        Assert.Null(node);
        var diagnostic = SingleError(diagnostics, DiagnosticCatalogue.NestingTooDeep);
        Assert.Equal((1, JsonDocumentReader.MaxDepth + 1), (diagnostic.Location.Line, diagnostic.Location.Column));
        Assert.Contains("64", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_up_to_the_limit_is_accepted()
    {
        var text = new string('[', JsonDocumentReader.MaxDepth) + new string(']', JsonDocumentReader.MaxDepth);

        var (node, diagnostics) = Parse(text);

        Assert.Empty(diagnostics);
        Assert.IsType<JsonArray>(node);
    }

    [Fact]
    public void Unclosed_deep_objects_are_FUL1003_before_the_end_is_reached()
    {
        var text = string.Concat(Enumerable.Repeat("{\"a\":", 100_000));

        var (_, diagnostics) = Parse(text);

        Assert.Equal(DiagnosticCatalogue.NestingTooDeep.Code, Assert.Single(diagnostics).Code);
    }

    [Fact]
    public void Duplicate_key_is_FUL1004_at_the_second_key_and_reading_goes_on()
    {
        var json = """
            {
              "schemaVersion": 1,
              "id": "a",
              "id": "b",
              "checkpoint": "a.safetensors",
              "architecture": { "kind": "mlp", "inputs": 4, "classes": 1 }
            }
            """;

        var file = ReadLineage(json);

        Single(file, "FUL1004", json, """  »"id": "b",""", "'id'");
        Single(file, "FUL1014", json, """ "classes": »1 }""", "architecture.classes");
        Assert.Equal("a", file.Model?.Id);
    }

    [Fact]
    public void File_over_one_mebibyte_is_FUL1017_and_is_not_parsed()
    {
        using var ws = new Testing.TempWorkspace();
        var path = ws.Write("big.lineage.json", "[" + string.Join(",", Enumerable.Repeat("1234567", 150_000)) + "]");
        var bag = new DiagnosticBag();

        var node = JsonDocumentReader.ReadFile(path, bag);

        Assert.Null(node);
        var diagnostic = SingleError(bag.Items, DiagnosticCatalogue.FileTooLarge);
        Assert.Equal(path, diagnostic.Location.File);
        Assert.Contains("1048576", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unreadable_file_is_FUL1023_not_an_exception()
    {
        var bag = new DiagnosticBag();

        var node = JsonDocumentReader.ReadFile("/nonexistent-fiun-folder/a.lineage.json", bag);

        Assert.Null(node);
        Assert.Equal(DiagnosticCatalogue.UnreadableFile.Code, Assert.Single(bag.Items).Code);
    }

    [Fact]
    public void Document_that_is_not_an_object_is_FUL1006()
    {
        var json = "[1, 2]";

        var file = ReadLineage(json);

        Only(file, "FUL1006", json, "»[1", "object");
        Assert.Null(file.Model);
        Assert.NotNull(file.Hash);
    }

    [Fact]
    public void Manifest_with_crlf_line_endings_reports_the_same_positions()
    {
        var json = "{\r\n  \"schemaVersion\": 1,\r\n  \"id\": \"a b\"\r\n}";

        var file = ReadLineage(json);

        var diagnostic = file.Diagnostics.Single(d => d.Code == "FUL1009");
        Assert.Equal((3, 9), (diagnostic.Location.Line, diagnostic.Location.Column));
        Assert.Equal(ManifestKind.Lineage, file.Kind);
    }
}
