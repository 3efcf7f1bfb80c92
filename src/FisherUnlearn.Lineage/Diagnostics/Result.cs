namespace FisherUnlearn.Lineage.Diagnostics;

/// <summary>A value (absent when errors prevented it) together with the diagnostics found on the way.</summary>
public sealed record Result<T>(T? Value, IReadOnlyList<Diagnostic> Diagnostics)
    where T : class
{
    public bool Succeeded => Value is not null && !Diagnostics.Any(d => d.IsError);

    public static Result<T> Success(T value, IReadOnlyList<Diagnostic>? diagnostics = null) => new(value, diagnostics ?? []);

    public static Result<T> Failure(IReadOnlyList<Diagnostic> diagnostics) => new(null, diagnostics);
}
