using System.Collections.Concurrent;
using FisherUnlearn.Testing;
using Microsoft.Build.Execution;
using Microsoft.Build.Framework;

namespace FisherUnlearn.Build.Tests.Targets;

/// <summary>
/// Runs targets of a project in this process with the SDK's MSBuild (registered by <see cref="MsBuildRegistration"/>):
/// <see cref="BuildManager"/>, one in-proc node, a <see cref="CollectingLogger"/>, and the project's state after the build.
/// The projects import the repository's src/FisherUnlearn.Build/build/*.props|targets directly, with
/// <c>FulTasksAssembly</c> set (before the props) to the task assembly this test project was built with, so the targets
/// and the tasks under test are exactly the working tree's. One build at a time: BuildManager builds are serialised.
/// </summary>
internal static class InProcBuild
{
    private static readonly Lock Gate = new();

    /// <summary>The freshly built task assembly (copied next to the tests with its dependencies by the ProjectReference).</summary>
    public static string TasksAssembly => Path.Combine(AppContext.BaseDirectory, "FisherUnlearn.Build.dll");

    public static string PackageBuildFolder => Path.Combine(RepositoryPacker.RepositoryRoot, "src", "FisherUnlearn.Build", "build");

    /// <summary>Writes a project without an SDK: the package's props, a no-op <c>Build</c> target, <paramref name="body"/>,
    /// the package's targets. Returns its path.</summary>
    public static string WriteProject(string path, string body = "")
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, $"""
            <Project>
              <PropertyGroup>
                <FulTasksAssembly>{TasksAssembly}</FulTasksAssembly>
              </PropertyGroup>
              <Import Project="{Path.Combine(PackageBuildFolder, "FisherUnlearn.Build.props")}" />
              <Target Name="Build" />
              {body}
              <Import Project="{Path.Combine(PackageBuildFolder, "FisherUnlearn.Build.targets")}" />
            </Project>
            """);
        return path;
    }

    public static InProcResult Run(string projectPath, string[] targets, IDictionary<string, string>? globalProperties = null, bool question = false)
    {
        Assert.True(MsBuildRegistration.Error is null, "Microsoft.Build.Locator could not register the SDK's MSBuild: " + MsBuildRegistration.Error);
        var properties = new Dictionary<string, string>(globalProperties ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        var logger = new CollectingLogger();
        lock (Gate)
        {
            using var collection = new Microsoft.Build.Evaluation.ProjectCollection(properties);
            var parameters = new BuildParameters(collection)
            {
                Loggers = [logger],
                Question = question,
                MaxNodeCount = 1,
                EnableNodeReuse = false,
                DisableInProcNode = false,
                ShutdownInProcNodeOnBuildFinish = true,
            };
            var request = new BuildRequestData(projectPath, properties.ToDictionary(p => p.Key, string? (p) => p.Value, StringComparer.OrdinalIgnoreCase), null, targets, null, BuildRequestDataFlags.ProvideProjectStateAfterBuild);
            using var manager = new BuildManager("fiun-targets-tests");
            var result = manager.Build(parameters, request);
            return new InProcResult(result, logger);
        }
    }
}

internal sealed record InProcResult(BuildResult Result, CollectingLogger Logger)
{
    public bool Succeeded => Result.OverallResult == BuildResultCode.Success;

    public ProjectInstance State => Result.ProjectStateAfterBuild ?? throw new InvalidOperationException("no project state after the build");

    public IReadOnlyList<ITaskItem> Items(string target) => Result.ResultsByTarget[target].Items;

    public override string ToString() => $"{Result.OverallResult}\n{Logger.Text}";
}

/// <summary>An <see cref="ILogger"/> that keeps every event (thread-safe).</summary>
internal sealed class CollectingLogger : ILogger
{
    private readonly ConcurrentQueue<BuildEventArgs> _events = new();

    public LoggerVerbosity Verbosity { get; set; } = LoggerVerbosity.Diagnostic;

    public string? Parameters { get; set; }

    public IReadOnlyList<BuildEventArgs> Events => [.. _events];

    public IReadOnlyList<BuildErrorEventArgs> Errors => [.. _events.OfType<BuildErrorEventArgs>()];

    public IReadOnlyList<BuildWarningEventArgs> Warnings => [.. _events.OfType<BuildWarningEventArgs>()];

    /// <summary>Target events in order: <c>started X</c>, <c>finished X</c>, <c>skipped X</c>.</summary>
    public IReadOnlyList<string> TargetEvents => [.. _events.Select(e => e switch
    {
        TargetStartedEventArgs s => "started " + s.TargetName,
        TargetFinishedEventArgs f => "finished " + f.TargetName,
        TargetSkippedEventArgs k => "skipped " + k.TargetName,
        _ => null,
    }).OfType<string>()];

    public string Text => string.Join('\n', _events.Select(e => e switch
    {
        BuildErrorEventArgs x => $"{x.File}({x.LineNumber},{x.ColumnNumber}): error {x.Code}: {x.Message}",
        BuildWarningEventArgs x => $"{x.File}({x.LineNumber},{x.ColumnNumber}): warning {x.Code}: {x.Message}",
        _ => e.Message,
    }));

    public void Initialize(IEventSource eventSource) => eventSource.AnyEventRaised += (_, e) => _events.Enqueue(e);

    public void Shutdown()
    {
    }
}
