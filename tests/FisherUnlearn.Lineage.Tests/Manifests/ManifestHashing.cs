using System.Security.Cryptography;
using System.Text;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.Json;

namespace FisherUnlearn.Lineage.Tests.Manifests;

/// <summary>Content hashes: what changes them and what does not.</summary>
public sealed class ManifestHashing
{
    private const string Compact = """{"schemaVersion":1,"id":"m","architecture":{"kind":"mlp","inputs":4,"classes":3},"data":[{"dataset":"d","labels":[1,2]}],"training":{"learningRate":0.001}}""";

    [Fact]
    public void Hash_ignores_whitespace_and_key_order_at_every_level()
    {
        var reformatted = """
            {
                "training" : { "learningRate" : 1e-3 },
                "data": [ { "labels": [1, 2], "dataset": "d" } ],
                "architecture": { "classes": 3.0, "kind": "mlp", "inputs": 4 },
                "id": "m",
                "schemaVersion": 1
            }
            """;

        Assert.Equal(ContentHash.OfJsonText(Compact), ContentHash.OfJsonText(reformatted));
    }

    [Theory]
    [InlineData("\"id\":\"m\"", "\"id\":\"n\"")]
    [InlineData("\"labels\":[1,2]", "\"labels\":[2,1]")]
    [InlineData("\"learningRate\":0.001", "\"learningRate\":0.0011")]
    [InlineData("\"inputs\":4", "\"inputs\":\"4\"")]
    [InlineData("\"classes\":3}", "\"classes\":3,\"x-note\":null}")]
    public void Hash_changes_when_a_value_changes(string before, string after)
    {
        var changed = Compact.Replace(before, after, StringComparison.Ordinal);
        Assert.NotEqual(Compact, changed);

        Assert.NotEqual(ContentHash.OfJsonText(Compact), ContentHash.OfJsonText(changed));
    }

    [Fact]
    public void A_lineage_or_dataset_manifest_hashes_without_extension_fields_and_schema_reference_a_removal_with_them()
    {
        using var ws = new Testing.TempWorkspace();
        const string Dataset = """{ "schemaVersion": 1, "id": "d", "format": "csv", "classes": 3, "train": { "path": "t.csv", "labelColumn": "label" } }""";
        const string Removal = """{ "schemaVersion": 1, "id": "r", "forget": { "labels": [1] } }""";
        static string Annotate(string json) => json
            .Replace("{ \"schemaVersion\"", "{ \"$schema\": \"s.json\", \"x-owner\": \"ml\", \"schemaVersion\"", StringComparison.Ordinal)
            .Replace("\"labelColumn\"", "\"x-note\": [1, 2], \"labelColumn\"", StringComparison.Ordinal);
        string HashOf(string name, string json) => FisherUnlearn.Lineage.Manifests.ManifestReader.ReadFile(ws.Write(name, json), ws.Root).Hash!;

        Assert.Equal(HashOf("m.lineage.json", Compact), HashOf("m.lineage.json", Compact.Replace("{\"schemaVersion\"", "{\"$schema\":\"s\",\"schemaVersion\"", StringComparison.Ordinal)
            .Replace("\"classes\":3}", "\"classes\":3,\"x-note\":{\"a\":1}}", StringComparison.Ordinal)));
        Assert.Equal(HashOf("d.dataset.json", Dataset), HashOf("d.dataset.json", Annotate(Dataset)));
        Assert.NotEqual(HashOf("m.lineage.json", Compact), HashOf("m.lineage.json", Compact.Replace("0.001", "0.002", StringComparison.Ordinal)));
        Assert.NotEqual(HashOf("r.removal.json", Removal), HashOf("r.removal.json", Annotate(Removal))); // reports quote a removal's text
    }

    [Fact]
    public void Canonical_form_sorts_keys_normalizes_numbers_and_escapes_minimally()
    {
        var bag = new DiagnosticBag();
        var node = JsonDocumentReader.Parse("""{ "b": [1.50, 2E+2, -0.0, 1e-7], "a": "t\u00e9\tx\"\u0001/", "A": true }""", "x.json", bag)!;

        var canonical = CanonicalJson.Write(node);

        Assert.Equal("{\"A\":true,\"a\":\"té\\tx\\\"\\u0001/\",\"b\":[1.5,200,0,1e-07]}", canonical);
    }

    [Fact]
    public void Hash_is_lowercase_sha256_hex_of_the_canonical_text()
    {
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("{\"a\":1}")));

        Assert.Equal(expected, ContentHash.OfJsonText("{ \"a\" : 1.0 }"));
    }

    [Fact]
    public void File_hash_is_sha256_of_the_raw_bytes()
    {
        using var ws = new Testing.TempWorkspace();
        var path = ws.Write("a.bin", "abc");

        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ContentHash.OfFile(path));
    }

    [Fact]
    public void Combined_hash_depends_on_parts_and_their_order_and_boundaries()
    {
        var ab = ContentHash.Combine("a", "b");

        Assert.Equal(ab, ContentHash.Combine("a", "b"));
        Assert.NotEqual(ab, ContentHash.Combine("b", "a"));
        Assert.NotEqual(ContentHash.Combine("ab", "c"), ContentHash.Combine("a", "bc"));
        Assert.Equal(64, ab.Length);
    }

    [Fact]
    public void Invalid_json_text_cannot_be_hashed_as_json()
    {
        var error = Assert.Throws<FormatException>(() => ContentHash.OfJsonText("{ \"a\": "));

        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }
}
