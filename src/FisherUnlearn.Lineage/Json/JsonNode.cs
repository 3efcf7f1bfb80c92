namespace FisherUnlearn.Lineage.Json;

public enum JsonNodeKind
{
    Object,
    Array,
    String,
    Number,
    Boolean,
    Null,
}

/// <summary>
/// One value of a JSON document read by <see cref="JsonDocumentReader"/>, with the 1-based line and column
/// (UTF-16 code units) of its first character, so problems can be reported where they are.
/// </summary>
public abstract class JsonNode(int line, int column)
{
    public int Line { get; } = line;

    public int Column { get; } = column;

    public abstract JsonNodeKind Kind { get; }

    /// <summary>The kind with an article, for messages: "an object", "a string", "null".</summary>
    public virtual string Describe() => DescribeKind(Kind);

    public static string DescribeKind(JsonNodeKind kind) => kind switch
    {
        JsonNodeKind.Object => "an object",
        JsonNodeKind.Array => "an array",
        JsonNodeKind.String => "a string",
        JsonNodeKind.Number => "a number",
        JsonNodeKind.Boolean => "a boolean",
        _ => "null",
    };
}
