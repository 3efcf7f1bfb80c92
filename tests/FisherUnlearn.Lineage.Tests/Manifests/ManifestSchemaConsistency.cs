using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Json;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Schemas;

namespace FisherUnlearn.Lineage.Tests.Manifests;

/// <summary>The shipped JSON Schemas describe the fields the readers accept, no more and no fewer.</summary>
public sealed class ManifestSchemaConsistency
{
    public static TheoryData<ManifestKind> Kinds => [ManifestKind.Lineage, ManifestKind.Dataset, ManifestKind.Removal, ManifestKind.Settings];

    private static JsonObject Schema(ManifestKind kind)
    {
        var bag = new DiagnosticBag();
        var node = JsonDocumentReader.Parse(ManifestSchemas.Get(kind), ManifestSchemas.FileName(kind), bag);
        Assert.Empty(bag.Items);
        return Assert.IsType<JsonObject>(node);
    }

    private static IEnumerable<string> PropertyNames(JsonObject schema, params string[] path)
    {
        JsonNode current = schema;
        foreach (var step in path)
        {
            current = ((JsonObject)current)[step] ?? throw new InvalidOperationException($"no '{step}' in the schema");
        }

        var properties = Assert.IsType<JsonObject>(((JsonObject)current)["properties"]);
        return properties.Properties.Select(p => p.Name).Order(StringComparer.Ordinal);
    }

    private static IEnumerable<string> Sorted(IEnumerable<string> names) => names.Order(StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Schema_is_embedded_and_declares_draft_2020_12(ManifestKind kind)
    {
        var schema = Schema(kind);

        Assert.Equal("https://json-schema.org/draft/2020-12/schema", Assert.IsType<JsonString>(schema["$schema"]).Value);
        Assert.Equal("object", Assert.IsType<JsonString>(schema["type"]).Value);
        Assert.False(Assert.IsType<JsonBoolean>(schema["additionalProperties"]).Value);
    }

    [Fact]
    public void Lineage_schema_fields_match_the_reader()
    {
        var schema = Schema(ManifestKind.Lineage);

        Assert.Equal(Sorted(LineageManifestReader.Fields), PropertyNames(schema));
        Assert.Equal(Sorted(ArchitectureReader.Fields), PropertyNames(schema, "$defs", "architecture"));
        Assert.Equal(Sorted(LineageManifestReader.TrainingFields), PropertyNames(schema, "$defs", "training"));
        Assert.Equal(Sorted(LineageManifestReader.ParentFields), PropertyNames(schema, "properties", "parents", "items"));
        Assert.Equal(Sorted(LineageManifestReader.DataFields), PropertyNames(schema, "properties", "data", "items"));
    }

    [Fact]
    public void Dataset_schema_fields_match_the_reader()
    {
        var schema = Schema(ManifestKind.Dataset);

        Assert.Equal(Sorted(DatasetManifestReader.Fields), PropertyNames(schema));
        Assert.Equal(Sorted(DatasetManifestReader.SplitFields), PropertyNames(schema, "$defs", "split"));
    }

    [Fact]
    public void Removal_schema_fields_match_the_reader()
    {
        var schema = Schema(ManifestKind.Removal);

        Assert.Equal(Sorted(RemovalManifestReader.Fields), PropertyNames(schema));
        Assert.Equal(Sorted(RemovalManifestReader.ForgetFields), PropertyNames(schema, "properties", "forget"));
        Assert.Equal(Sorted(RemovalManifestReader.SampleFields), PropertyNames(schema, "properties", "forget", "properties", "samples", "items"));
        Assert.Equal(Sorted(RemovalManifestReader.TargetFields), PropertyNames(schema, "properties", "targets"));
    }

    [Theory]
    [InlineData(ManifestKind.Removal)]
    [InlineData(ManifestKind.Settings)]
    public void The_method_field_offers_the_readers_methods_and_accepts_them_in_any_case_as_the_reader_does(ManifestKind kind)
    {
        var method = (JsonObject)((JsonObject)Schema(kind)["properties"]!)["method"]!;
        var choices = ((JsonArray)method["anyOf"]!).Items.Cast<JsonObject>().ToList();

        Assert.Equal(RemovalManifest.Methods, ((JsonArray)choices[0]["enum"]!).Items.Select(i => ((JsonString)i).Value));
        var pattern = new System.Text.RegularExpressions.Regex(((JsonString)choices[1]["pattern"]!).Value, System.Text.RegularExpressions.RegexOptions.ECMAScript);
        foreach (var name in RemovalManifest.Methods.SelectMany(m => new[] { m, m.ToUpperInvariant(), char.ToUpperInvariant(m[0]) + m[1..] }))
        {
            Assert.Matches(pattern, name);
        }

        Assert.DoesNotMatch(pattern, "fiunx");
        Assert.DoesNotMatch(pattern, "ss");
    }

    [Fact]
    public void Settings_schema_fields_match_the_reader()
    {
        Assert.Equal(Sorted(WorkspaceSettingsReader.Fields), PropertyNames(Schema(ManifestKind.Settings)));
    }
}
