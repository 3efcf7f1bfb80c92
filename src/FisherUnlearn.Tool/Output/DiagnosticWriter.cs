using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Tool.Cli;

namespace FisherUnlearn.Tool.Output;

/// <summary>
/// Writes diagnostics on stderr as canonical lines (<c>path(line,col): error FUL1001: message</c>), which MSBuild's
/// Exec task and IDEs understand, and, inside GitHub Actions, also as workflow commands so they become annotations
/// on the right file and line. Every other line is prefixed <c>dotnet-unlearn:</c> so it never parses as an error.
/// </summary>
internal sealed class DiagnosticWriter(CliContext context, Verbosity verbosity)
{
    public const string Prefix = "dotnet-unlearn: ";

    public void Write(IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            Write(diagnostic);
        }
    }

    public void Write(Diagnostic diagnostic)
    {
        context.Record(diagnostic);
        if (diagnostic.Severity == Severity.Info && verbosity == Verbosity.Quiet)
        {
            return;
        }

        var shown = diagnostic with { Message = context.DisplayMessage(diagnostic.Message), Location = diagnostic.Location with { File = context.Display(diagnostic.Location.File) } };
        context.Error.WriteLine(shown.Severity == Severity.Info ? Prefix + shown.ToCanonicalString() : shown.ToCanonicalString());
        // An info with a place of its own (FUL2012: a request that affects no model) is a notice at that place.
        if (context.InGitHubActions && (diagnostic.Severity != Severity.Info || diagnostic.Location.File.Length > 0))
        {
            context.Error.WriteLine(GitHubAnnotation(diagnostic));
        }
    }

    /// <summary>An engine error's diagnostic, and with --verbosity detailed what more it carries (for FUL3003, what
    /// TorchSharp printed while failing to load, kept off stdout).</summary>
    public void Write(Engine.EngineException exception)
    {
        Write(exception.Diagnostic);
        if (exception.Detail is { } detail)
        {
            Detail(detail);
        }
    }

    /// <summary>A log line for people (stderr, prefixed), shown unless quiet.</summary>
    public void Log(string message)
    {
        if (verbosity != Verbosity.Quiet)
        {
            context.Error.WriteLine(Prefix + message);
        }
    }

    /// <summary>Whether detail lines are shown (--verbosity detailed).</summary>
    public bool ShowsDetail => verbosity == Verbosity.Detailed;

    /// <summary>A detail line, shown only with --verbosity detailed.</summary>
    public void Detail(string message)
    {
        if (verbosity == Verbosity.Detailed)
        {
            context.Error.WriteLine(Prefix + message);
        }
    }

    /// <summary>Inside GitHub Actions, a warning annotation of a finding that is no diagnostic of its own (the targets a
    /// run's measurements found missed), at <paramref name="at"/>; elsewhere nothing (the log line says it).</summary>
    public void ActionsWarning(string title, string message, SourceLocation at)
    {
        if (context.InGitHubActions) // a workflow command, not log noise: written at every verbosity, as diagnostics' are
        {
            context.Error.WriteLine(Annotation("warning", at, title, message));
        }
    }

    private string GitHubAnnotation(Diagnostic diagnostic) =>
        Annotation(diagnostic.Severity switch { Severity.Error => "error", Severity.Warning => "warning", _ => "notice" }, diagnostic.Location, diagnostic.Code, diagnostic.Message);

    private string Annotation(string kind, SourceLocation at, string title, string message)
    {
        var properties = new List<string>();
        if (at.File.Length > 0)
        {
            // GitHub places an annotation by its repository-relative path; a file outside the checkout keeps its full path.
            properties.Add($"file={EscapeProperty(context.ForActions(at.File))}");
            if (at.Line > 0)
            {
                properties.Add($"line={at.Line}");
                properties.Add($"col={Math.Max(1, at.Column)}");
            }
        }

        properties.Add($"title={EscapeProperty(title)}");
        return $"::{kind} {string.Join(',', properties)}::{EscapeData(context.DisplayMessage(message))}";
    }

    // Escaping as the Actions toolkit does (packages/core/src/command.ts).
    internal static string EscapeData(string value) =>
        value.Replace("%", "%25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);

    internal static string EscapeProperty(string value) =>
        EscapeData(value).Replace(":", "%3A", StringComparison.Ordinal).Replace(",", "%2C", StringComparison.Ordinal);
}
