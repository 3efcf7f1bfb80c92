using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Engine;

/// <summary>
/// A bad input met by the engine (dataset, checkpoint, architecture): carries the FUL diagnostic that a host
/// prints instead of a stack trace.
/// </summary>
public class EngineException : Exception
{
    public EngineException(Diagnostic diagnostic, Exception? innerException = null)
        : base(diagnostic.ToCanonicalString(), innerException) => Diagnostic = diagnostic;

    public Diagnostic Diagnostic { get; }

    /// <summary>The FUL code, such as <c>FUL4001</c>.</summary>
    public string Code => Diagnostic.Code;

    internal static EngineException Create(DiagnosticDescriptor descriptor, string? path, params object?[] args) =>
        new(Diagnostic.Create(descriptor, path is null ? null : new SourceLocation(path), args));

    internal static EngineException At(DiagnosticDescriptor descriptor, SourceLocation location, Exception? inner, params object?[] args) =>
        new(Diagnostic.Create(descriptor, location, args), inner);
}
