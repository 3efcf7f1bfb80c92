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
            log.Log(reused
                ? $"up to date: {outcome.Id} ({outcome.Method})"
                : outcome.Succeeded && outcome.Unchanged
                    ? $"unchanged: {outcome.Id} ({outcome.Parameters![ModelOutcome.UnchangedKey]!.GetValue<string>()}); written as it was"
                : outcome.Succeeded
                    ? string.Create(CultureInfo.InvariantCulture, $"unlearned {outcome.Id} ({outcome.Method}) in {outcome.Seconds:0.00} s")
                    : $"failed: {outcome.Id} ({outcome.Error?.Code})");
        }
    }

    public void Dispose()
    {
    }
}
