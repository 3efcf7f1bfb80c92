using System.Diagnostics;

namespace FisherUnlearn.Tool.Tests.Support;

/// <summary>dotnet-unlearn as a separate process (the build output next to the tests), for scenarios that need real
/// processes: shards, concurrent runs, kills.</summary>
internal sealed class ToolProcess : IDisposable
{
    private readonly Process process;
    private readonly Task<string> output;
    private readonly Task<string> error;
    private readonly string? home;

    private ToolProcess(Process process, string? home)
    {
        this.process = process;
        this.home = home;
        output = process.StandardOutput.ReadToEndAsync();
        error = process.StandardError.ReadToEndAsync();
    }

    public string Error => error.IsCompleted ? error.Result : string.Empty;

    public string Output => output.IsCompleted ? output.Result : string.Empty;

    public static ToolProcess Start(string workingDirectory, params string[] args) => Start(workingDirectory, unprivileged: false, args);

    /// <summary>As <see cref="Start(string, string[])"/>, but as a user file permissions apply to: the test host's user,
    /// or 'nobody' (through util-linux's setpriv) when the tests run as root, whom no permission stops.</summary>
    public static ToolProcess StartUnprivileged(string workingDirectory, params string[] args) => Start(workingDirectory, unprivileged: true, args);

    private static ToolProcess Start(string workingDirectory, bool unprivileged, string[] args)
    {
        // Signals a process ignores when it starts stay ignored (nohup ignores SIGHUP; a shell without job control starts
        // background jobs with SIGINT and SIGQUIT ignored), and the test host passes that on to the tool: on Linux the tool
        // starts through coreutils' 'env --default-signal', which resets them, as a terminal or a CI runner gives them.
        // env execs the tool, so the process id is the tool's.
        var resetSignals = OperatingSystem.IsLinux();
        var dropRoot = unprivileged && Environment.IsPrivilegedProcess;
        string? home = null;
        var info = new ProcessStartInfo(resetSignals ? "env" : "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (resetSignals)
        {
            info.ArgumentList.Add("--default-signal=HUP,INT,QUIT,TERM");
            if (dropRoot)
            {
                foreach (var arg in new[] { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups" })
                {
                    info.ArgumentList.Add(arg);
                }

                // nobody's home is not writable: the dotnet host wants one for its first-run files
                home = Directory.CreateTempSubdirectory("fiun-nobody-home").FullName;
                File.SetUnixFileMode(home, (UnixFileMode)0b111_111_111);
                info.Environment["HOME"] = home;
                info.Environment["DOTNET_CLI_HOME"] = home;
            }

            info.ArgumentList.Add("dotnet");
        }

        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dotnet-unlearn.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        return new ToolProcess(Process.Start(info)!, home);
    }

    public async Task<int> ExitCodeAsync()
    {
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        await Task.WhenAll(output, error);
        return process.ExitCode;
    }

    public void Kill() => process.Kill(entireProcessTree: true);

    public int Id => process.Id;

    /// <summary>Sends <paramref name="signal"/> (TERM, HUP, QUIT, KILL...) to this process alone, not to its workers.</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }

    /// <summary>Ctrl-C: SIGINT on Unix (what a terminal sends).</summary>
    public void Interrupt()
    {
        if (OperatingSystem.IsWindows())
        {
            process.Kill();
            return;
        }

        using var kill = Process.Start(new ProcessStartInfo("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }

    /// <summary>Frees the process (killed when still running 10 s on: a test that failed before it ended) and deletes the
    /// home folder made for 'nobody' (best effort: a left folder must not fail a test).</summary>
    public void Dispose()
    {
        var exited = process.HasExited || process.WaitForExit(TimeSpan.FromSeconds(10));
        if (!exited)
        {
            try
            {
                process.Kill(entireProcessTree: true);
                exited = process.WaitForExit(TimeSpan.FromSeconds(10));
            }
            catch (InvalidOperationException)
            {
                exited = true; // it ended meanwhile
            }
        }

        process.Dispose();
        if (home is not null && exited)
        {
            try
            {
                Directory.Delete(home, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
    }
}
