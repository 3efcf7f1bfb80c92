namespace FisherUnlearn.Lineage.Json;

public sealed class JsonArray(int line, int column) : JsonNode(line, column)
{
    private readonly List<JsonNode> items = [];

    public override JsonNodeKind Kind => JsonNodeKind.Array;

    public IReadOnlyList<JsonNode> Items => items;

    public int Count => items.Count;

    internal void Add(JsonNode item) => items.Add(item);
}
