using System.CommandLine;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Tool.Output;

namespace FisherUnlearn.Tool.Cli;

/// <summary>What one invocation of a command works with: the context, the global options' values and a
/// diagnostic writer. Loads and checks the workspace the same way for every command.</summary>
/// <param name="discover">Without --workspace, use the nearest folder upwards holding <c>unlearn.json</c> (as git finds
/// its repository), so commands work from any subfolder of a workspace; false (init) = the current folder.</param>
internal sealed class CommandEnvironment(CliContext context, GlobalOptions options, ParseResult parseResult, bool discover = true)
{
    public CliContext Context { get; } = context;

    public bool Json { get; } = parseResult.GetValue(options.Json);

    public Verbosity Verbosity { get; } = parseResult.GetValue(options.Verbosity);

    public bool NoProgress { get; } = parseResult.GetValue(options.NoProgress);

    public string WorkspaceRoot { get; } = parseResult.GetValue(options.Workspace) is { Length: > 0 } || !discover
        ? context.ResolveDirectory(parseResult.GetValue(options.Workspace))
        : FindWorkspaceRoot(context.CurrentDirectory);

    public DiagnosticWriter Diagnostics { get; } = new(context, parseResult.GetValue(options.Verbosity));

    /// <summary>True, after reporting FUL3005, when <paramref name="output"/> (an --out value) names a file: every command
    /// that takes the output root refuses it the same way, before it reads or writes anything there. So is a path under a
    /// file (QA: 'out/f/deeper' with 'out/f' a file was FUL3009 with .NET's "Could not find a part of the path").</summary>
    public bool OutputIsFile(string? output)
    {
        if (output is null)
        {
            return false;
        }

        var full = Path.GetFullPath(Path.Combine(Context.CurrentDirectory, output));
        if (Lineage.IO.RegularFile.FileAtOrAbove(full) is not { } file)
        {
            return false;
        }

        Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null, file == full
            ? $"'{Context.Display(full)}' is a file: --out takes the output folder ('run --out' writes there; 'verify', 'status' and 'plan --check' read it)."
            : $"'{Context.Display(file)}' is a file, so no folder '{Context.Display(full)}' can be made under it: --out takes the output folder ('run --out' writes there; 'verify', 'status' and 'plan --check' read it)."));
        return true;
    }

    /// <summary>Holds a removal's output folder as a whole writer does (<see cref="Lineage.IO.OutputLock.TryAcquireWhole"/>),
    /// waiting up to <paramref name="wait"/>: false, after reporting FUL3007, when another process holds it or a part of
    /// it; <paramref name="held"/> is null when the folder does not exist (nothing to hold), and, with
    /// <paramref name="readOnly"/> (a command that only reads there, or writes what it may), when the folder refuses the
    /// lock file (not writable: then no run can replace its outputs either).</summary>
    public bool TryHoldOutputFolder(string directory, TimeSpan wait, out Lineage.IO.OutputLock? held, bool readOnly = false)
    {
        held = null;
        if (!Directory.Exists(directory))
        {
            return true;
        }

        string? holder;
        try
        {
            held = Lineage.IO.OutputLock.WaitWhole(directory, wait, out holder);
        }
        catch (Exception ex) when (readOnly && ex is UnauthorizedAccessException or IOException)
        {
            // Found in QA: verify of a folder the user may not write (another user's artifact) stopped here (FUL3009) and measured nothing.
            Diagnostics.Log($"'{Context.Display(directory)}' takes no lock file ({Engine.EngineException.FirstLine(ex.Message).TrimEnd('.')}): going on without it, reading the outputs as they are");
            return true;
        }

        if (held is null)
        {
            Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.OutputLocked, null, holder, Context.Display(directory)));
        }

        return held is not null;
    }

    /// <summary>Loads and validates the workspace and reports every diagnostic. Null (after reporting) when the
    /// folder does not exist.</summary>
    public WorkspaceAnalysis? Analyze(CancellationToken cancellationToken)
    {
        if (File.Exists(WorkspaceRoot))
        {
            Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null,
                $"'{Context.Display(WorkspaceRoot)}' is a file: --workspace takes the workspace's folder (the one holding unlearn.json or the manifests)."));
            return null;
        }

        if (!Directory.Exists(WorkspaceRoot))
        {
            Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.WorkspaceNotFound, null, Context.Display(WorkspaceRoot)));
            return null;
        }

        var analysis = WorkspaceAnalysis.Analyze(WorkspaceRoot, cancellationToken);
        // The method settings' values are the engine's to judge: checked here so every command (validate first) reports
        // them with the manifests' other problems.
        if (Engine.Unlearning.UnlearnSettings.Check(analysis.Workspace) is { Count: > 0 } settings)
        {
            var all = new DiagnosticBag();
            all.AddRange(analysis.Diagnostics);
            all.AddRange(settings);
            analysis = analysis with { Diagnostics = all.ToSortedList() };
        }

        Diagnostics.Write(analysis.Diagnostics);
        // Without unlearn.json the workspace is the folder itself: from a project folder, the rest of the network is not
        // seen, and its parents and datasets read as unknown. Said, so FUL2001/FUL2002 are not taken at their word (QA).
        // A folder inside a workspace, named by --workspace, is said to be one also when it holds no manifest (QA: a data
        // folder got FUL2014 alone).
        var hasSettings = File.Exists(Path.Combine(WorkspaceRoot, Lineage.Manifests.WorkspaceSettings.FileName));
        var enclosing = hasSettings ? null : EnclosingWorkspace(WorkspaceRoot);
        if (!hasSettings
            && (analysis.Diagnostics.Any(d => d.Code == DiagnosticCatalogue.UnknownParent.Code || d.Code == DiagnosticCatalogue.UnknownDataset.Code)
                || (enclosing is not null && analysis.Diagnostics.Any(d => d.Code == DiagnosticCatalogue.NoManifests.Code))))
        {
            // --workspace is read as given, not searched upwards: a subfolder of a workspace is a workspace of its own (QA:
            // the note said there was no unlearn.json above it, one folder below the workspace's).
            Diagnostics.Log(enclosing is not null
                ? $"note: '{Context.Display(WorkspaceRoot)}' lies inside the workspace at '{Context.Display(enclosing)}' (its unlearn.json), but --workspace reads the folder it names as a workspace of its own, "
                    + $"so models and datasets outside it are not seen. Pass --workspace {Lineage.Text.ShellWord.Quote(Context.Display(enclosing))}, or leave --workspace out: from any folder inside a workspace its root is found."
                : $"note: no unlearn.json in '{Context.Display(WorkspaceRoot)}' or above it, so the workspace is that folder alone, and models and datasets outside it are not seen. "
                    + "If it is part of a larger workspace, run from that one's root or pass --workspace <root> (an unlearn.json there, 'dotnet unlearn init', marks the root for every subfolder).");
        }

        return analysis;
    }

    // The nearest folder above this one that holds unlearn.json, or null.
    private static string? EnclosingWorkspace(string folder)
    {
        for (var parent = Directory.GetParent(Path.GetFullPath(folder)); parent is not null; parent = parent.Parent)
        {
            if (File.Exists(Path.Combine(parent.FullName, Lineage.Manifests.WorkspaceSettings.FileName)))
            {
                return parent.FullName;
            }
        }

        return null;
    }

    /// <summary>As <see cref="Analyze"/>, but null also when any manifest has an error: commands that act on the
    /// workspace then exit with <see cref="ExitCodes.InvalidInput"/>.</summary>
    public WorkspaceAnalysis? LoadValidWorkspace(CancellationToken cancellationToken)
    {
        var analysis = Analyze(cancellationToken);
        if (analysis is { HasErrors: true })
        {
            Diagnostics.Log($"{Output.Counted.Of(analysis.Diagnostics.Count(d => d.IsError), "error")} in the workspace's manifests; run 'dotnet unlearn validate' for the list, fix them and try again.");
            return null;
        }

        return analysis;
    }

    /// <summary>The nearest of <paramref name="start"/> and its parents that holds <c>unlearn.json</c>; else <paramref name="start"/>.</summary>
    public static string FindWorkspaceRoot(string start)
    {
        for (var folder = new DirectoryInfo(Path.GetFullPath(start)); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, Lineage.Manifests.WorkspaceSettings.FileName)))
            {
                return folder.FullName;
            }
        }

        return Path.GetFullPath(start);
    }

    /// <summary>Whether long work may show a live display: stderr is a terminal, not in CI, not with --no-progress or quiet.</summary>
    public bool ShowsLiveProgress =>
        !NoProgress && Context.ErrorIsTerminal && string.IsNullOrEmpty(Context.GetEnvironmentVariable("CI")) && !Context.InGitHubActions && Verbosity != Verbosity.Quiet
        && !string.Equals(Context.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal); // no cursor movement: each redraw would be printed anew

    /// <summary>A live display when <see cref="ShowsLiveProgress"/>, else one line per model.</summary>
    public Running.IRunProgress CreateProgress() =>
        ShowsLiveProgress ? new Running.LiveProgressWithLines(new Running.LiveProgress(Context.Error), Diagnostics) : new Running.LineProgress(Diagnostics);

    /// <summary>Prints the command's one JSON document on stdout. Every document carries <c>diagnostics</c>: the errors,
    /// warnings and notes the command wrote on stderr (a command that lists its own, as validate does, keeps its list), so
    /// a pipeline reading stdout alone misses none of them.</summary>
    public void WriteJson(Newtonsoft.Json.Linq.JObject document)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (document["diagnostics"] is null)
        {
            document["diagnostics"] = JsonDocuments.Diagnostics(Context.Reported, Context);
        }

        Context.Out.WriteLine(document.ToString(Newtonsoft.Json.Formatting.Indented));
    }
}
