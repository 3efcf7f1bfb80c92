namespace FisherUnlearn.Lineage.Diagnostics;

/// <summary>One entry of the diagnostic catalogue: a stable code, its severity and a message template
/// (composite format, arguments filled by <see cref="Diagnostic.Create"/>). Messages say what to do.</summary>
public sealed record DiagnosticDescriptor(string Code, Severity Severity, string Title, string MessageFormat);
