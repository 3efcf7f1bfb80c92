using System.Globalization;

namespace FisherUnlearn.Lineage.Diagnostics;

/// <summary>A problem found in the user's input or work, with its FUL code and where it is.</summary>
public sealed record Diagnostic(string Code, Severity Severity, string Message, SourceLocation Location)
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
        var where = Location.ToString();
        return where.Length == 0
            ? $"{severity} {Code}: {Message}"
            : $"{where}: {severity} {Code}: {Message}";
    }

    public override string ToString() => ToCanonicalString();
}
