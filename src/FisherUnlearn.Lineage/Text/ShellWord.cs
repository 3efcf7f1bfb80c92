namespace FisherUnlearn.Lineage.Text;

/// <summary>A value as it is typed in a command a message suggests: as it is when a shell passes it through unchanged,
/// else in double quotes, or in single quotes when it holds what double quotes would expand (<c>$</c>, a backtick, a
/// backslash, <c>"</c> or <c>!</c>). So "try next: dotnet unlearn plan x --workspace 'my demo'" can be pasted.</summary>
public static class ShellWord
{
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || "_-./:@%+=,".Contains(c, StringComparison.Ordinal)))
        {
            return value;
        }

        return value.IndexOfAny(['$', '`', '\\', '"', '!']) < 0
            ? $"\"{value}\""
            : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}
