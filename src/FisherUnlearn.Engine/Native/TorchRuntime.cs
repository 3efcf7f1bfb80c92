using System.Runtime.InteropServices;
using FisherUnlearn.Lineage.Diagnostics;
using TorchSharp;

namespace FisherUnlearn.Engine.Native;

/// <summary>
/// Process-wide TorchSharp set-up: load the native backend with a clear error (FUL3003) when it cannot be loaded, and
/// fix libtorch's thread counts. Call <see cref="Configure"/> at start-up, before any tensor work; the inter-op count is
/// process-wide, while part of the intra-op count belongs to each thread (<see cref="UseOnThisThread"/>).
/// </summary>
public static class TorchRuntime
{
    /// <summary>The TorchSharp native shim that carries the GLIBCXX_3.4.32 requirement on Linux.</summary>
    public const string ShimFileName = "libLibTorchSharp.so";

    private static readonly Lock Gate = new();
    private static bool s_loaded;
    private static int s_threads;

    /// <summary>Intra-op threads set by <see cref="Configure"/>, or 0 when not configured.</summary>
    public static int Threads => Volatile.Read(ref s_threads);

    /// <summary>Loads libtorch, and sets its thread counts when <paramref name="threads"/> is given (else applies the
    /// configured count to the calling thread).</summary>
    public static void Prepare(int? threads)
    {
        if (threads is { } count)
        {
            Configure(count);
        }
        else
        {
            EnsureLoaded();
            UseOnThisThread();
        }
    }

    /// <summary>
    /// Loads TorchSharp's native backend (libtorch, CPU). On failure throws an <see cref="EngineException"/> with code
    /// FUL3003 that names the real reason (for example <c>version 'GLIBCXX_3.4.32' not found</c>, which TorchSharp's own
    /// exception hides) and what to do.
    /// </summary>
    public static void EnsureLoaded()
    {
        if (Volatile.Read(ref s_loaded))
        {
            return;
        }

        lock (Gate)
        {
            if (s_loaded)
            {
                return;
            }

            ApplyNativeDefaults();
            // TorchSharp prints its load trace on Console.Out when the load fails: never on stdout (--json's one document,
            // a worker's result lines). It becomes the FUL3003's detail; anything printed by a load that worked goes to stderr.
            using var printed = new StringWriter();
            try
            {
                StdoutDiversion.Run(printed, () => torch.InitializeDeviceType(DeviceType.CPU));
            }
            catch (Exception ex)
            {
                throw Diagnose(ex, printed.ToString());
            }

            if (printed.GetStringBuilder().Length > 0)
            {
                Console.Error.Write(printed.ToString());
            }

            Volatile.Write(ref s_loaded, true);
        }
    }

    /// <summary>
    /// Unless the user chose otherwise, sets the native libraries' settings the engine depends on, in the C library's
    /// environment (.NET's own copy is not what native code reads) before libtorch loads; worker processes get them from
    /// <c>WorkerLaunch</c> as well (docs/engine-notes.md):
    /// <list type="bullet">
    /// <item><c>OMP_WAIT_POLICY=PASSIVE</c>: libtorch's OpenMP threads sleep instead of spin while they wait. With the
    /// default (active waiting) 2 intra-op threads ran 2-80x slower than 1 on a loaded 2-core machine, and one process 8x
    /// slower than with passive waiting (<c>run --parallel 1 --threads 2</c> on the demo).</item>
    /// <item><c>MKL_CBWR=AUTO</c>: MKL's conditional numerical reproducibility, so that the same computation gives the
    /// same bits in every run. Without it, on an AMD EPYC (AVX2) machine the same float32 matrix products differed in the
    /// last bit from one run to the next, and so would checkpoints and their hashes.</item>
    /// </list>
    /// </summary>
    internal static void ApplyNativeDefaults() => ApplyNativeDefaults(Environment.GetEnvironmentVariable, SetNativeEnvironment);

    /// <summary>Sets each native default through <paramref name="set"/> unless <paramref name="get"/> has a value for it,
    /// and returns the names it set (hosts that launch worker processes pass the defaults on with it).</summary>
    public static IReadOnlyList<string> ApplyNativeDefaults(Func<string, string?> get, Action<string, string> set)
    {
        ArgumentNullException.ThrowIfNull(get);
        ArgumentNullException.ThrowIfNull(set);
        var applied = new List<string>();
        foreach (var (name, value) in NativeDefaults)
        {
            if (string.IsNullOrEmpty(get(name)))
            {
                set(name, value);
                applied.Add(name);
            }
        }

        return applied;
    }

    /// <summary>The native settings <see cref="ApplyNativeDefaults()"/> makes, by variable name.</summary>
    internal static IReadOnlyList<(string Name, string Value)> NativeDefaults { get; } =
        [(WaitPolicyVariable, "PASSIVE"), (ReproducibilityVariable, "AUTO")];

    internal const string ReproducibilityVariable = "MKL_CBWR";

    internal const string WaitPolicyVariable = "OMP_WAIT_POLICY";

