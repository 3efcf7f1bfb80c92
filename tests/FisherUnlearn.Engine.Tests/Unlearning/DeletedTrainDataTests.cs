using FisherUnlearn.Engine.Harvest;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Tests.Unlearning;

/// <summary>
/// design.md section 2: the harvest is cached "so later requests need no pass over data that may since have been
/// deleted". A label request answered from the harvest's forget plans reads no train data, so deleting the train files
/// after `harvest` must change nothing but what cannot be measured without them.
/// </summary>
[Collection(UnlearningCollection.Name)]
public sealed class DeletedTrainDataTests
{
    private static readonly CancellationToken Token = TestContext.Current.CancellationToken;

    private static string HarvestIndex(UnlearningWorkspace ws, string modelId) =>
        Path.Combine(HarvestCache.DirectoryOf(ws.PathOf("artifacts/unlearn"), modelId), HarvestCache.IndexFileName);

    [Fact]
    public void A_planned_label_request_writes_the_same_bytes_after_the_train_data_was_deleted()
    {
        using var ws = new UnlearningWorkspace();
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-3"];
        var settings = UnlearnSettings.From(removal, analysis.Workspace.Settings);
        foreach (var id in new[] { "a", "b", "c" })
        {
            ForgetPlans.Compute(analysis, id, settings, new JobResources(), removal.Targets?.MaxForgetAccuracy, Token);
        }

        // A damaged index (found in QA: it was never rewritten, so the deletion below failed) is listed again by the next
        // request that finds the harvest while the data is there; a deleted one too.
        File.WriteAllText(HarvestIndex(ws, "a"), "{ not json");
        File.Delete(HarvestIndex(ws, "b"));

        RunResult Run(string folder, bool measure) =>
            RemovalRunner.Run(ws.Analyze(), removal, new RunOptions { Threads = 1, Measure = measure, OutputDirectory = ws.PathOf(folder) }, Token);
        var withData = Run("with-data", measure: true);
        Assert.True(withData.Succeeded, string.Join("\n", withData.Models.Select(m => m.Error?.ToString())));
        Assert.All(new[] { "a", "b", "c" }, id => Assert.NotNull(Assert.Single(HarvestCache.ReadIndex(ws.PathOf("artifacts/unlearn"), id)).DataSha256));

        File.Delete(ws.PathOf("data/train-images-idx3-ubyte.gz"));
        File.Delete(ws.PathOf("data/train-labels-idx1-ubyte.gz"));
        var without = Run("without-data", measure: true);

        Assert.True(without.Succeeded, string.Join("\n", without.Models.Select(m => m.Error?.ToString())));
        foreach (var (first, second) in withData.Models.Zip(without.Models))
        {
            Assert.True((bool)second.Parameters!["calibrationPlanned"]!, second.Id);
            Assert.True((bool)second.Parameters!["harvestCached"]!, second.Id);
            Assert.Equal(File.ReadAllBytes(first.OutputPath!), File.ReadAllBytes(second.OutputPath!));

            // The accuracies come from the test split, as before; the attack needs train samples and is not measured.
            Assert.Equal((first.After!.ForgetAccuracy, first.After.RetainAccuracy, first.After.TestAccuracy), (second.After!.ForgetAccuracy, second.After.RetainAccuracy, second.After.TestAccuracy));
            Assert.NotNull(first.After.Mia);
            Assert.Null(second.After.Mia);
            Assert.Null(second.Before!.Mia);
        }

        // A sample request needs the samples themselves: it still says which file is missing.
        var samples = removal with { Id = "forget-samples", Labels = [], Samples = [new SampleSelection("mnist", "train", [1, 2, 3], removal.Location)] };
        var failed = RemovalRunner.Run(ws.Analyze(), samples, new RunOptions { Threads = 1, Measure = false, OutputDirectory = ws.PathOf("samples") }, Token);
        Assert.All(failed.Models, m => Assert.Equal("FUL4001", m.Error?.Code));
    }
}
