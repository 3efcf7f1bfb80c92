using System.Diagnostics;
using System.Globalization;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Planning;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Running;

/// <summary>
/// Runs unlearning jobs as separate worker processes (<c>dotnet-unlearn worker ...</c>), at most <c>parallel</c> at a
/// time. TorchSharp's thread settings, random state and native crashes are process-wide, so processes, not threads,
/// give each job its own libtorch with <c>threads</c> intra-op threads and no oversubscription. Each worker writes its
/// checkpoint and its <see cref="JobRecord"/> atomically and prints the record on stdout; a killed worker leaves
/// neither, so the next run simply redoes that model. Cancelling kills every worker's process tree.
/// </summary>
internal sealed class WorkerPool(WorkerLaunch launch, int parallel, int threads)
{
    public IReadOnlyList<ModelOutcome> Run(IReadOnlyList<AffectedModel> jobs, IRunProgress progress, CancellationToken cancellationToken)
    {
        var outcomes = new ModelOutcome?[jobs.Count];
        using var slots = new SemaphoreSlim(parallel);
        var tasks = jobs.Select((job, index) => Task.Run(() =>
        {
            slots.Wait(cancellationToken);
            try
            {
                progress.Started(job.Id);
                outcomes[index] = RunOne(job, cancellationToken);
                progress.Finished(outcomes[index]!, reused: false);
            }
            finally
            {
                slots.Release();
            }
        }, cancellationToken)).ToArray();
        try
        {
            Task.WaitAll(tasks, cancellationToken);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OperationCanceledException))
        {
            throw new OperationCanceledException(cancellationToken);
        }

        return [.. outcomes.Select(o => o!)];
    }

    private ModelOutcome RunOne(AffectedModel job, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = launch.StartInfo(job.Id, threads) };
        process.Start();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            process.WaitForExitAsync(cancellationToken).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            throw;
        }

        var output = stdout.GetAwaiter().GetResult();
        var errors = stderr.GetAwaiter().GetResult();
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));
        if (line is not null)
        {
            try
            {
                return JobRecord.FromJson(JObject.Parse(line), launch.RemovalDirectory).Outcome;
            }
            catch (Newtonsoft.Json.JsonException)
            {
                // fall through: reported as a crashed worker below
            }
        }

        var reason = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no output";
        return new ModelOutcome
        {
            Id = job.Id,
            Role = job.Role,
            Method = launch.Method,
            Seconds = clock.Elapsed.TotalSeconds,
            Error = Diagnostic.Create(DiagnosticCatalogue.WorkerFailed, null, job.Id, process.ExitCode.ToString(CultureInfo.InvariantCulture), reason),
        };
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }
}

/// <summary>How to start a worker for one model of a run: <c>dotnet dotnet-unlearn.dll worker &lt;removal&gt; --model ...</c>.</summary>
internal sealed record WorkerLaunch(string WorkspaceRoot, string RemovalId, string Method, string? OutputRoot, string RemovalDirectory)
{
    public ProcessStartInfo StartInfo(string modelId, int threads)
    {
        var info = new ProcessStartInfo
        {
            FileName = DotnetHost(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = WorkspaceRoot,
        };
        info.ArgumentList.Add(typeof(WorkerLaunch).Assembly.Location);
        foreach (var argument in new[] { "worker", RemovalId, "--model", modelId, "--method", Method, "--threads", threads.ToString(CultureInfo.InvariantCulture), "--workspace", WorkspaceRoot })
        {
            info.ArgumentList.Add(argument);
        }

        if (OutputRoot is not null)
        {
            info.ArgumentList.Add("--out");
            info.ArgumentList.Add(OutputRoot);
        }

        // libgomp spins idle threads unless told otherwise, which slows the other workers on a small machine.
        info.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        info.Environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        return info;
    }

    /// <summary>The dotnet host that runs this tool: DOTNET_HOST_PATH (set by the SDK and MSBuild), else this process when
    /// it is dotnet itself, else 'dotnet' on the PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        var self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase) ? self : "dotnet";
    }
}
