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
public sealed partial class UnlearnRun : Microsoft.Build.Utilities.Task, IIncrementalTask, ICancelableTask
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
            Log.Log(DiagnosticCatalogue.ToolNotFound, null, "no tool was resolved (ResolveUnlearnTool did not run)");
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
        return ok && !Log.HasLoggedErrors;
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
        var started = DateTime.UtcNow;
        lock (_logLock)
        {
            Log.LogMessage(MessageImportance.High, "Unlearn: {0} for '{1}' -> {2}", job.Model, job.Removal, job.Output);
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
                Log.LogMessageFromText(WithAbsoluteOrigin(line, WorkingDirectory), MessageImportance.Normal);
                if (CanonicalError().IsMatch(line))
                {
                    errorsReported++;
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
                Log.Log(DiagnosticCatalogue.ToolNotFound, null, $"'{ToolExecutable}' cannot be started ({ex.Message})");
            }

            return false;
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
            return false;
        }

        lock (_logLock)
        {
            if (process.ExitCode != 0)
            {
                if (errorsReported > 0)
                {
                    return false; // The tool said what went wrong, with its FUL code.
                }

                if (mentionsRestore)
                {
                    Log.Log(DiagnosticCatalogue.ToolNotFound, null, $"'{display}' could not run it ({string.Join(" ", tail)})");
                }
                else
                {
                    Log.Log(DiagnosticCatalogue.ToolFailed, null, display, process.ExitCode,
                        tail.Count == 0 ? string.Empty : $" (last output: {string.Join(" | ", tail)})");
                }

                return false;
            }

            if (!File.Exists(job.Output))
            {
                Log.Log(DiagnosticCatalogue.ToolOutputNotWritten, null, display, job.Output);
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

    /// <summary>
    /// The tool writes a diagnostic's file relative to its working folder (the project folder); MSBuild would pass that on
    /// as it is, while the tasks' own diagnostics carry absolute paths. A canonical line (<c>file(line,col): error CODE:
    /// text</c>, or <c>file: warning CODE: text</c> for a file name) gets its file made absolute against
    /// <paramref name="directory"/>, so every FUL diagnostic of the build resolves the same way in logs and IDEs. Other
    /// lines are returned as they are.
    /// </summary>
    internal static string WithAbsoluteOrigin(string line, string directory)
    {
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

    /// <summary>A canonical error line, as MSBuild's <c>CanonicalError</c> recognises it: <c>origin: error CODE: text</c>.</summary>
    [GeneratedRegex(@"(^|[\s:)])error\s+[A-Za-z]+\d+\s*:", RegexOptions.CultureInvariant)]
    private static partial Regex CanonicalError();

    private static string Quote(string arg) => arg.Length > 0 && !arg.Any(c => char.IsWhiteSpace(c) || c == '"') ? arg : "\"" + arg.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private sealed record Job(string Removal, string Model, string Output, SourceLocation? Manifest);
}
