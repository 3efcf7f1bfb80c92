namespace FisherUnlearn.Lineage.Text;

/// <summary>
/// Messages name the files they are about in full, in quotes ('/home/ci/repo/digits/bin/m.safetensors'). People read them
/// relative to where they are, and reports kept as artifacts should not carry the machine's folders: each quoted path
/// inside <c>folder</c> is shown relative to it. The quote's start and the folder are matched, not a whole quoted span, so
/// a path with an apostrophe in it is shown relative too.
/// </summary>
public static class QuotedPaths
{
    /// <summary><paramref name="message"/> with every <c>'&lt;folder&gt;/…</c> written <c>'…</c>, the rest with '/' separators.</summary>
    public static string RelativeTo(string message, string folder)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(folder);
        if (folder.Length == 0 || !Path.IsPathFullyQualified(folder))
        {
            return message;
        }

        var prefix = "'" + Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar;
        var at = message.IndexOf(prefix, StringComparison.Ordinal);
        if (at < 0)
        {
            return message;
        }

        var result = new System.Text.StringBuilder(message.Length);
        var from = 0;
        while (at >= 0)
        {
            result.Append(message, from, at - from).Append('\'');
            var start = at + prefix.Length;
            // On Windows the rest of the path reads with '/' as Display shows paths: up to the closing quote, which is
            // the last quote before the next space-free run ends (an apostrophe inside a name is kept).
            var end = ClosingQuote(message, start);
            var rest = message[start..end];
            result.Append(Path.DirectorySeparatorChar == '\\' ? rest.Replace('\\', '/') : rest);
            from = end;
            at = message.IndexOf(prefix, from, StringComparison.Ordinal);
        }

        return result.Append(message, from, message.Length - from).ToString();
    }

    // The quote that closes a path starting at start: the first quote followed by the end of the text, a space or
    // punctuation, so that "o'w" inside a name is not taken for it.
    private static int ClosingQuote(string message, int start)
    {
        for (var i = start; i < message.Length; i++)
        {
            if (message[i] == '\'' && (i + 1 == message.Length || message[i + 1] is ' ' or ':' or ',' or '.' or ';' or ')' or '\n'))
            {
                return i;
            }
        }

        return message.Length;
    }
}
