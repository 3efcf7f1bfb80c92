using System.Globalization;

namespace FisherUnlearn.Lineage.Diagnostics;

/// <summary>A problem found in the user's input or work, with its FUL code and where it is.</summary>
public sealed record Diagnostic(string Code, Severity Severity, string Message, SourceLocation Location)
{
    public static Diagnostic Create(DiagnosticDescriptor descriptor, SourceLocation? location, params object?[] args) =>
        new(descriptor.Code, descriptor.Severity,
            string.Format(CultureInfo.InvariantCulture, descriptor.MessageFormat, args),
            location ?? SourceLocation.None);

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
