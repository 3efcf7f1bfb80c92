using System.Globalization;
using System.Text;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Harvest;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Engine.Verification;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Planning;

namespace FisherUnlearn.Engine.Tests.Unlearning;

/// <summary>Measurements on a trained copy of samples/digits (FIUN_DIGITS=/path); skipped otherwise. Writes a log to
/// FIUN_DIGITS_LOG.</summary>
public sealed class DigitsExperiment
{
    [Fact]
    public void Sweep()
    {
        var root = Environment.GetEnvironmentVariable("FIUN_DIGITS");
        Assert.SkipWhen(string.IsNullOrEmpty(root), "FIUN_DIGITS not set");
        TorchRuntime.Configure(1);
        var log = new StringBuilder();
        var analysis = WorkspaceAnalysis.Analyze(root!, TestContext.Current.CancellationToken);
        var removal = analysis.Workspace.Removals[Environment.GetEnvironmentVariable("FIUN_REMOVAL") ?? "forget-3"];
        var plan = Planner.Plan(analysis.Workspace, analysis.Graph, removal);
        var cache = new SplitCache();
        foreach (var affected in plan.Affected)
        {
            var manifest = analysis.Workspace.Models[affected.Id];
            var scope = RemovalScope.For(analysis.Workspace, analysis.Graph, removal, affected.Id);
            var harvest = Harvester.Harvest(manifest, analysis.Workspace, new HarvestOptions { Graph = analysis.Graph }, TestContext.Current.CancellationToken);
            var forgetLabels = removal.Labels.ToList();
            var ff = harvest.ForLabels(forgetLabels);
            var fd = harvest.Knowledge();
            using var module = ModelFactory.Create(manifest.Architecture, manifest.ManifestDirectory);
            CheckpointStore.LoadInto(module, manifest.CheckpointPath, manifest.Architecture.ToString());
            var original = StateDicts.Copy(module);
            var metrics = new MetricsEvaluator(scope, cache);
            var before = metrics.Measure(module);
            log.AppendLine(CultureInfo.InvariantCulture, $"== {affected.Id} ({affected.Role}) harvest {harvest.Seconds:0.00}s before: f={before.ForgetAccuracy:0.000} r={before.RetainAccuracy:0.000} mia={before.Mia:0.000}");
            var last = module.named_parameters().Select(p => p.name).TakeLast(2).ToHashSet();
            foreach (var layers in new[] { "all", "last" })
            {
                foreach (var alpha in new[] { 0.1, 0.3, 1, 3, 10, 30 })
                {
                    var line = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"{layers} a={alpha,-4}"));
                    foreach (var lambda in new[] { 0.01, 0.1, 1.0 })
                    {
                        StateDicts.LoadInto(module, original, "orig", "x");
                        var stats = Dampener.Apply(module, ff, fd, alpha, lambda, layers == "last" ? last.Contains : null);
                        var after = metrics.Measure(module);
                        line.Append(CultureInfo.InvariantCulture, $" | l={lambda}: f={after.ForgetAccuracy:0.000} r={after.RetainAccuracy:0.000} sel={stats.Selected}");
                    }

                    log.AppendLine(line.ToString());
                }
            }

            foreach (var t in original.Values) { t.Dispose(); }
        }

        File.WriteAllText(Environment.GetEnvironmentVariable("FIUN_DIGITS_LOG") ?? "/tmp/fiun-sweep.log", log.ToString());
    }
}