    /// <summary>Sets a variable in .NET's environment and in the C library's, which native libraries read.</summary>
    internal static void SetNativeEnvironment(string name, string value)
    {
        Environment.SetEnvironmentVariable(name, value);
        if (!OperatingSystem.IsWindows() && SetEnvironment(name, value, 1) != 0)
        {
            throw new InvalidOperationException($"setenv({name}) failed: {Marshal.GetLastPInvokeErrorMessage()}");
        }
    }

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true, SetLastError = true)]
    private static extern int SetEnvironment(string name, string value, int overwrite);

    /// <summary>
    /// Loads TorchSharp and sets libtorch's intra-op and inter-op thread counts to <paramref name="threads"/>. The
    /// inter-op count can be set only once per process (libtorch refuses later changes), so a later call with another
    /// value changes only the intra-op count. The calling thread gets the count at once; other threads get it from
    /// <see cref="UseOnThisThread"/>. With several jobs on one machine give each <c>max(1, cores / jobs)</c> threads,
    /// in separate processes or on <see cref="ParallelJobs"/> threads.
    /// </summary>
    public static void Configure(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        EnsureLoaded();
        lock (Gate)
        {
            // Also when the count is unchanged: part of the setting belongs to the calling thread (UseOnThisThread).
            torch.set_num_threads(threads);
            if (s_threads == 0)
            {
                try
                {
                    torch.set_num_interop_threads(threads);
                }
                catch (ExternalException)
                {
                    // Inter-op parallel work already started in this process; the pool keeps its size. Intra-op
                    // threads, which matter for our CPU kernels, are set above.
                }
            }

            Volatile.Write(ref s_threads, threads);
        }
    }

    /// <summary>
    /// Gives the calling thread the configured intra-op thread count. libtorch keeps part of that setting per thread
    /// (OpenMP's thread count and MKL's local one belong to the thread that set them), so a thread other than the one
    /// that called <see cref="Configure"/> runs its kernels with the library's defaults: every core, which
    /// oversubscribes when jobs run side by side, and a different split of some matrix products, so different last
    /// bits (measured: a 10 x 2000 x 128 product on a new thread of this 2-core machine). Jobs on other threads call
    /// this first (<see cref="ParallelJobs"/> does); nothing happens before <see cref="Configure"/>.
    /// </summary>
    public static void UseOnThisThread()
    {
        var threads = Threads;
        if (threads > 0)
        {
            torch.set_num_threads(threads);
        }
    }

    /// <summary>Builds the FUL3003 exception for a failed TorchSharp load: loads the shim directly to get the loader's
    /// own reason, and says what to do. What TorchSharp printed meanwhile (<paramref name="printed"/>) is its detail.</summary>
    internal static EngineException Diagnose(Exception failure, string? printed = null)
    {
        var shim = FindShim();
        var reason = Innermost(failure).Message;
        if (shim is not null)
        {
            try
            {
                var handle = NativeLibrary.Load(shim);
                NativeLibrary.Free(handle);
                reason = $"'{shim}' loads on its own, so TorchSharp failed for another reason: {reason}";
            }
            catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
            {
                reason = string.Join(' ', ex.Message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            }
        }
        else if (OperatingSystem.IsLinux())
        {
            reason = $"{ShimFileName} was not found beside the application ({AppContext.BaseDirectory}): {reason}";
        }

        string advice;
        if (reason.Contains("GLIBCXX_3.4.32", StringComparison.Ordinal))
        {
            advice = "This system's libstdc++ is older than TorchSharp 0.107.0's native shim expects (Debian 12, Ubuntu 22.04, RHEL 9). "
                + "Build or publish on Linux with the repository's TorchSharp native fixup (build/TorchSharpNativeFixup.targets, "
                + "imported for FulNeedsTorch projects), or reinstall a dotnet-unlearn package built that way; "
                + "or run on Debian 13, Ubuntu 24.04 or newer. See docs/torchsharp-on-debian12.md";
        }
        else if (reason.Contains("GLIBC_2.", StringComparison.Ordinal))
        {
            advice = "TorchSharp 0.107.0 needs glibc 2.34 or newer; run on a newer distribution (Debian 12+, Ubuntu 22.04+)";
        }
        else
        {
            advice = "Check that the TorchSharp-cpu package's native files were copied beside the application "
                + "(build for one runtime identifier, e.g. -r linux-x64) and see docs/torchsharp-on-debian12.md";
        }

        var stale = StaleFallbackFolder();
        if (stale is not null)
        {
            advice += $". Also delete '{stale}': TorchSharp's fallback copy of unpatched native files from the NuGet cache";
        }

        var location = shim is null ? null : new SourceLocation(shim);
        return new EngineException(Diagnostic.Create(DiagnosticCatalogue.NativeLoadFailed, location, $"{reason}. {advice}"), failure)
        {
            Detail = string.IsNullOrWhiteSpace(printed) ? null : "TorchSharp printed while loading:" + Environment.NewLine + printed.TrimEnd(),
        };
    }

    /// <summary>The TorchSharp shim the application would load: beside TorchSharp.dll or the app, or under runtimes/&lt;rid&gt;/native.</summary>
    internal static string? FindShim()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var roots = new[] { Path.GetDirectoryName(typeof(torch).Assembly.Location), AppContext.BaseDirectory }
            .Where(d => !string.IsNullOrEmpty(d))
            .Distinct(StringComparer.Ordinal);
        foreach (var root in roots)
        {
            foreach (var candidate in new[]
                     {
                         Path.Combine(root!, ShimFileName),
                         Path.Combine(root!, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", ShimFileName),
                         Path.Combine(root!, "runtimes", "linux-x64", "native", ShimFileName),
                     })
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static string? StaleFallbackFolder()
    {
        var directory = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        var cpu = string.IsNullOrEmpty(directory) ? null : Path.Combine(directory, "cpu");
        return cpu is not null && Directory.Exists(cpu) ? cpu : null;
    }

    private static Exception Innermost(Exception exception)
    {
        while (exception.InnerException is not null)
        {
            exception = exception.InnerException;
        }

        return exception;
    }
}
