using System.Globalization;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Tool.Cli;

/// <summary>
/// The one range of <c>--threads</c> and <c>--parallel</c> for every command (run, verify, harvest, train, worker): the
/// range <c>unlearn.json</c> accepts for <c>threads</c> and <c>parallelism</c>, 1 to 1024. A bigger number is a typo, not
/// a machine: <c>--threads 100000</c> made libtorch start that many threads.
/// </summary>
internal static class ConcurrencyOptions
{
    public const string Threads = "--threads";

    public const string Parallel = "--parallel";

    /// <summary>The FUL3005 usage error for the first of <paramref name="values"/> (option name, value given or null
    /// when not given) out of its range, or null when all fit.</summary>
    public static Diagnostic? Check(params ReadOnlySpan<(string Option, int? Value)> values)
    {
        foreach (var (option, value) in values)
        {
            var (limit, field) = option == Parallel ? (WorkspaceSettings.ParallelismLimit, "parallelism") : (WorkspaceSettings.ThreadsLimit, "threads");
            if (value is { } given && (given < 1 || given > limit))
            {
                return Diagnostic.Create(DiagnosticCatalogue.UsageError, null, string.Create(CultureInfo.InvariantCulture,
                    $"{option} must be from 1 to {limit} (as '{field}' in unlearn.json), not {given}."));
            }
        }

        return null;
    }
}
