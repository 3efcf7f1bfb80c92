using System.Diagnostics;
using System.Globalization;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Discovery;
using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Testing;

// Benchmarks, measured by wall time; no timing asserts live in the unit tests.
//   dotnet run -c Release --project tests/FisherUnlearn.Benchmarks -- scale [--models 10000] [--runs 7] [--seed 1] [--keep]
// scale: writes a synthetic workspace (SyntheticWorkspace) into a temp folder, then times loading it from disk
// (WorkspaceLoader.Load), validating it (LineageGraph.Build + GraphValidator) and planning its two removals
// (Planner). The first run, in a fresh process, is reported apart ("cold"); median and max are over the other runs.
// unlearning: quality and speed of fiun, fiun (importance: roots), ssd and retrain on the MNIST networks of Networks/
//   dotnet run -c Release --project tests/FisherUnlearn.Benchmarks -- unlearning [--setting chain|star|federated|paper|star-long|federated-long|all] [--seed-offset n] [--keep] [--out file.md]
// repeat: runs one removal with fiun several times in one process on a workspace kept by `unlearning --keep` (RepeatBench).
// fisher: times the exact (one-pass), batch and per-example-loop Fisher estimators on the sample digits data (FisherBench).
return args.Length > 0 && args[0] == "scale" ? Scale.Run(args[1..])
    : args.Length > 0 && args[0] == "fisher" ? FisherBench.Run(args[1..])
    : args.Length > 0 && args[0] == "unlearning" ? UnlearningBench.Run(args[1..])
    : args.Length > 0 && args[0] == "repeat" ? RepeatBench.Run(args[1..])
    : Usage();

static int Usage()
{
    Console.Error.WriteLine("usage: FisherUnlearn.Benchmarks scale [--models <n>] [--runs <n>] [--seed <n>] [--keep]");
    Console.Error.WriteLine("       FisherUnlearn.Benchmarks unlearning [--setting chain|star|federated|paper|star-long|federated-long|all] [--seed-offset <n>] [--keep] [--out <file.md>]");
    Console.Error.WriteLine("       FisherUnlearn.Benchmarks repeat --workspace <dir> --removal <id> [--runs <n>] [--parallel <n>] [--threads <n>] [--fresh | --no-plans]");
    Console.Error.WriteLine("       FisherUnlearn.Benchmarks fisher [--samples <n>] [--runs <n>] [--threads <n>] [--model mlp|cnn]");
    return 2;
}

internal static class Scale
{
    public static int Run(string[] args)
    {
        var models = 10_000;
        var runs = 7;
        var seed = 1;
        var keep = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--models" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out models) && models > 0:
                case "--runs" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out runs) && runs > 0:
                case "--seed" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out seed):
                    i++;
                    break;
                case "--keep":
                    keep = true;
                    break;
                default:
                    Console.Error.WriteLine($"unknown or invalid argument '{args[i]}'");
                    Console.Error.WriteLine("usage: FisherUnlearn.Benchmarks scale [--models <n>] [--runs <n>] [--seed <n>] [--keep]");
                    return 2;
            }
        }

        var folder = Directory.CreateTempSubdirectory("fiun-scale-");
        try
        {
            return Measure(folder.FullName, models, runs, seed);
        }
        finally
        {
            if (keep)
            {
                Console.WriteLine($"workspace kept in {folder.FullName}");
            }
            else
            {
                folder.Delete(recursive: true);
            }
        }
    }

    private static int Measure(string root, int models, int runs, int seed)
    {
        var clock = Stopwatch.StartNew();
        SyntheticWorkspace.Write(root, models, seed);
        var generate = clock.Elapsed.TotalMilliseconds;
        var files = Directory.GetFiles(root, "*.json", SearchOption.AllDirectories).Length;
        Console.WriteLine($"scale: {models} models, {files} manifest files (seed {seed}) written in {generate:F0} ms to {root}");
        Console.WriteLine($"{Environment.ProcessorCount} cores, .NET {Environment.Version}, {runs} runs after a cold one");
        Console.WriteLine();

        var steps = new[] { "load (WorkspaceLoader.Load)", "validate (graph + GraphValidator)", "load + validate", "plan label request", "plan sample request", "load + validate + plan" };
        var times = steps.ToDictionary(s => s, _ => new List<double>());
        Workspace? workspace = null;
        IReadOnlyList<FisherUnlearn.Lineage.Diagnostics.Diagnostic> problems = [];
        RemovalPlan? labelPlan = null;
        RemovalPlan? samplePlan = null;
        for (var run = 0; run <= runs; run++)
        {
            var t0 = Stopwatch.GetTimestamp();
            workspace = WorkspaceLoader.Load(root);
            var t1 = Stopwatch.GetTimestamp();
            var graph = LineageGraph.Build(workspace);
            problems = [.. workspace.Diagnostics, .. GraphValidator.Validate(workspace, graph)];
            var t2 = Stopwatch.GetTimestamp();
            labelPlan = Planner.Plan(workspace, graph, workspace.Removals[SyntheticWorkspace.LabelRemovalId]);
            var t3 = Stopwatch.GetTimestamp();
            samplePlan = Planner.Plan(workspace, graph, workspace.Removals[SyntheticWorkspace.SampleRemovalId]);
            var t4 = Stopwatch.GetTimestamp();

            times[steps[0]].Add(Ms(t0, t1));
            times[steps[1]].Add(Ms(t1, t2));
            times[steps[2]].Add(Ms(t0, t2));
            times[steps[3]].Add(Ms(t2, t3));
            times[steps[4]].Add(Ms(t3, t4));
            times[steps[5]].Add(Ms(t0, t3));
        }

        Console.WriteLine($"| {"step",-36} | {"cold ms",9} | {"median ms",9} | {"max ms",9} |");
        Console.WriteLine($"|{new string('-', 38)}|{new string('-', 10)}:|{new string('-', 10)}:|{new string('-', 10)}:|");
        foreach (var step in steps)
        {
            var warm = times[step].Skip(1).Order().ToList();
            Console.WriteLine($"| {step,-36} | {times[step][0],9:F1} | {Median(warm),9:F1} | {warm[^1],9:F1} |");
        }

        Console.WriteLine();
        Console.WriteLine($"label request:  {labelPlan!.Roots.Count} roots, {labelPlan.Affected.Count} affected, {labelPlan.Waves.Count} waves, {labelPlan.Unaffected.Count} unaffected");
        Console.WriteLine($"sample request: {samplePlan!.Roots.Count} roots, {samplePlan.Affected.Count} affected, {samplePlan.Waves.Count} waves, {samplePlan.Unaffected.Count} unaffected");
        var errors = problems.Where(d => d.IsError).ToList();
        Console.WriteLine($"diagnostics: {problems.Count} ({errors.Count} errors) over {workspace!.Models.Count} models");
        foreach (var error in errors.Take(10))
        {
            Console.WriteLine($"  {error.ToCanonicalString()}");
        }

        // A synthetic workspace must be valid, else the timings measure error paths.
        return errors.Count == 0 && workspace.Models.Count == models ? 0 : 1;
    }

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    private static double Median(List<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}
