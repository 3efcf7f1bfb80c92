namespace FisherUnlearn.Lineage.Diagnostics;

/// <summary>Collects diagnostics while a piece of work goes on, so every problem is reported, not just the first.</summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> items = [];

    public IReadOnlyList<Diagnostic> Items => items;

    public bool HasErrors => items.Exists(d => d.IsError);

    public void Add(Diagnostic diagnostic) => items.Add(diagnostic);

    public void AddRange(IEnumerable<Diagnostic> diagnostics) => items.AddRange(diagnostics);

    public void Report(DiagnosticDescriptor descriptor, SourceLocation? location, params object?[] args) =>
        items.Add(Diagnostic.Create(descriptor, location, args));

    /// <summary>Diagnostics in a stable order: by file, line, column, then code.</summary>
    public IReadOnlyList<Diagnostic> ToSortedList() =>
        [.. items
            .OrderBy(d => d.Location.File, StringComparer.Ordinal)
            .ThenBy(d => d.Location.Line)
            .ThenBy(d => d.Location.Column)
            .ThenBy(d => d.Code, StringComparer.Ordinal)
            .ThenBy(d => d.Message, StringComparer.Ordinal)];
}
