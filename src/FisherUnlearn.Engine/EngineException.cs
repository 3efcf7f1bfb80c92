using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.IO;

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

    /// <summary>More than the one-line message, for <c>--verbosity detailed</c>: what the library printed as it failed
    /// (TorchSharp's native-load trace for FUL3003). Null when there is nothing more.</summary>
    public string? Detail { get; init; }

    /// <summary>The FUL code, such as <c>FUL4001</c>.</summary>
    public string Code => Diagnostic.Code;

    /// <summary>What is wrong, without the file name and the advice of the message: for a caller that reports the
    /// same problem in its own words (a dataset stored as safetensors is not a checkpoint).</summary>
    internal string? Reason { get; init; }

    /// <summary>An unexpected exception in one line for a FUL message: its type and the first line of its message
    /// (libtorch appends its native stack frames, which tell a user nothing).</summary>
    public static string Summarize(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return $"{exception.GetType().Name}: {FirstLine(exception.Message)}";
    }

    /// <summary>The first line of a message.</summary>
    public static string FirstLine(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var end = message.IndexOfAny(['\r', '\n']);
        return (end < 0 ? message : message[..end]).Trim();
    }

    /// <summary>FUL4001 when no data file is at <paramref name="path"/>: nothing there, or a symbolic link that leads
    /// nowhere (content not fetched yet, a loop), which <see cref="File.Exists"/> alone would let through. Reported at the
    /// line of <paramref name="named"/>'s manifest that names the file, when given, else at the file.</summary>
    internal static void ThrowIfDataMissing(string path, Lineage.Manifests.DatasetSplit? named = null)
    {
        if (Lineage.IO.RegularFile.Absence(path) is { } absence)
        {
            throw At(DiagnosticCatalogue.DataFileNotFound, named?.FileLocations.GetValueOrDefault(path) ?? new SourceLocation(path), null, path, absence);
        }
    }

    /// <summary>Refuses, before it is opened, a path that leads to a FIFO, a device or a socket (FUL1027): reading one
    /// would block or never end.</summary>
    internal static void ThrowIfNotRegular(string path)
    {
        if (RegularFile.KindOf(path) is { } kind)
        {
            throw Create(DiagnosticCatalogue.NotARegularFile, path, path, kind);
        }
    }

    /// <summary>The diagnostic an exception carries, when it carries one (an engine error, or a file that is not regular).</summary>
    public static Diagnostic? DiagnosticOf(Exception exception) => exception switch
    {
        EngineException engine => engine.Diagnostic,
        NotARegularFileException file => file.Diagnostic,
        _ => null,
    };

    internal static EngineException Create(DiagnosticDescriptor descriptor, string? path, params object?[] args) =>
        new(Diagnostic.Create(descriptor, path is null ? null : new SourceLocation(path), args));

    internal static EngineException At(DiagnosticDescriptor descriptor, SourceLocation location, Exception? inner, params object?[] args) =>
        new(Diagnostic.Create(descriptor, location, args), inner);

    internal static EngineException WithReason(string reason, DiagnosticDescriptor descriptor, string path, Exception? inner, params object?[] args) =>
        new(Diagnostic.Create(descriptor, new SourceLocation(path), args), inner) { Reason = reason };
}
