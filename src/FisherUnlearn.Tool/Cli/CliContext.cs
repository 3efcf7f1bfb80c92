namespace FisherUnlearn.Tool.Cli;

/// <summary>What a command may touch of the outside world: its two streams, the environment and the current
/// folder. Injected so tests run commands in-process without touching the real console.</summary>
internal sealed class CliContext(TextWriter output, TextWriter error, Func<string, string?> environment, string currentDirectory, bool errorIsTerminal = false)
{
    /// <summary>True when stderr is an interactive terminal (a live progress display may be drawn there).</summary>
    public bool ErrorIsTerminal { get; } = errorIsTerminal;

    /// <summary>stdout; remembers whether anything was written (<see cref="WroteOutput"/>).</summary>
    public TextWriter Out { get; } = new WriteTracker(output);

    /// <summary>True once anything went to <see cref="Out"/>: a command that stops on an error before printing its
    /// <c>--json</c> document gets the failure document instead (<see cref="CliApp"/>).</summary>
    public bool WroteOutput => ((WriteTracker)Out).Written;

    /// <summary>Every diagnostic reported so far (by any <see cref="Output.DiagnosticWriter"/> of this invocation).</summary>
    public IReadOnlyList<Lineage.Diagnostics.Diagnostic> Reported
    {
        get
        {
            lock (reported)
            {
                return [.. reported];
            }
        }
    }

    public TextWriter Error { get; } = error;

    private readonly List<Lineage.Diagnostics.Diagnostic> reported = [];

    public string CurrentDirectory { get; } = currentDirectory;

    /// <summary>Records a diagnostic for <see cref="Reported"/> (called by the diagnostic writers).</summary>
    public void Record(Lineage.Diagnostics.Diagnostic diagnostic)
    {
        lock (reported)
        {
            reported.Add(diagnostic);
        }
    }

    public string? GetEnvironmentVariable(string name) => environment(name);

    public bool InGitHubActions => string.Equals(GetEnvironmentVariable("GITHUB_ACTIONS"), "true", StringComparison.OrdinalIgnoreCase);

    public static CliContext FromConsole() =>
        new(Console.Out, Console.Error, Environment.GetEnvironmentVariable, Environment.CurrentDirectory, !Console.IsErrorRedirected);

    /// <summary>A workspace path as given (relative to the current folder) made absolute.</summary>
    public string ResolveDirectory(string? path) =>
        Path.GetFullPath(string.IsNullOrEmpty(path) ? CurrentDirectory : Path.Combine(CurrentDirectory, path));

    /// <summary>A path as a GitHub Actions workflow names it (annotations, step outputs): relative to
    /// <c>GITHUB_WORKSPACE</c> when inside it, else in full; without that variable, as <see cref="Display"/> shows it.</summary>
    public string ForActions(string path) =>
        GetEnvironmentVariable("GITHUB_WORKSPACE") is { Length: > 0 } root ? Lineage.IO.RelativePath.Within(root, path) ?? path : Display(path);

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

    /// <summary>A message as people read it: each path it quotes ('…') in full that lies inside the current folder is
    /// shown relative to it, as <see cref="Display"/> shows the diagnostic's own file (the engine names the files it reads
    /// in full, so FUL4021 read "digits/bin/m.safetensors: error FUL4021: '/home/…/digits/bin/m.safetensors' is truncated").</summary>
    public string DisplayMessage(string message) => Lineage.Text.QuotedPaths.RelativeTo(message, CurrentDirectory);
}

/// <summary>A pass-through writer that notes whether anything was written.</summary>
internal sealed class WriteTracker(TextWriter inner) : TextWriter
{
    public bool Written { get; private set; }

    public override System.Text.Encoding Encoding => inner.Encoding;

    public override IFormatProvider FormatProvider => inner.FormatProvider;

    public override string NewLine
    {
        get => inner.NewLine;
#pragma warning disable CS8765 // TextWriter.NewLine's setter accepts null; so does the inner writer's.
        set => inner.NewLine = value;
#pragma warning restore CS8765
    }

    public override void Write(char value)
    {
        Written = true;
        inner.Write(value);
    }

    public override void Write(string? value)
    {
        Written |= !string.IsNullOrEmpty(value);
        inner.Write(value);
    }

    public override void Write(char[] buffer, int index, int count)
    {
        Written |= count > 0;
        inner.Write(buffer, index, count);
    }

    public override void WriteLine(string? value)
    {
        Written = true;
        inner.WriteLine(value);
    }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync() => inner.FlushAsync();
}
