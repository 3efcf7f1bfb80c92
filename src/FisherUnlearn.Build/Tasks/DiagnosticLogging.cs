using FisherUnlearn.Lineage.Diagnostics;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace FisherUnlearn.Build.Tasks;

/// <summary>Logs lineage diagnostics as MSBuild errors, warnings and messages with their FUL code and the manifest's file,
/// line and column, so they are clickable and <c>WarningsAsErrors</c>/<c>NoWarn</c> work by code.</summary>
internal static class DiagnosticLogging
{
    public static void Log(this TaskLoggingHelper log, Diagnostic diagnostic)
    {
        var location = diagnostic.Location;
        var file = location.File.Length == 0 ? null : location.File;
        var line = location.Line;
        var column = location.Line > 0 ? Math.Max(location.Column, 1) : 0;
        switch (diagnostic.Severity)
        {
            case Severity.Error:
                log.LogError(null, diagnostic.Code, null, file, line, column, 0, 0, "{0}", diagnostic.Message);
                break;
            case Severity.Warning:
                log.LogWarning(null, diagnostic.Code, null, file, line, column, 0, 0, "{0}", diagnostic.Message);
                break;
            default:
                log.LogMessage(null, diagnostic.Code, null, file, line, column, 0, 0, MessageImportance.Normal, "{0}", diagnostic.Message);
                break;
        }
    }

    public static void Log(this TaskLoggingHelper log, DiagnosticDescriptor descriptor, string? file, params object?[] args) =>
        log.Log(Diagnostic.Create(descriptor, file is null ? null : new SourceLocation(file), args));
}
