using System.Globalization;

namespace FisherUnlearn.Lineage.Text;

/// <summary>Characters a reader cannot see: control characters other than tab and line breaks (which are layout), the
/// Unicode line and paragraph separators, and the bidirectional controls, which reorder the text shown around them. The
/// reports show them as JSON writes them (<c>\u0007</c>); <c>validate</c> warns about them in a removal's reason.</summary>
public static class HiddenCharacters
{
    public static bool IsHidden(char c) =>
        (char.IsControl(c) && c is not ('\t' or '\n' or '\r'))
        || c is '\u2028' or '\u2029' or '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');

    /// <summary>A character a message must escape to be read right: a hidden one, a format character (zero-width space,
    /// joiners, byte order mark) or white space other than the plain space (a no-break space reads as a space). Letters of
    /// any script (é, 数) are shown as they are.</summary>
    public static bool LooksLikeNothingOrSpace(char c) =>
        IsHidden(c) || (char.IsWhiteSpace(c) && c != ' ') || char.GetUnicodeCategory(c) == UnicodeCategory.Format;

    /// <summary>How a hidden character is shown: <c>\u0007</c>.</summary>
    public static string Shown(char c) => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");

    /// <summary>The text with every hidden character shown (<see cref="Shown"/>); the same string when it has none.</summary>
    public static string Visible(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(IsHidden))
        {
            return text;
        }

        var visible = new System.Text.StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            _ = IsHidden(c) ? visible.Append(Shown(c)) : visible.Append(c);
        }

        return visible.ToString();
    }
}
