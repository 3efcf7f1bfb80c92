namespace FisherUnlearn.Tool.Cli;

/// <summary>What a command may touch of the outside world: its two streams, the environment and the current
/// folder. Injected so tests run commands in-process without touching the real console.</summary>
internal sealed class CliContext(TextWriter output, TextWriter error, Func<string, string?> environment, string currentDirectory, bool errorIsTerminal = false)
{
    /// <summary>True when stderr is an interactive terminal (a live progress display may be drawn there).</summary>
    public bool ErrorIsTerminal { get; } = errorIsTerminal;

    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    public string CurrentDirectory { get; } = currentDirectory;

    public string? GetEnvironmentVariable(string name) => environment(name);

    public bool InGitHubActions => string.Equals(GetEnvironmentVariable("GITHUB_ACTIONS"), "true", StringComparison.OrdinalIgnoreCase);

    public static CliContext FromConsole() =>
        new(Console.Out, Console.Error, Environment.GetEnvironmentVariable, Environment.CurrentDirectory, !Console.IsErrorRedirected);

    /// <summary>A workspace path as given (relative to the current folder) made absolute.</summary>
    public string ResolveDirectory(string? path) =>
        Path.GetFullPath(string.IsNullOrEmpty(path) ? CurrentDirectory : Path.Combine(CurrentDirectory, path));

    /// <summary>A path as people read it: relative to the current folder when inside it, else absolute.</summary>
    public string Display(string path)
    {
        if (path.Length == 0 || !Path.IsPathFullyQualified(path))
        {
            return path;
        }

        var relative = Path.GetRelativePath(CurrentDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathFullyQualified(relative)
            ? path
            : relative.Replace('\\', '/');
    }
}
