using System.Diagnostics;
using System.Globalization;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Lineage.Discovery;
using TorchSharp;

/// <summary>
/// <c>fisher [--samples 1000] [--runs 5] [--threads 1] [--model mlp|cnn]</c>: wall time of the Fisher estimators on the
/// first train samples of samples/digits, with the sample workspace's mlp (784-256-128-10, seeded weights; timing
/// does not depend on the weights) or the LeNet cnn: <c>exact</c> one pass (chunks of 256), <c>batch</c> (batch 32),
/// <c>labelfree</c> (batch 32) and <c>exact</c> by the per-example loop. One warm-up run each; median and min of the rest.
/// </summary>
internal static class FisherBench
{
    public static int Run(string[] args)
    {
        var samples = 1000;
        var runs = 5;
        var threads = 1;
        var kind = "mlp";
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--samples" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out samples) && samples > 0:
                case "--runs" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out runs) && runs > 0:
                case "--threads" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out threads) && threads > 0:
                    i++;
                    break;
                case "--model" when i + 1 < args.Length && args[i + 1] is "mlp" or "cnn":
                    kind = args[++i];
                    break;
                default:
                    Console.Error.WriteLine($"unknown or invalid argument '{args[i]}'");
                    return 2;
            }
        }

        TorchRuntime.Configure(threads);
        var root = FindSamples();
        var workspace = WorkspaceLoader.Load(root);
        var data = DatasetLoader.Load(workspace.Datasets["mnist"], "train").Select(Enumerable.Range(0, samples));
        torch.manual_seed(1);
        using torch.nn.Module<torch.Tensor, torch.Tensor> model = kind == "mlp" ? new Mlp(784, [256, 128], 10) : new LeNet([1, 28, 28], 10);
        var parameters = model.parameters().Sum(p => p.numel());
        Console.WriteLine($"fisher: {kind} ({parameters} parameters), {data.Count} samples of samples/digits, {threads} thread(s), {runs} runs after a warm-up");
        var cases = new (string Name, FisherOptions Options)[]
        {
            ("exact (one pass, chunk 256)", new FisherOptions { Estimator = FisherEstimator.Exact }),
            ("batch (batch 32)", new FisherOptions { Estimator = FisherEstimator.Batch, BatchSize = 32 }),
            ("labelfree (batch 32)", new FisherOptions { Estimator = FisherEstimator.LabelFree, BatchSize = 32 }),
            ("exact (per-example loop)", new FisherOptions { Estimator = FisherEstimator.Exact, ForcePerExampleLoop = true }),
        };
        FisherDiagonal? onePass = null;
        foreach (var (name, options) in cases)
        {
            var times = new List<double>();
            FisherDiagonal? result = null;
            for (var run = 0; run <= runs; run++)
            {
                var started = Stopwatch.GetTimestamp();
                result = FisherCalculator.Compute(model, data, options);
                if (run > 0)
                {
                    times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }

            times.Sort();
            var agreement = string.Empty;
            if (name.StartsWith("exact (one", StringComparison.Ordinal))
            {
                onePass = result;
            }
            else if (name.StartsWith("exact (per", StringComparison.Ordinal) && onePass is not null)
            {
                agreement = $"  max rel. diff vs one pass {MaxRelativeDifference(onePass, result!):E1}";
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-30} median {times[times.Count / 2],9:F1} ms   min {times[0],9:F1} ms{agreement}"));
        }

        return 0;
    }

    private static double MaxRelativeDifference(FisherDiagonal expected, FisherDiagonal actual) =>
        expected.Parameters.Max(p =>
        {
            var scale = Math.Max(p.Value.Values.Max(), 1e-30f);
            return p.Value.Values.Zip(actual[p.Key].Values, (e, a) => Math.Abs(e - a)).Max() / scale;
        });

    private static string FindSamples()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "samples", "digits");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("samples/digits not found above " + AppContext.BaseDirectory);
    }
}
