using System.Diagnostics;
using System.Globalization;

namespace FisherUnlearn.Tool.Tests.Support;

/// <summary>The <c>dotnet-unlearn worker</c> processes alive on this machine for one workspace, read from /proc (Linux),
/// whoever their parent is now: what is left behind when a run stops.</summary>
internal static class WorkerProcesses
{
    /// <summary>Process id and command line (arguments) of every live worker whose command line names <paramref name="workspaceRoot"/>.</summary>
    public static IReadOnlyList<(int Id, IReadOnlyList<string> Arguments)> Of(string workspaceRoot)
    {
        var found = new List<(int, IReadOnlyList<string>)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                continue;
            }

            string[] arguments;
            try
            {
                arguments = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // ended while being read
            }

            if (arguments.Contains("worker", StringComparer.Ordinal) && arguments.Contains(workspaceRoot, StringComparer.Ordinal) && IsAlive(id))
            {
                found.Add((id, arguments));
            }
        }

        return found;
    }

    /// <summary>True while the process runs (a zombie, dead but not yet reaped by its parent, counts as gone).</summary>
    public static bool IsAlive(int id)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{id}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="limit"/> has passed; its last value.</summary>
    public static async Task<bool> WithinAsync(TimeSpan limit, Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > limit)
            {
                return condition();
            }

            await Task.Delay(25, TestContext.Current.CancellationToken);
        }

        return true;
    }

    /// <summary>Ends a process left behind by a failed test (SIGKILL), if it is still there.</summary>
    public static void KillIfAlive(int id)
    {
        try
        {
            using var process = Process.GetProcessById(id);
            process.Kill();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // gone already
        }
    }
}
