using System.Globalization;

namespace FisherUnlearn.Lineage.Json;

public sealed class JsonString(string value, int line, int column) : JsonNode(line, column)
{
    public string Value { get; } = value;

    public override JsonNodeKind Kind => JsonNodeKind.String;
}

/// <summary>A JSON number: its text as written, its value as a double and, when the value is a whole number
/// that fits, as a 64-bit integer (so <c>3</c>, <c>3.0</c> and <c>3e0</c> are all the integer 3).</summary>
public sealed class JsonNumber : JsonNode
{
    private readonly long integer;

    public JsonNumber(string raw, double value, long? integer, int line, int column)
        : base(line, column)
    {
        Raw = raw;
        Value = value;
        if (integer is { } exact)
        {
            this.integer = exact;
            IsInteger = true;
        }
        else if (double.IsFinite(value) && Math.Floor(value) == value && Math.Abs(value) < 9.2e18)
        {
            this.integer = (long)value;
            IsInteger = true;
        }
    }

    /// <summary>The number exactly as written in the document.</summary>
    public string Raw { get; }

    public double Value { get; }

    /// <summary>True when the value is a whole number within the range of <see cref="long"/>.</summary>
    public bool IsInteger { get; }

    /// <summary>True when the value is a whole number, within the range of <see cref="long"/> or not (such as
    /// <c>99999999999999999999</c>: an integer, out of any range a field takes, not a fraction).</summary>
    public bool IsWhole => IsInteger || (double.IsFinite(Value) && Math.Floor(Value) == Value);

    public override JsonNodeKind Kind => JsonNodeKind.Number;

    public bool TryGetInt64(out long value)
    {
        value = integer;
        return IsInteger;
    }

    public override string Describe() => IsInteger ? "an integer" : "the number " + Raw;

    public override string ToString() => Raw.Length > 0 ? Raw : Value.ToString("R", CultureInfo.InvariantCulture);
}

public sealed class JsonBoolean(bool value, int line, int column) : JsonNode(line, column)
{
    public bool Value { get; } = value;

    public override JsonNodeKind Kind => JsonNodeKind.Boolean;
}

public sealed class JsonNull(int line, int column) : JsonNode(line, column)
{
    public override JsonNodeKind Kind => JsonNodeKind.Null;
}
