using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using FisherUnlearn.Lineage.Diagnostics;
using Microsoft.Build.Framework;

namespace FisherUnlearn.Build.Tasks;

/// <summary>
/// Runs <c>dotnet-unlearn run &lt;removal&gt; --only &lt;model&gt; --out &lt;root&gt;</c> once per stale (model, removal)
/// of the items given (the Unlearn target passes only the out-of-date ones), at most <see cref="Parallelism"/> at a time.
/// The tool's canonical lines (<c>path(line,col): error FUL1234: ...</c>) become MSBuild errors and warnings, their paths
/// made absolute (<see cref="WithAbsoluteOrigin"/>); its other lines are messages. A tool that cannot be started or found is FUL3001.
/// With <c>-question</c> (<see cref="FailIfNotIncremental"/>) nothing runs: each stale output is an error (FUL3012).
/// </summary>
public sealed partial class UnlearnRun : ProjectTask, IIncrementalTask, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly Lock _logLock = new();

    /// <summary>Items with metadata ModelId, RemovalId and OutputPath (several items of one pair count once).</summary>
    [Required]
    public ITaskItem[] Checkpoints { get; set; } = [];

    public string ToolExecutable { get; set; } = string.Empty;

    public string[] ToolArguments { get; set; } = [];

    [Required]
    public string WorkingDirectory { get; set; } = string.Empty;

    [Required]
    public string Workspace { get; set; } = string.Empty;

    /// <summary>Output root passed as <c>--out</c>; outputs are <c>&lt;root&gt;/&lt;removal&gt;/&lt;model&gt;.safetensors</c>.</summary>
    [Required]
    public string OutputRoot { get; set; } = string.Empty;

    public string? Method { get; set; }

    /// <summary>libtorch threads per tool process (<c>--threads</c>); 0: from the cores MSBuild grants this task
    /// (<see cref="CoreAllocation"/>).</summary>
    public int Threads { get; set; }

    /// <summary>How many tool processes this project runs at most at once (projects themselves run in parallel with -m;
    /// fewer when MSBuild grants fewer cores).</summary>
    public int Parallelism { get; set; } = 1;

    public bool FailIfNotIncremental { get; set; }

    /// <summary>The outputs written (or confirmed) by this run.</summary>
    [Output]
    public ITaskItem[] Written { get; private set; } = [];

    public void Cancel() => _cancel.Cancel();

    public override bool Execute()
    {
        var jobs = Checkpoints
            .GroupBy(i => (Removal: i.GetMetadata("RemovalId"), Model: i.GetMetadata("ModelId")))
            .Select(g => new Job(g.Key.Removal, g.Key.Model, g.First().GetMetadata("OutputPath"), CheckUnlearnOutputs.ManifestLocation(g.First())))
            .Where(j => j.Removal.Length > 0 && j.Model.Length > 0)
            .OrderBy(j => j.Removal, StringComparer.Ordinal).ThenBy(j => j.Model, StringComparer.Ordinal)
            .ToList();
        if (FailIfNotIncremental)
        {
            foreach (var job in jobs)
            {
                Log.Log(Diagnostic.Create(DiagnosticCatalogue.UnlearnedOutputStale, job.Manifest, job.Output, job.Model, job.Removal, "the Unlearn target would rebuild it"));
            }

            return jobs.Count == 0;
        }

        if (jobs.Count > 0 && string.IsNullOrEmpty(ToolExecutable))
        {
            Log.Log(DiagnosticCatalogue.ToolNotFound, ProjectForDiagnostics, "no tool was resolved (ResolveUnlearnTool did not run)", ResolveUnlearnTool.RestoreAdvice);
            return false;
        }

        var engine9 = BuildEngine as IBuildEngine9;
        var allocation = jobs.Count == 0 ? new CoreAllocation(1, Threads, 0) : CoreAllocation.For(jobs.Count, Parallelism, Threads, Environment.ProcessorCount,
            engine9 is null ? null : engine9.RequestCores, BuildEngine is IBuildEngine2 { IsRunningMultipleNodes: true });
        if (jobs.Count > 0 && Threads <= 0)
        {
            Log.LogMessage(MessageImportance.Low, "Unlearn: {0} tool process(es) at once, {1} libtorch thread(s) each{2}.", allocation.Processes, allocation.Threads,
                engine9 is null ? string.Empty : $" ({allocation.Granted} core(s) granted by MSBuild)");
        }

        var written = new List<ITaskItem>();
        var ok = true;
        try
        {
            Parallel.ForEach(jobs, new ParallelOptions { MaxDegreeOfParallelism = allocation.Processes, CancellationToken = _cancel.Token }, job =>
            {
                var succeeded = RunOne(job, allocation.Threads);
                lock (_logLock)
                {
                    if (succeeded)
                    {
                        written.Add(new Microsoft.Build.Utilities.TaskItem(job.Output));
                    }
                    else
                    {
                        ok = false;
                    }
                }
            });
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        finally
        {
            if (allocation.Granted > 0)
            {
                engine9!.ReleaseCores(allocation.Granted);
            }
        }

        Written = [.. written.OrderBy(w => w.ItemSpec, StringComparer.Ordinal)];
        if (ok && !Log.HasLoggedErrors)
        {
            PublishSummaries(jobs.Select(j => j.Removal));
        }

        return ok && !Log.HasLoggedErrors;
    }

    /// <summary>The environment this task reads and passes on to the tool (tests replace it).</summary>
    internal Func<string, string?> GetEnvironmentVariable { get; set; } = Environment.GetEnvironmentVariable;

    /// <summary>The marker, in a removal's output folder, of the outputs whose report was last published to the step summary.</summary>
    internal const string SummaryMarkerFileName = ".unlearn-msbuild-summary";

    private const string ActionsVariable = "GITHUB_ACTIONS";
    private const string SummaryVariable = "GITHUB_STEP_SUMMARY";
    private const string OutputVariable = "GITHUB_OUTPUT";

    private bool InGitHubActions =>
        string.Equals(GetEnvironmentVariable(ActionsVariable), "true", StringComparison.OrdinalIgnoreCase)
        && (!string.IsNullOrEmpty(GetEnvironmentVariable(SummaryVariable)) || !string.IsNullOrEmpty(GetEnvironmentVariable(OutputVariable)));

    /// <summary>
    /// GitHub Actions: the per-model tool processes run without <c>GITHUB_STEP_SUMMARY</c>/<c>GITHUB_OUTPUT</c> (each would
    /// append a whole report), so a removal's report is published here, once: when every affected model of the removal in
    /// the whole workspace has an up-to-date output (so the projects of a <c>-m</c> build that still have work leave it to the
    /// last one to finish), <c>dotnet-unlearn run &lt;removal&gt; --merge</c> runs with the environment intact; it rewrites the
    /// report from the job records and publishes the summary and the step outputs. A marker in the removal's output folder
    /// (written under a lock) holds the outputs it was published for, so two projects finishing together publish once.
    /// Publishing is never fatal: a problem is a message.
    /// </summary>
    internal void PublishSummaries(IEnumerable<string> removals)
    {
        if (!InGitHubActions)
        {
            return;
        }

        foreach (var removal in removals.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (_cancel.IsCancellationRequested)
            {
                return;
            }

            try
            {
                PublishSummary(removal);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.LogMessage(MessageImportance.High, "Unlearn: the GitHub step summary of '{0}' was not written ({1}).", removal, ex.Message);
            }
        }
    }

    private void PublishSummary(string removal)
    {
        var pairs = ProjectPlanner.RemovalPairs(Workspace, removal, OutputRoot, _cancel.Token);
        var stale = pairs.Where(p => !IsUpToDate(p.Output, p.Inputs)).Select(p => p.ModelId).Order(StringComparer.Ordinal).ToList();
        if (pairs.Count == 0 || stale.Count > 0)
        {
            Log.LogMessage(MessageImportance.High,
                "Unlearn: the GitHub step summary of '{0}' is left to the build of its other out-of-date outputs ({1}); it is published once every affected model is up to date.",
                removal, stale.Count == 0 ? "none planned" : string.Join(", ", stale));
            return;
        }

        // Times miss what changed without moving one (the removal's labels edited: its pairs' input caches are rewritten
        // by each project's own build, maybe not yet): the tool's check goes by content. A project of a -m build that still
        // has work then leaves the summary to the last one, instead of publishing a report of outputs about to be redone.
        var check = new List<string>(ToolArguments) { "plan", removal, "--check", "--out", OutputRoot, "--workspace", Workspace };
        if (!string.IsNullOrWhiteSpace(Method))
        {
            check.AddRange(["--method", Method]);
        }

        if (RunTool(check, relay: false).ExitCode is not 0)
        {
            Log.LogMessage(MessageImportance.High,
                "Unlearn: the GitHub step summary of '{0}' is left to the build of its other out-of-date outputs ('plan --check' finds some); it is published once every affected model is up to date.",
                removal);
            return;
        }

        var directory = Path.Combine(OutputRoot, removal);
        using var gate = FisherUnlearn.Lineage.IO.OutputLock.Wait(directory, TimeSpan.FromMinutes(2), out var holder, "msbuild-summary");
        if (gate is null)
        {
            Log.LogMessage(MessageImportance.High, "Unlearn: the GitHub step summary of '{0}' was not written: its folder is busy ({1}).", removal, holder);
            return;
        }

        var state = string.Join('\n', pairs.OrderBy(p => p.Output, StringComparer.Ordinal).Select(p =>
        {
            var info = new FileInfo(p.Output);
            return string.Create(CultureInfo.InvariantCulture, $"{p.Output} {info.Length} {info.LastWriteTimeUtc.Ticks}");
        })) + "\n";
        var marker = Path.Combine(directory, SummaryMarkerFileName);
        if (File.Exists(marker) && string.Equals(File.ReadAllText(marker), state, StringComparison.Ordinal))
        {
            Log.LogMessage(MessageImportance.Normal, "Unlearn: the GitHub step summary of '{0}' is already published for these outputs.", removal);
            return;
        }

        var args = new List<string>(ToolArguments) { "run", removal, "--merge", "--out", OutputRoot, "--workspace", Workspace, "--no-progress" };
        if (!string.IsNullOrWhiteSpace(Method))
        {
            args.AddRange(["--method", Method]);
        }

        Log.LogMessage(MessageImportance.High, "Unlearn: publishing the report of '{0}' to the GitHub step summary", removal);
        var run = RunTool(args, relay: false);
        if (run.ExitCode == 0)
        {
            File.WriteAllText(marker, state);
        }
        else if (run.ExitCode is { } code)
        {
            Log.LogMessage(MessageImportance.High, "Unlearn: the GitHub step summary of '{0}' was not written: '{1}' exited with code {2} ({3}).",
                removal, run.Display, code, string.Join(" | ", run.Tail));
        }
    }

    private static bool IsUpToDate(string output, IEnumerable<string> inputs)
    {
        if (!File.Exists(output))
        {
            return false;
        }

        var written = File.GetLastWriteTimeUtc(output);
        return inputs.All(i => File.Exists(i) && File.GetLastWriteTimeUtc(i) <= written);
    }

    internal IReadOnlyList<string> ArgumentsFor(string removal, string model, int threads = 0)
    {
        threads = Threads > 0 ? Threads : threads;
        var args = new List<string>(ToolArguments) { "run", removal, "--only", model, "--out", OutputRoot, "--workspace", Workspace, "--no-progress" };
        if (!string.IsNullOrWhiteSpace(Method))
        {
            args.AddRange(["--method", Method]);
        }

        if (threads > 0)
        {
            args.AddRange(["--threads", threads.ToString(CultureInfo.InvariantCulture)]);
        }

        return args;
    }

    private bool RunOne(Job job, int threads)
    {
        var args = ArgumentsFor(job.Removal, job.Model, threads);
        var started = DateTime.UtcNow;
        lock (_logLock)
        {
            Log.LogMessage(MessageImportance.High, "Unlearn: {0} for '{1}' -> {2}", job.Model, job.Removal, job.Output);
        }

        // A diagnostic the tool gives no place (libtorch failing to load, an I/O error) is about this model's job: it is
        // placed at the model's lineage manifest, else the project, instead of MSBuild's "UNLEARNRUN : error".
        var placeless = job.Manifest?.ToString() is { Length: > 0 } manifest ? manifest : ProjectForDiagnostics;
        var run = RunTool(args, relay: true, placeless);
        var display = run.Display;
        if (run.ExitCode is not { } exitCode)
        {
            return false; // Not started (FUL3001 logged) or cancelled.
        }

        lock (_logLock)
        {
            if (exitCode != 0)
            {
                if (run.ErrorsReported > 0)
                {
                    return false; // The tool said what went wrong, with its FUL code.
                }

                if (run.MentionsRestore)
                {
                    Log.Log(DiagnosticCatalogue.ToolNotFound, ProjectForDiagnostics, $"'{display}' could not run it ({string.Join(" ", run.Tail)})", ResolveUnlearnTool.RestoreAdvice);
                }
                else
                {
                    Log.Log(DiagnosticCatalogue.ToolFailed, ProjectForDiagnostics, display, exitCode,
                        run.Tail.Count == 0 ? string.Empty : $" (last output: {string.Join(" | ", run.Tail)})");
                }

                return false;
            }

            if (!File.Exists(job.Output))
            {
                Log.Log(DiagnosticCatalogue.ToolOutputNotWritten, ProjectForDiagnostics, display, job.Output);
                return false;
            }

            // The tool may leave an identical output in place; mark it up to date so the next build skips it.
            if (File.GetLastWriteTimeUtc(job.Output) < started)
            {
                File.SetLastWriteTimeUtc(job.Output, DateTime.UtcNow);
            }

            return true;
        }
    }

    /// <summary>The outcome of one tool process: its exit code (null when it could not start or was cancelled), how many
    /// canonical errors it printed, its last lines and whether they ask for <c>dotnet tool restore</c>.</summary>
    private sealed record ToolRun(string Display, int? ExitCode, int ErrorsReported, IReadOnlyCollection<string> Tail, bool MentionsRestore);

    /// <summary>Starts the tool with <paramref name="args"/> and waits for it. <paramref name="relay"/>: its lines go through
    /// <c>LogMessageFromText</c> (canonical lines become errors and warnings), else they are plain messages. Without
    /// <paramref name="relay"/> (the one publishing run) the GitHub Actions variables are passed on; with it (a per-model
    /// run) they are removed, so that run publishes nothing and prints no annotations. <paramref name="placeless"/>: the
    /// origin a relayed diagnostic without one gets (<see cref="WithAbsoluteOrigin"/>).</summary>
    private ToolRun RunTool(IReadOnlyList<string> args, bool relay, string? placeless = null)
    {
        var display = ToolExecutable + " " + string.Join(' ', args.Select(Quote));
        var start = new ProcessStartInfo(ToolExecutable)
        {
            WorkingDirectory = WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var variable in new[] { ActionsVariable, SummaryVariable, OutputVariable })
        {
            var value = GetEnvironmentVariable(variable);
            // A per-model run relays canonical lines only: GITHUB_ACTIONS would add '::error' annotations that MSBuild
            // reads as a second, garbled error (setup-dotnet's problem matcher annotates MSBuild's own errors).
            if (value is null || relay)
            {
                start.Environment.Remove(variable);
            }
            else
            {
                start.Environment[variable] = value;
            }
        }

        lock (_logLock)
        {
            Log.LogCommandLine(MessageImportance.Normal, display);
        }

        var errorsReported = 0;
        var tail = new Queue<string>();
        var mentionsRestore = false;
        using var process = new Process { StartInfo = start };
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_logLock)
            {
                if (relay)
                {
                    Log.LogMessageFromText(WithAbsoluteOrigin(line, WorkingDirectory, placeless), MessageImportance.Normal);
                    if (CanonicalError().IsMatch(line))
                    {
                        errorsReported++;
                    }
                }
                else
                {
                    Log.LogMessage(MessageImportance.Normal, "{0}", line);
                }

                tail.Enqueue(line);
                if (tail.Count > 5)
                {
                    tail.Dequeue();
                }

                mentionsRestore |= line.Contains("dotnet tool restore", StringComparison.Ordinal)
                    || line.Contains("Cannot find a tool", StringComparison.Ordinal)
                    || line.Contains("Cannot find a manifest file", StringComparison.Ordinal);
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            lock (_logLock)
            {
                Log.Log(DiagnosticCatalogue.ToolNotFound, ProjectForDiagnostics, $"'{ToolExecutable}' cannot be started ({ex.Message})", ResolveUnlearnTool.RestoreAdvice);
            }

            return new ToolRun(display, null, 0, [], false);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using (_cancel.Token.Register(() =>
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }
        }))
        {
            process.WaitForExit();
        }

        if (_cancel.IsCancellationRequested)
        {
            return new ToolRun(display, null, errorsReported, [.. tail], mentionsRestore);
        }

        lock (_logLock)
        {
            return new ToolRun(display, process.ExitCode, errorsReported, [.. tail], mentionsRestore);
        }
    }

    /// <summary>
    /// The tool writes a diagnostic's file relative to its working folder (the project folder); MSBuild would pass that on
    /// as it is, while the tasks' own diagnostics carry absolute paths. A canonical line (<c>file(line,col): error CODE:
    /// text</c>, or <c>file: warning CODE: text</c> for a file name) gets its file made absolute against
    /// <paramref name="directory"/>, so every FUL diagnostic of the build resolves the same way in logs and IDEs. A
    /// diagnostic without an origin (<c>error CODE: text</c>) gets <paramref name="placeless"/> when given: MSBuild would
    /// name the task instead (<c>UNLEARNRUN : error</c>), which no log viewer or IDE can open. Other lines are returned as
    /// they are.
    /// </summary>
    internal static string WithAbsoluteOrigin(string line, string directory, string? placeless = null)
    {
        if (!string.IsNullOrEmpty(placeless) && OriginlessDiagnostic().IsMatch(line))
        {
            return $"{placeless}: {line.TrimStart()}";
        }

        var match = CanonicalOrigin().Match(line);
        if (!match.Success || directory.Length == 0)
        {
            return line;
        }

        var file = match.Groups["file"].Value;
        var looksLikeFile = match.Groups["position"].Success || file.IndexOfAny(['/', '\\', '.']) >= 0;
        if (!looksLikeFile || Path.IsPathRooted(file))
        {
            return line;
        }

        string absolute;
        try
        {
            absolute = Path.GetFullPath(Path.Combine(directory, file));
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return line;
        }

        return string.Concat(match.Groups["lead"].Value, absolute, match.Groups["position"].Value, match.Groups["rest"].Value);
    }

    [GeneratedRegex(@"^(?<lead>\s*)(?<file>(?:[A-Za-z]:)?[^:()\r\n]*?[^\s:()])(?<position>\([\d,]+\))?(?<rest>\s*:\s*(?:error|warning|info)\s+[A-Za-z]+\d+\s*:.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex CanonicalOrigin();

    [GeneratedRegex(@"^\s*(?:error|warning|info)\s+[A-Za-z]+\d+\s*:", RegexOptions.CultureInvariant)]
    private static partial Regex OriginlessDiagnostic();

    /// <summary>A canonical error line, as MSBuild's <c>CanonicalError</c> recognises it: <c>origin: error CODE: text</c>.</summary>
    [GeneratedRegex(@"(^|[\s:)])error\s+[A-Za-z]+\d+\s*:", RegexOptions.CultureInvariant)]
    private static partial Regex CanonicalError();

    private static string Quote(string arg) => arg.Length > 0 && !arg.Any(c => char.IsWhiteSpace(c) || c == '"') ? arg : "\"" + arg.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private sealed record Job(string Removal, string Model, string Output, SourceLocation? Manifest);
}
