using System.Globalization;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage;

/// <summary>
/// <c>repeat --workspace &lt;dir&gt; --removal &lt;id&gt; [--runs 7] [--parallel 1] [--fresh | --no-plans]</c>: runs the workspace's removal with fiun,
/// in one process (<c>--parallel</c> jobs at once, <c>--threads</c> libtorch threads each, default 1), several times (fresh output folder each time, harvest and plans as the workspace has them) and prints each
/// run's whole-network time, each model's time and the garbage collections it caused. Without <c>--fresh</c> it first
/// harvests and plans every affected model, as <c>dotnet unlearn harvest</c> would; <c>--no-plans</c> removes the plans
/// instead (Fisher harvest kept), so every model calibrates at request time. Point it at a workspace kept by
/// <c>unlearning --keep</c> to look at fiun's fixed per-model costs without retraining anything.
/// </summary>
internal static class RepeatBench
{
    public static int Run(string[] args)
    {
        string? root = null;
        string? removalId = null;
        var runs = 7;
        var fresh = false;
        var noPlans = false;
        var parallel = 1;
        var threads = 1;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--workspace" when i + 1 < args.Length:
                    root = args[++i];
                    break;
                case "--removal" when i + 1 < args.Length:
                    removalId = args[++i];
                    break;
                case "--fresh":
                    fresh = true; // Empty the harvest cache (Fisher and plans) before each run.
                    break;
                case "--no-plans":
                    noPlans = true; // Keep the Fisher harvest, remove the forget plans: every model calibrates at request time.
                    break;
                case "--runs" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out runs) && runs > 0:
                case "--parallel" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out parallel) && parallel > 0:
                case "--threads" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out threads) && threads > 0:
                    i++;
                    break;
                default:
                    Console.Error.WriteLine("usage: FisherUnlearn.Benchmarks repeat --workspace <dir> --removal <id> [--runs <n>] [--parallel <n>] [--threads <n>] [--fresh | --no-plans]");
                    return 2;
            }
        }

        if (root is null || removalId is null)
        {
            Console.Error.WriteLine("usage: FisherUnlearn.Benchmarks repeat --workspace <dir> --removal <id> [--runs <n>] [--parallel <n>] [--threads <n>] [--fresh | --no-plans]");
            return 2;
        }

        TorchRuntime.Prepare(threads);
        var analysis = WorkspaceAnalysis.Analyze(root);
        var removal = analysis.Workspace.Removals[removalId];
        if (!fresh && !noPlans)
        {
            // As `dotnet unlearn harvest` leaves it: the Fisher harvest and the forget plans of every affected model.
            var settings = UnlearnSettings.From(removal, analysis.Workspace.Settings, UnlearnSettings.Fiun);
            var plan = FisherUnlearn.Lineage.Planning.Planner.Plan(analysis.Workspace, analysis.Graph, removal);
            foreach (var affected in plan.Affected.Where(_ => ForgetPlans.Applies(settings)))
            {
                ForgetPlans.Compute(analysis, affected.Id, settings, new JobResources(), removal.Targets?.MaxForgetAccuracy);
            }
        }

        var output = Directory.CreateTempSubdirectory("fiun-repeat-").FullName;
        try
        {
            for (var run = 1; run <= runs; run++)
            {
                var harvest = Path.Combine(analysis.Workspace.OutputDirectory, FisherUnlearn.Engine.Harvest.HarvestCache.FolderName);
                if (fresh && Directory.Exists(harvest))
                {
                    Directory.Delete(harvest, recursive: true);
                    var hashes = Path.Combine(analysis.Workspace.OutputDirectory, FisherUnlearn.Lineage.Hashing.FileHashStore.FileName);
                    if (File.Exists(hashes))
                    {
                        File.Delete(hashes);
                    }
                }

                foreach (var plans in noPlans && Directory.Exists(harvest) ? Directory.GetDirectories(harvest, ForgetPlans.FolderName, SearchOption.AllDirectories) : [])
                {
                    Directory.Delete(plans, recursive: true);
                }

                var gc = new[] { GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2) };
                var result = RemovalRunner.Run(analysis, removal, new RunOptions
                {
                    Method = UnlearnSettings.Fiun,
                    OutputDirectory = Path.Combine(output, run.ToString(CultureInfo.InvariantCulture)),
                    Threads = threads,
                    Parallelism = parallel,
                    Measure = false,
                });
                var planned = result.Models.Count(m => (bool?)m.Parameters?["calibrationPlanned"] == true);
                var models = string.Join(", ", result.Models.Select(m => string.Create(CultureInfo.InvariantCulture,
                    $"{m.Id} {m.Seconds * 1000:0.0} ({m.Parameters?["calibration"]?["evaluated"]} evaluated)")));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run {run}: {result.Seconds * 1000:0.0} ms ({planned} of {result.Models.Count} planned; gc {GC.CollectionCount(0) - gc[0]}/{GC.CollectionCount(1) - gc[1]}/{GC.CollectionCount(2) - gc[2]}): {models}"));
                Console.WriteLine("  phases: " + string.Join("; ", result.Models.Select(m => $"{m.Id} {m.Parameters?["seconds"]?.ToJsonString()}")));
            }
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }

        return 0;
    }
}
