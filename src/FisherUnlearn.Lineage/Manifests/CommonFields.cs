using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Json;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>Fields every manifest kind shares: <c>$schema</c>, <c>schemaVersion</c>, <c>id</c>, <c>parameters</c>.</summary>
internal static class CommonFields
{
    public const int SupportedSchemaVersion = 1;

    public static ObjectReader? Root(ReadContext context, JsonNode document)
    {
        if (document is JsonObject obj)
        {
            var reader = new ObjectReader(context, obj, string.Empty);
            _ = reader.String("$schema", allowEmpty: true);
            return reader;
        }

        context.WrongType("(document)", "a JSON object { ... }", document);
        return null;
    }

    /// <summary>False when the document declares a version this tool cannot interpret, so reading stops there
    /// (a newer format's fields would only produce noise).</summary>
    public static bool SchemaVersion(ObjectReader reader, bool required)
    {
        var node = required ? reader.Required("schemaVersion") : reader.Optional("schemaVersion");
        if (node is null)
        {
            return true;
        }

        if (node is not JsonNumber number || !number.TryGetInt64(out var version))
        {
            reader.Context.WrongType("schemaVersion", "an integer", node);
            return true;
        }

        if (version != SupportedSchemaVersion)
        {
            reader.Context.Report(DiagnosticCatalogue.UnsupportedSchemaVersion, node, number.Raw);
            return false;
        }

        return true;
    }

    /// <summary>The <c>id</c>, and the manifest's location: the start of the document. Where the id itself is
    /// written goes to <see cref="ReadContext.IdLocation"/> (for duplicate-id reports).</summary>
    public static (string? Id, SourceLocation Location) Id(ObjectReader reader)
    {
        var context = reader.Context;
        var node = reader.Required("id");
        context.IdLocation = node is null ? null : context.At(node);
        var id = node is null ? null : context.AsId(node, "id");
        if (id is not null && ManifestId.WindowsDeviceName(id) is { } device)
        {
            context.Report(DiagnosticCatalogue.ReservedId, node!, id, device);
        }

        return (id, context.At(reader.Object));
    }

    /// <summary>The <c>method</c> field: one of <see cref="RemovalManifest.Methods"/> (any case; FUL1024 otherwise), and
    /// where it is written.</summary>
    public static (string? Method, SourceLocation? Location) Method(ObjectReader reader)
    {
        var node = reader.Optional("method");
        if (node is null || reader.String("method") is not { } method)
        {
            return (null, null);
        }

        if (!RemovalManifest.Methods.Contains(method.Trim().ToLowerInvariant()))
        {
            reader.Context.Report(DiagnosticCatalogue.UnknownMethodName, node, method, string.Join(", ", RemovalManifest.Methods));
            return (null, reader.Context.At(node));
        }

        return (method, reader.Context.At(node));
    }

    /// <summary>An object of scalar settings, as JSON literals keyed by name in ordinal order; where each value is
    /// written goes to <paramref name="locations"/> (the engine checks the values and reports them there).</summary>
    public static SortedDictionary<string, string> Parameters(ObjectReader reader, string field, IDictionary<string, SourceLocation> locations)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (reader.ObjectField(field) is not { } parameters)
        {
            return result;
        }

        foreach (var property in parameters.Properties)
        {
            var value = property.Value;
            // Names starting 'x-' are the writer's own and ignored (docs/methods.md), whatever they hold: a note as an
            // object or a list is not refused (QA: "x-foo": {"a": 1} was FUL1006). A scalar one is kept as before.
            if (property.Name.StartsWith("x-", StringComparison.Ordinal) && value is not (JsonString or JsonBoolean or JsonNumber))
            {
                continue;
            }

            locations.TryAdd(property.Name, reader.Context.At(value));
            switch (value)
            {
                case JsonString or JsonBoolean:
                    result.TryAdd(property.Name, CanonicalJson.Literal(value));
                    break;
                case JsonNumber number:
                    result.TryAdd(property.Name, number.Raw);
                    break;
                default:
                    reader.Context.WrongType($"{reader.Name(field)}.{property.Name}", "a string, number or boolean", value);
                    break;
            }
        }

        return result;
    }
}
