using System.Globalization;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Tool.Output;

namespace FisherUnlearn.Tool.Running;

/// <summary>One line per finished model on stderr: for CI logs, redirected output and <c>--no-progress</c>.</summary>
internal sealed class LineProgress(DiagnosticWriter log) : IRunProgress
{
    private readonly Lock gate = new();

    public void Planned(IReadOnlyList<string> modelIds)
    {
    }

    public void Started(string modelId) => log.Detail($"started {modelId}");

    public void Finished(ModelOutcome outcome, bool reused)
    {
        lock (gate)
        {
            log.Log(Line(outcome, reused));
        }
    }

    /// <summary>What a finished model's line says: up to date, written unchanged and why, unlearned in how long, or failed.</summary>
    internal static string Line(ModelOutcome outcome, bool reused) =>
        reused
            ? $"up to date: {outcome.Id} ({outcome.Method})"
            : outcome.Succeeded && outcome.Unchanged
                ? $"unchanged: {outcome.Id} ({outcome.Parameters![ModelOutcome.UnchangedKey]!.GetValue<string>()}); written as it was"
            : outcome.Succeeded
                ? string.Create(CultureInfo.InvariantCulture, $"unlearned {outcome.Id} ({outcome.Method}) in {outcome.Seconds:0.00} s")
                : $"failed: {outcome.Id} ({outcome.Error?.Code})";

    public void Dispose()
    {
    }
}

/// <summary>The live table on a terminal, then the lines <see cref="LineProgress"/> would have written, in the order the
/// models finished: the table shows progress, the lines say why a model was written unchanged (QA: on a terminal those
/// reasons were lost, where train and harvest print their lines after the table).</summary>
internal sealed class LiveProgressWithLines(LiveProgress live, DiagnosticWriter log) : IRunProgress
{
    private readonly Lock gate = new();
    private readonly List<string> lines = [];
    private bool disposed;

    public void Planned(IReadOnlyList<string> modelIds) => live.Planned(modelIds);

    public void Started(string modelId) => live.Started(modelId);

    public void Finished(ModelOutcome outcome, bool reused)
    {
        live.Finished(outcome, reused);
        lock (gate)
        {
            lines.Add(LineProgress.Line(outcome, reused));
        }
    }

    public void Dispose()
    {
        live.Dispose();
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            foreach (var line in lines)
            {
                log.Log(line);
            }
        }
    }
}
