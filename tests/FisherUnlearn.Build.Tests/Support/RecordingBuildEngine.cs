using System.Collections;
using System.Collections.Concurrent;
using Microsoft.Build.Framework;

namespace FisherUnlearn.Build.Tests.Support;

/// <summary>A hand-written <see cref="IBuildEngine"/> that records every event a task logs (thread-safe: UnlearnRun logs
/// from several threads).</summary>
internal sealed class RecordingBuildEngine : IBuildEngine
{
    private readonly ConcurrentQueue<BuildEventArgs> _events = new();

    public IReadOnlyList<BuildErrorEventArgs> Errors => [.. _events.OfType<BuildErrorEventArgs>()];

    public IReadOnlyList<BuildWarningEventArgs> Warnings => [.. _events.OfType<BuildWarningEventArgs>()];

    public IReadOnlyList<BuildMessageEventArgs> Messages => [.. _events.OfType<BuildMessageEventArgs>()];

    public bool ContinueOnError => false;

    public int LineNumberOfTaskNode => 0;

    public int ColumnNumberOfTaskNode => 0;

    public string ProjectFileOfTaskNode => "test.proj";

    public string Log => string.Join('\n', _events.Select(e => e switch
    {
        BuildErrorEventArgs x => $"{x.File}({x.LineNumber},{x.ColumnNumber}): error {x.Code}: {x.Message}",
        BuildWarningEventArgs x => $"{x.File}({x.LineNumber},{x.ColumnNumber}): warning {x.Code}: {x.Message}",
        _ => e.Message ?? string.Empty,
    }));

    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) =>
        throw new NotSupportedException();

    public void LogCustomEvent(CustomBuildEventArgs e) => _events.Enqueue(e);

    public void LogErrorEvent(BuildErrorEventArgs e) => _events.Enqueue(e);

    public void LogMessageEvent(BuildMessageEventArgs e) => _events.Enqueue(e);

    public void LogWarningEvent(BuildWarningEventArgs e) => _events.Enqueue(e);
}
