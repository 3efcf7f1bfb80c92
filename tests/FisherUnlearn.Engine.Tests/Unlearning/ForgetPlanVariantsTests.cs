using FisherUnlearn.Engine.Tests.Harvest;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Tests.Unlearning;

public sealed class ForgetPlanVariantsTests
{
    private static void Removal(HarvestWorkspace ws, string id, string body) =>
        ws.Files.Write($"{id}.removal.json", $$"""{ "schemaVersion": 1, "id": "{{id}}", {{body}} }""");

    [Fact]
    public void Plans_are_made_for_the_defaults_and_for_each_distinct_label_removal_setting_where_they_apply()
    {
        using var ws = new HarvestWorkspace(withCheckpoints: false);
        Removal(ws, "same-as-default", """ "forget": { "labels": [0] }, "targets": { "maxForgetAccuracy": 0.01 } """);
        Removal(ws, "no-target", """ "forget": { "labels": [1] } """);
        Removal(ws, "looser", """ "forget": { "labels": [1] }, "targets": { "maxForgetAccuracy": 0.05 } """);
        Removal(ws, "other-slice", """ "forget": { "labels": [2] }, "parameters": { "calibrationRetain": 20 } """);
        Removal(ws, "roots", """ "forget": { "labels": [2] }, "parameters": { "importance": "roots" } """);
        Removal(ws, "ssd", """ "forget": { "labels": [2] }, "method": "ssd" """);
        Removal(ws, "fixed", """ "forget": { "labels": [2] }, "parameters": { "alpha": 2 } """);
        Removal(ws, "samples", """ "forget": { "samples": [ { "dataset": "toy", "split": "train", "indices": [1, 2] } ] } """);
        var workspace = ws.Load();
        Assert.Equal(8, workspace.Removals.Count);
        var defaults = UnlearnSettings.ForWorkspace(workspace.Settings, Path.Combine(ws.Root, WorkspaceSettings.FileName));

        var variants = ForgetPlans.Variants(workspace, defaults);

        // The defaults (which "same-as-default" and "no-target" share), the looser target, the other slice size.
        Assert.Equal(3, variants.Count);
        Assert.Equal(defaults, variants[0].Settings);
        Assert.Null(variants[0].Target);
        Assert.Contains(variants, v => v.Target == 0.05);
        Assert.Contains(variants, v => v.Settings.CalibrationRetain == 20);
        Assert.All(variants, v => Assert.True(ForgetPlans.Applies(v.Settings)));
        var keys = variants.Select(v => ForgetPlans.KeyOf("harvest-key", v.Settings, v.Target)).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Equal(ForgetPlans.KeyOf("harvest-key", defaults, null), ForgetPlans.KeyOf("harvest-key", defaults, 0.01));

        // Plans are made only on the harvest the method reads.
        Assert.Equal(3, ForgetPlans.Variants(workspace, defaults, new FisherUnlearn.Engine.Harvest.HarvestOptions()).Count);
        Assert.Empty(ForgetPlans.Variants(workspace, defaults, new FisherUnlearn.Engine.Harvest.HarvestOptions { MaxSamplesPerLabel = 7 }));
        Assert.Empty(ForgetPlans.Variants(workspace, defaults, new FisherUnlearn.Engine.Harvest.HarvestOptions { Estimator = FisherUnlearn.Engine.Fisher.FisherEstimator.Batch }));
        Assert.NotEqual(ForgetPlans.KeyOf("harvest-key", defaults, null), ForgetPlans.KeyOf("another-harvest", defaults, null));
    }
}
