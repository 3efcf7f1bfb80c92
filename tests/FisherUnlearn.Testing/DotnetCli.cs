using System.Diagnostics;
using System.Text;

namespace FisherUnlearn.Testing;

/// <summary>The output of one <see cref="DotnetCli"/> run.</summary>
public sealed record CliResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError, TimeSpan Duration)
{
    /// <summary>Standard output then standard error.</summary>
    public string Output => StandardOutput + StandardError;

    public override string ToString() =>
        $"'{CommandLine}' exited with {ExitCode} after {Duration.TotalSeconds:F1} s:\n{StandardOutput}\n{StandardError}";
}

/// <summary>
/// Runs <c>dotnet</c> (or another program) as a separate process without the MSBuild variables of the test host's own
/// build or of Microsoft.Build.Locator (<c>MSBUILD_EXE_PATH</c>, <c>MSBuildExtensionsPath</c>, <c>MSBuildSDKsPath</c>),
/// so a child <c>dotnet build</c> resolves its SDK like a user's shell would. No node reuse, no build server, no logo.
/// Used by the black-box tests that pack the repository and build against the packages (no CliWrap needed here).
/// </summary>
public static class DotnetCli
{
    private static readonly string[] ClearedVariables =
        ["MSBUILD_EXE_PATH", "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBuildLoadMicrosoftTargetsReadOnly", "MSBUILDNOINPROCNODE"];

    /// <summary>Runs <c>dotnet <paramref name="arguments"/></c> in <paramref name="directory"/>; never throws on a
    /// non-zero exit code (see <see cref="RunCheckedAsync"/>). A cancelled or timed-out run kills the process tree.</summary>
    public static Task<CliResult> RunAsync(string directory, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        RunProgramAsync("dotnet", directory, arguments, environment, timeout, cancellationToken);

    /// <summary>As <see cref="RunAsync"/>, but throws with the whole output unless the exit code is 0.</summary>
    public static async Task<CliResult> RunCheckedAsync(string directory, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(directory, arguments, environment, timeout, cancellationToken);
        return result.ExitCode == 0 ? result : throw new InvalidOperationException(result.ToString());
    }

    public static async Task<CliResult> RunProgramAsync(string program, string directory, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in ClearedVariables)
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["DOTNET_GENERATE_ASPNET_CERTIFICATE"] = "false";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stdout)
                {
                    stdout.AppendLine(e.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    stderr.AppendLine(e.Data);
                }
            }
        };

        var commandLine = program + " " + string.Join(' ', start.ArgumentList.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));
        var watch = Stopwatch.StartNew();
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? TimeSpan.FromMinutes(10));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }

            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new TimeoutException($"'{commandLine}' did not finish within {timeout ?? TimeSpan.FromMinutes(10)}:\n{stdout}\n{stderr}");
        }

        process.WaitForExit(); // Drains the redirected streams.
        lock (stdout)
        {
            lock (stderr)
            {
                return new CliResult(commandLine, process.ExitCode, stdout.ToString(), stderr.ToString(), watch.Elapsed);
            }
        }
    }
}
