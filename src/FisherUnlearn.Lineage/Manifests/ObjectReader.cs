using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Json;
using FisherUnlearn.Lineage.Text;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>Reads the fields of one JSON object of a manifest; <paramref name="path"/> names the object in
/// messages (<c>""</c> for the root, <c>training</c>, <c>parents[0]</c>).</summary>
internal sealed class ObjectReader(ReadContext context, JsonObject obj, string path)
{
    /// <summary>Fields whose name starts with this are extensions, allowed anywhere.</summary>
    public const string ExtensionPrefix = "x-";

    public JsonObject Object => obj;

    public ReadContext Context => context;

    public string Name(string field) => path.Length == 0 ? field : path + "." + field;

    public JsonNode? Optional(string field) => obj[field];

    public JsonNode? Required(string field)
    {
        var value = obj[field];
        if (value is null)
        {
            context.Report(DiagnosticCatalogue.MissingField, obj, Name(field));
        }

        return value;
    }

    private JsonNode? Get(string field, bool required) => required ? Required(field) : obj[field];

    public string? String(string field, bool required = false, bool allowEmpty = false) =>
        Get(field, required) is { } node ? context.AsString(node, Name(field), allowEmpty) : null;

    public int? Int(string field, int min, int max, bool required = false) =>
        Get(field, required) is { } node ? context.AsInt(node, Name(field), min, max) : null;

    public long? Long(string field, long min, long max, bool required = false) =>
        Get(field, required) is { } node ? context.AsLong(node, Name(field), min, max) : null;

    public double? Number(string field, double min, double max, bool minExclusive = false, bool maxExclusive = false, bool required = false) =>
        Get(field, required) is { } node ? context.AsNumber(node, Name(field), min, max, minExclusive, maxExclusive) : null;

    public string? PathValue(string field, bool required = false) =>
        Get(field, required) is { } node ? context.AsPath(node, Name(field)) : null;

    public string? Id(string field, bool required = false) =>
        Get(field, required) is { } node ? context.AsId(node, Name(field)) : null;

    public JsonObject? ObjectField(string field, bool required = false)
    {
        var node = Get(field, required);
        if (node is null or JsonObject)
        {
            return (JsonObject?)node;
        }

        context.WrongType(Name(field), "an object", node);
        return null;
    }

    public JsonArray? Array(string field, bool required = false)
    {
        var node = Get(field, required);
        if (node is null or JsonArray)
        {
            return (JsonArray?)node;
        }

        context.WrongType(Name(field), "an array", node);
        return null;
    }

    /// <summary>
    /// Reports every field not in <paramref name="known"/> (extensions excepted) as FUL1005 with a suggestion.
    /// <paramref name="checkKnown"/>, when given, sees each known field, to report those that exist but do not apply
    /// here (a field of another architecture kind or dataset format).
    /// </summary>
    public void RejectUnknown(IReadOnlyList<string> known, Action<JsonProperty>? checkKnown = null)
    {
        foreach (var property in obj.Properties)
        {
            var name = property.Name;
            if (name.StartsWith(ExtensionPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            if (Contains(known, name))
            {
                checkKnown?.Invoke(property);
                continue;
            }

            context.Report(DiagnosticCatalogue.UnknownField, property, Name(name), EditDistance.DidYouMean(name, known));
        }
    }

    public static bool Contains(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
