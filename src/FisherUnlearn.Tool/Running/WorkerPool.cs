using System.Diagnostics;
using System.Globalization;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Planning;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Running;

/// <summary>
/// Runs unlearning jobs in separate worker processes (<c>dotnet-unlearn worker ...</c>), at most <c>parallel</c> of them. TorchSharp's thread settings, random state and native crashes are process-wide, so processes, not threads,
/// give each worker its own libtorch with <c>threads</c> intra-op threads and no oversubscription. A worker reads model
/// ids on stdin, one a line, and for each writes the model's checkpoint and <see cref="JobRecord"/> atomically and prints the record on stdout; a killed worker leaves
/// neither for the model it was on, so the next run simply redoes that model. Cancelling kills every worker, and the
/// run waits until they are gone; a worker whose run is killed outright stops by itself (<see cref="ParentWatchdog"/>).
/// </summary>
internal sealed class WorkerPool(WorkerLaunch launch, int parallel, int threads)
{
    // Every worker process started, for cleaning up after those a cancellation killed.
    private readonly System.Collections.Concurrent.ConcurrentBag<int> started = [];

    /// <summary>Runs the jobs in at most <c>parallel</c> worker processes. Workers take jobs from one queue: each is sent
    /// the next model on its stdin when it reports the previous one, so a slow model (a CNN, a missing harvest) does not
    /// hold up the others, and the cost of starting a process and loading libtorch, the workspace and the data is paid
    /// once per worker, not once per model.</summary>
    public IReadOnlyList<ModelOutcome> Run(IReadOnlyList<AffectedModel> jobs, IRunProgress progress, CancellationToken cancellationToken)
    {
        // Longest first (the classic LPT rule), so the slowest model does not start last: convolutional models cost
        // far more per sample (their Fisher needs im2col), then bigger MLPs; ties keep plan order.
        var queue = new System.Collections.Concurrent.ConcurrentQueue<AffectedModel>(jobs.OrderByDescending(j => launch.EstimatedCost(j.Id)));
        var workers = Math.Max(1, Math.Min(parallel, jobs.Count));
        var tasks = Enumerable.Range(0, workers).Select(_ => Task.Run(() => RunWorker(queue, progress, cancellationToken), cancellationToken)).ToArray();
        try
        {
            Task.WaitAll(tasks, cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException || ex is AggregateException aggregate && aggregate.InnerExceptions.All(e => e is OperationCanceledException))
        {
            // Cancelling killed every worker: wait until they are gone, so that none writes after the run's lock is released.
            try
            {
                Task.WaitAll(tasks, TimeSpan.FromSeconds(30));
            }
            catch (AggregateException)
            {
                // each worker's task ends cancelled
            }

            // A worker killed in the middle of writing an output, a job record or a harvest file left its temporary file
            // (it never got to rename or delete it): the outputs' folder holds nothing half-written.
            foreach (var id in started)
            {
                Lineage.IO.AtomicFile.DeleteLeftoversOf(id, Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(launch.RemovalDirectory)) ?? launch.RemovalDirectory);
            }

            throw new OperationCanceledException(cancellationToken);
        }

        var outcomes = tasks.SelectMany(t => t.Result).ToDictionary(o => o.Id, StringComparer.Ordinal);
        return [.. jobs.Select(j => outcomes[j.Id])];
    }

    private List<ModelOutcome> RunWorker(System.Collections.Concurrent.ConcurrentQueue<AffectedModel> queue, IRunProgress progress, CancellationToken cancellationToken)
    {
        var outcomes = new List<ModelOutcome>();
        if (!queue.TryDequeue(out var current))
        {
            return outcomes;
        }

        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = launch.StartInfo(threads) };
        try
        {
            process.Start();
            started.Add(process.Id);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            // No worker can start (no dotnet host found): every model left fails with the reason, instead of a crash.
            var jobs = new List<AffectedModel> { current };
            while (queue.TryDequeue(out var next))
            {
                jobs.Add(next);
            }

            foreach (var job in jobs)
            {
                progress.Started(job.Id);
                var failed = Failed(job, "none (it did not start)", $"could not start a worker process ({process.StartInfo.FileName}): {ex.Message}", 0);
                outcomes.Add(failed);
                progress.Finished(failed, reused: false);
            }

            return outcomes;
        }

        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var kill = cancellationToken.Register(() => Kill(process));
        Send(process, current, progress);
        while (current is not null && process.StandardOutput.ReadLine() is { } line)
        {
            if (!line.StartsWith('{'))
            {
                continue;
            }

            ModelOutcome outcome;
            try
            {
                outcome = JobRecord.FromJson(JObject.Parse(line), launch.RemovalDirectory).Outcome;
            }
            catch (Newtonsoft.Json.JsonException)
            {
                continue; // not a record: the model is reported as failed below if none comes
            }

            outcomes.Add(outcome);
            progress.Finished(outcome, reused: false);
            clock.Restart();
            current = queue.TryDequeue(out var next) ? next : null;
            if (current is null)
            {
                try
                {
                    process.StandardInput.Close();
                }
                catch (IOException)
                {
                    // gone already; its records are in
                }
            }
            else
            {
                Send(process, current, progress);
            }
        }

