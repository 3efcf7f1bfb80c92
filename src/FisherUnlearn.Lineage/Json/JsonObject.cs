namespace FisherUnlearn.Lineage.Json;

/// <summary>A JSON object. Properties keep document order; duplicates are kept (the reader reports them)
/// and <see cref="Get"/> returns the first.</summary>
public sealed class JsonObject(int line, int column) : JsonNode(line, column)
{
    private const int IndexThreshold = 8;
    private readonly List<JsonProperty> properties = [];
    private Dictionary<string, JsonProperty>? index;

    public override JsonNodeKind Kind => JsonNodeKind.Object;

    public IReadOnlyList<JsonProperty> Properties => properties;

    public int Count => properties.Count;

    public JsonNode? this[string name] => Get(name)?.Value;

    /// <summary>The first property of that name, or null.</summary>
    public JsonProperty? Get(string name)
    {
        if (index is not null)
        {
            return index.GetValueOrDefault(name);
        }

        foreach (var property in properties)
        {
            if (string.Equals(property.Name, name, StringComparison.Ordinal))
            {
                return property;
            }
        }

        return null;
    }

    /// <summary>Adds a property; returns false when the name was already present (the property is still kept).</summary>
    internal bool Add(JsonProperty property)
    {
        var isNew = Get(property.Name) is null;
        properties.Add(property);
        if (index is not null)
        {
            index.TryAdd(property.Name, property);
        }
        else if (properties.Count > IndexThreshold)
        {
            // Large objects (free-form parameters) get a dictionary so duplicate checks stay linear overall.
            index = new Dictionary<string, JsonProperty>(StringComparer.Ordinal);
            foreach (var p in properties)
            {
                index.TryAdd(p.Name, p);
            }
        }

        return isNew;
    }
}

/// <summary>A property of a <see cref="JsonObject"/>; the position is that of its name.</summary>
public sealed class JsonProperty(string name, int line, int column, JsonNode value)
{
    public string Name { get; } = name;

    public int Line { get; } = line;

    public int Column { get; } = column;

    public JsonNode Value { get; } = value;
}
