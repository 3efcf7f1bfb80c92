namespace FisherUnlearn.Lineage.Diagnostics;

/// <summary>A place in a file: 1-based line and column, 0 when unknown.</summary>
public sealed record SourceLocation(string File, int Line = 0, int Column = 0)
{
    public static SourceLocation None { get; } = new(string.Empty);

    public override string ToString() =>
        File.Length == 0 ? string.Empty
        : Line > 0 ? $"{File}({Line},{Math.Max(Column, 1)})"
        : File;
}
