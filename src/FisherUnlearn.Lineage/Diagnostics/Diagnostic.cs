using System.Globalization;

namespace FisherUnlearn.Lineage.Diagnostics;

/// <summary>A problem found in the user's input or work, with its FUL code and where it is.</summary>
public sealed partial record Diagnostic(string Code, Severity Severity, string Message, SourceLocation Location)
{
    public static Diagnostic Create(DiagnosticDescriptor descriptor, SourceLocation? location, params object?[] args) =>
        new(descriptor.Code, descriptor.Severity,
            string.Format(CultureInfo.InvariantCulture, descriptor.MessageFormat, EndSentencesOnce(descriptor.MessageFormat, args)),
            location ?? SourceLocation.None);

    // A sentence passed in (an exception's message, another diagnostic's) ends with its own full stop; where the template
    // puts one right after it ("...: {1}. Fix it"), drop the argument's, so the message never reads "invalid.. Fix it".
    private static object?[] EndSentencesOnce(string format, object?[] args)
    {
        object?[]? copy = null;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is string { Length: > 1 } text && text[^1] == '.' && text[^2] != '.'
                && format.Contains("{" + i.ToString(CultureInfo.InvariantCulture) + "}.", StringComparison.Ordinal))
            {
                copy ??= (object?[])args.Clone();
                copy[i] = text[..^1];
            }
        }

        return copy ?? args;
    }

    public bool IsError => Severity == Severity.Error;

    /// <summary>The canonical MSBuild/compiler form: <c>path(line,col): error FUL1001: message</c>.</summary>
    public string ToCanonicalString()
    {
        var severity = Severity switch
        {
            Severity.Error => "error",
            Severity.Warning => "warning",
            _ => "info",
        };
        var where = OneLine(Location.ToString());
        var message = OneLine(Message);
        return where.Length == 0
            ? $"{severity} {Code}: {message}"
            : $"{where}: {severity} {Code}: {message}";
    }

    /// <summary>The diagnostic a line in <see cref="ToCanonicalString"/>'s form stands for (what another process of the
    /// tool wrote on stderr), or null when the line is not one.</summary>
    public static Diagnostic? FromCanonicalString(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (CanonicalLine().Match(line) is not { Success: true } match)
        {
            return null;
        }

        var severity = match.Groups["severity"].Value switch
        {
            "error" => Severity.Error,
            "warning" => Severity.Warning,
            _ => Severity.Info,
        };
        int Number(string group) => match.Groups[group].Success ? int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
        return new Diagnostic(match.Groups["code"].Value, severity, match.Groups["message"].Value,
            new SourceLocation(match.Groups["file"].Value, Number("line"), Number("column")));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?:(?<file>.+?)(?:\((?<line>\d{1,9}),(?<column>\d{1,9})\))?: )?(?<severity>error|warning|info) (?<code>FUL\d{4}): (?<message>.+)$")]
    private static partial System.Text.RegularExpressions.Regex CanonicalLine();

    // Control characters, and the Unicode line and paragraph separators some editors and log viewers break at.
    private static bool BreaksLine(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';

    // One diagnostic, one line: a value quoted from a manifest may hold a line break, which would cut the canonical
    // line in two for IDEs, MSBuild and log scrapers. Control characters are shown escaped, as in JSON.
    private static string OneLine(string text)
    {
        if (!text.Any(BreaksLine))
        {
            return text;
        }

        var builder = new System.Text.StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when BreaksLine(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return builder.ToString();
    }

    public override string ToString() => ToCanonicalString();
}
