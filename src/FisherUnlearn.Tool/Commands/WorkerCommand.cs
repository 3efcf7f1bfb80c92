using System.CommandLine;
using FisherUnlearn.Engine;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Running;

namespace FisherUnlearn.Tool.Commands;

/// <summary>
/// <c>dotnet-unlearn worker &lt;removal&gt; (--model &lt;id&gt; ... | --models-from-stdin)</c> (hidden): a worker of a parallel
/// <c>run</c>, in a process of its own. For each model it is given (on stdin as the coordinator hands them out): writes
/// its checkpoint and job record, and prints the record as one JSON line on stdout. Exit 0 when every model was unlearned, 1 when one failed, 2 for bad input,
/// 130 when cancelled, also when its run (<c>--parent-pid</c>) is gone (<see cref="ParentWatchdog"/>).
/// </summary>
internal static class WorkerCommand
{
    public static Command Create(CliContext context, GlobalOptions options)
    {
        var removal = new Argument<string>("removal");
        var model = new Option<string[]>("--model") { Description = "A model to unlearn (repeatable)." };
        var fromStdin = new Option<bool>("--models-from-stdin") { Description = "Read model ids from stdin, one a line, until it closes." };
        var method = new Option<string?>("--method");
        var output = new Option<string?>("--out");
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 1 };
        var parentId = new Option<int?>("--parent-pid") { Description = "The run's process id: the worker stops when that process is gone (ParentWatchdog)." };
        var command = new Command("worker", "Run one job of a parallel 'run' (used by 'run --parallel'; not meant to be called by hand).")
        {
            removal, model, fromStdin, method, output, threads, parentId,
        };
        command.Hidden = true;
        command.SetAction((parseResult, invocationToken) =>
        {
            // A run killed outright (SIGKILL) cannot kill its workers: each stops by itself when its parent is gone.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(invocationToken);
            using var watchdog = parseResult.GetValue(parentId) is { } parent ? ParentWatchdog.Start(parent, stop) : null;
            var cancellationToken = stop.Token;
            var env = new CommandEnvironment(context, options, parseResult);
            if (ConcurrencyOptions.Check((ConcurrencyOptions.Threads, parseResult.GetValue(threads))) is { } outOfRange)
            {
                env.Diagnostics.Write(outOfRange);
                return Task.FromResult(ExitCodes.InvalidInput);
            }

            var analysis = env.LoadValidWorkspace(cancellationToken);
            var found = analysis is null ? null : RemovalLookup.Find(analysis.Workspace, parseResult.GetValue(removal)!, context);
            if (analysis is null || found?.Value is null)
            {
                env.Diagnostics.Write(found?.Diagnostics ?? []);
                return Task.FromResult(ExitCodes.InvalidInput);
            }

            try
            {
                var settings = UnlearnSettings.From(found.Value, analysis.Workspace.Settings, parseResult.GetValue(method));
                var plan = Planner.Plan(analysis.Workspace, analysis.Graph, found.Value);
                var outputRoot = parseResult.GetValue(output);
                var directory = RemovalRunner.RemovalOutputDirectory(analysis.Workspace, found.Value.Id, outputRoot);
                TorchRuntime.Configure(parseResult.GetValue(threads));
                var resources = new JobResources(files: FileHashCache.ForWorkspace(analysis.Workspace));
                var failed = false;
                var models = parseResult.GetValue(fromStdin) ? ReadLines(Console.In, cancellationToken) : parseResult.GetValue(model) ?? [];
                foreach (var modelId in models)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var outcome = new UnlearningJob(analysis.Workspace.Root, found.Value.Id, modelId, settings, directory)
                        .Run(analysis, plan, resources, measure: true, cancellationToken);
                    var record = new JobRecord(JobKey.Compute(analysis, plan, modelId, settings.Method, resources.Files), outcome);
                    if (outcome.Succeeded)
                    {
                        cancellationToken.ThrowIfCancellationRequested(); // a run that is gone gets no more records
                        record.Write(directory, analysis.Workspace.Root);
                    }
                    else
                    {
                        failed = true;
                        env.Diagnostics.Write(outcome.Error!);
                    }

                    context.Out.WriteLine(record.ToJson().ToString(Newtonsoft.Json.Formatting.None));
                    context.Out.Flush();
                }

                return Task.FromResult(failed ? ExitCodes.Failed : ExitCodes.Ok);
            }
            catch (EngineException ex)
            {
                env.Diagnostics.Write(ex);
                return Task.FromResult(ExitCodes.InvalidInput);
            }
        });
        return command;
    }

    // Each line is awaited with the cancellation token, so that a worker waiting for its next model stops at once when
    // its run is gone even though its stdin stays open (another process may hold the pipe).
    private static IEnumerable<string> ReadLines(TextReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = Task.Run(input.ReadLine, CancellationToken.None);
            read.Wait(cancellationToken);
            if (read.Result is not { } line)
            {
                yield break;
            }

            if (line.Trim() is { Length: > 0 } id)
            {
                yield return id;
            }
        }
    }
}
