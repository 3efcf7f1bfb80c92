using System.Globalization;
using System.Text;

namespace FisherUnlearn.Lineage.Json;

/// <summary>
/// The canonical text of a JSON tree, so equal content gives equal bytes whatever the formatting: no whitespace,
/// object keys sorted ordinally (UTF-16) at every level, whole numbers as integers (<c>1.0</c> and <c>1e0</c> are
/// <c>1</c>), other numbers in the shortest round-trip form with a lowercase exponent (<c>1e-05</c>), strings with
/// only <c>"</c>, <c>\</c> and control characters escaped (short forms where JSON has one, else <c>\u00xx</c>).
/// Duplicate keys keep document order among themselves.
/// </summary>
public static class CanonicalJson
{
    public static string Write(JsonNode node)
    {
        var builder = new StringBuilder(256);
        Write(node, builder);
        return builder.ToString();
    }

    public static void Write(JsonNode node, StringBuilder builder) => Write(node, builder, null);

    /// <summary>The canonical text without the object properties, at any depth, whose names
    /// <paramref name="omitProperty"/> accepts (null: none omitted).</summary>
    public static void Write(JsonNode node, StringBuilder builder, Func<string, bool>? omitProperty)
    {
        switch (node)
        {
            case JsonObject obj:
                WriteObject(obj, builder, omitProperty);
                break;
            case JsonArray array:
                builder.Append('[');
                for (var i = 0; i < array.Items.Count; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(',');
                    }

                    Write(array.Items[i], builder, omitProperty);
                }

                builder.Append(']');
                break;
            case JsonString s:
                WriteString(s.Value, builder);
                break;
            case JsonNumber n:
                WriteNumber(n, builder);
                break;
            case JsonBoolean b:
                builder.Append(b.Value ? "true" : "false");
                break;
            default:
                builder.Append("null");
                break;
        }
    }

    /// <summary>The canonical literal of one scalar, such as <c>"fast"</c>, <c>0.5</c> or <c>true</c>.</summary>
    public static string Literal(JsonNode scalar) => Write(scalar);

    private static void WriteObject(JsonObject obj, StringBuilder builder, Func<string, bool>? omitProperty)
    {
        var properties = obj.Properties;
        var count = properties.Count;
        Span<int> order = count <= 32 ? stackalloc int[count] : new int[count];
        for (var i = 0; i < count; i++)
        {
            // Insertion sort: objects are small, and it is stable, so duplicate names keep their document order.
            var j = i;
            while (j > 0 && string.CompareOrdinal(properties[order[j - 1]].Name, properties[i].Name) > 0)
            {
                order[j] = order[j - 1];
                j--;
            }

            order[j] = i;
        }

        builder.Append('{');
        var written = 0;
        for (var i = 0; i < count; i++)
        {
            var property = properties[order[i]];
            if (omitProperty?.Invoke(property.Name) == true)
            {
                continue;
            }

            if (written++ > 0)
            {
                builder.Append(',');
            }

            WriteString(property.Name, builder);
            builder.Append(':');
            Write(property.Value, builder, omitProperty);
        }

        builder.Append('}');
    }

    private static void WriteNumber(JsonNumber number, StringBuilder builder)
    {
        if (number.TryGetInt64(out var integer))
        {
            builder.Append(integer.ToString(CultureInfo.InvariantCulture));
        }
        else if (double.IsFinite(number.Value))
        {
            var text = number.Value.ToString("R", CultureInfo.InvariantCulture);
            builder.Append(text.Replace("E+", "e", StringComparison.Ordinal).Replace('E', 'e'));
        }
        else
        {
            // Beyond double range: nothing better than the text as written.
            builder.Append(number.Raw);
        }
    }

    private static void WriteString(string value, StringBuilder builder)
    {
        builder.Append('"');
        if (!NeedsEscaping(value))
        {
            builder.Append(value).Append('"');
            return;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (c < 0x20 || (char.IsSurrogate(c) && !IsPairAt(value, i)))
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                        if (char.IsHighSurrogate(c))
                        {
                            builder.Append(value[++i]);
                        }
                    }

                    break;
            }
        }

        builder.Append('"');
    }

    private static bool NeedsEscaping(string value)
    {
        foreach (var c in value)
        {
            if (c < 0x20 || c == '"' || c == '\\' || char.IsSurrogate(c))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsPairAt(string value, int i) =>
        char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]);
}