        process.WaitForExit();
        cancellationToken.ThrowIfCancellationRequested();
        if (current is not null)
        {
            var errors = stderr.GetAwaiter().GetResult().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (outcomes.Count == 0 && errors.Select(Diagnostic.FromCanonicalString).LastOrDefault(d => d is { IsError: true }) is { } own)
            {
                // The worker stopped before its first model with an error of its own (libtorch does not load: FUL3003).
                // Every worker would, so each model left fails with that error as it is, as with --parallel 1, and no
                // other worker is started for them.
                void FailAlike(AffectedModel job, double seconds)
                {
                    var failedAlike = Failed(job, own, seconds);
                    outcomes.Add(failedAlike);
                    progress.Finished(failedAlike, reused: false);
                }

                FailAlike(current, clock.Elapsed.TotalSeconds);
                while (queue.TryDequeue(out var left))
                {
                    progress.Started(left.Id);
                    FailAlike(left, 0);
                }

                return outcomes;
            }

            // The worker died on this model: report it, and leave the rest of the queue to the other workers.
            var reason = errors.LastOrDefault() ?? "no output";
            var failed = Failed(current, process.ExitCode.ToString(CultureInfo.InvariantCulture), reason, clock.Elapsed.TotalSeconds);
            outcomes.Add(failed);
            progress.Finished(failed, reused: false);
            outcomes.AddRange(RunWorker(queue, progress, cancellationToken));
        }

        return outcomes;
    }

    private ModelOutcome Failed(AffectedModel job, Diagnostic error, double seconds) =>
        new() { Id = job.Id, Role = job.Role, Method = launch.Method, Seconds = seconds, Error = error };

    private ModelOutcome Failed(AffectedModel job, string exitCode, string reason, double seconds) =>
        Failed(job, Diagnostic.Create(DiagnosticCatalogue.WorkerFailed, null, job.Id, exitCode, reason, launch.RemovalId), seconds);

    private static void Send(Process process, AffectedModel job, IRunProgress progress)
    {
        progress.Started(job.Id);
        try
        {
            process.StandardInput.WriteLine(job.Id);
            process.StandardInput.Flush();
        }
        catch (IOException)
        {
            // The worker is already gone (a broken pipe): its exit is reported as this model's failure.
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }
}

/// <summary>How to start a worker for one model of a run: <c>dotnet dotnet-unlearn.dll worker &lt;removal&gt; --model ...</c>.</summary>
internal sealed record WorkerLaunch(string WorkspaceRoot, string RemovalId, string Method, string? OutputRoot, string RemovalDirectory,
    IReadOnlyDictionary<string, Lineage.Manifests.ArchitectureSpec> Architectures)
{
    /// <summary>A rough relative cost of one model's job, from its architecture alone.</summary>
    public double EstimatedCost(string modelId)
    {
        if (!Architectures.TryGetValue(modelId, out var spec))
        {
            return 1;
        }

        var weights = (double)(spec.Inputs ?? 1) * spec.Hidden.DefaultIfEmpty(spec.Classes).First() + spec.Hidden.Sum() * spec.Classes;
        return spec.Kind == Lineage.Manifests.ArchitectureSpec.Mlp ? weights : weights * 1000 + 1e9;
    }

    /// <summary>The program that runs the workers (null: <see cref="DotnetHost"/>); tests point it elsewhere.</summary>
    public string? Host { get; init; }

    public ProcessStartInfo StartInfo(int threads)
    {
        var info = new ProcessStartInfo
        {
            FileName = Host ?? DotnetHost(),
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = WorkspaceRoot,
        };
        info.ArgumentList.Add(typeof(WorkerLaunch).Assembly.Location);
        foreach (var argument in new[] { "worker", RemovalId, "--method", Method, "--threads", threads.ToString(CultureInfo.InvariantCulture), "--workspace", WorkspaceRoot })
        {
            info.ArgumentList.Add(argument);
        }

        info.ArgumentList.Add("--models-from-stdin");

        // The worker stops by itself when this process is gone (killed outright, it cannot kill its workers).
        info.ArgumentList.Add("--parent-pid");
        info.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));

        if (OutputRoot is not null)
        {
            info.ArgumentList.Add("--out");
            info.ArgumentList.Add(OutputRoot);
        }

        // libgomp spins idle threads unless told otherwise, which slows the other workers on a small machine; MKL's results
        // are reproducible run to run only when asked (TorchRuntime.ApplyNativeDefaults). A user's own choice stays.
        TorchRuntime.ApplyNativeDefaults(Environment.GetEnvironmentVariable, (name, value) => info.Environment[name] = value);

        info.Environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        return info;
    }

    /// <summary>The dotnet host that runs this tool: DOTNET_HOST_PATH (set by the SDK and MSBuild), else this process when
    /// it is dotnet itself, else the host of the runtime this process runs on, else 'dotnet' on the PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return self;
        }

        // Started through the apphost (dotnet-unlearn): the host of the runtime this process runs on, found from the
        // runtime's own folder (<root>/shared/Microsoft.NETCore.App/<version>/), so 'dotnet' need not be on the PATH.
        var executable = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        var runtime = System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory();
        var fromRuntime = Path.GetFullPath(Path.Combine(runtime, "..", "..", "..", executable));
        return File.Exists(fromRuntime) ? fromRuntime : "dotnet";
    }
}
