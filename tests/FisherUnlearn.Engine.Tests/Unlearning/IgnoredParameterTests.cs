using FisherUnlearn.Engine.Unlearning;

namespace FisherUnlearn.Engine.Tests.Unlearning;

/// <summary>A removal's parameters that its method never reads are warnings (FUL4105) at their lines, so a typo in the
/// method or a parameter left from another one does not pass for a setting.</summary>
public sealed class IgnoredParameterTests
{
    [Fact]
    public void Parameters_of_a_removal_that_retrains_are_each_a_warning_at_their_line()
    {
        using var ws = new UnlearningWorkspace(train: false,
            removalExtra: ",\n \"method\": \"retrain\", \"parameters\": { \"repairEpochs\": 3, \"x-note\": \"kept\", \"alpha\": 10 }");
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-3"];

        var listed = UnlearnSettings.Check(analysis.Workspace);

        // Each parameter retraining ignores, in name order ('x-' names are notes, which no method reads).
        Assert.Equal(["FUL4105", "FUL4105"], listed.Select(d => d.Code));
        Assert.Equal([removal.ParameterLocations["alpha"], removal.ParameterLocations["repairEpochs"]], listed.Select(d => d.Location));
        Assert.All(listed, d => Assert.False(d.IsError));
        Assert.Contains("'alpha' applies only to the methods 'fiun' and 'ssd', and 'forget-3' uses 'retrain', which trains again from the recipes, so it is ignored. Remove it, or set \"method\" to 'fiun'.",
            listed[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fiuns_own_parameters_on_a_removal_that_uses_ssd_are_warnings_and_the_ones_ssd_reads_are_not()
    {
        using var ws = new UnlearningWorkspace(train: false,
            removalExtra: ",\n \"method\": \"ssd\", \"parameters\": { \"repairEpochs\": 3, \"alpha\": 10, \"importance\": \"roots\" }");
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-3"];

        var listed = UnlearnSettings.Check(analysis.Workspace);

        Assert.Equal([removal.ParameterLocations["importance"], removal.ParameterLocations["repairEpochs"]], listed.Select(d => d.Location));
        Assert.All(listed, d => Assert.Equal("FUL4105", d.Code));
        Assert.Contains("'repairEpochs' applies only to the method 'fiun', and 'forget-3' uses 'ssd', so it is ignored.", listed[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_sample_target_and_repair_parameters_of_a_removal_that_forgets_labels_only_are_warnings_at_their_lines()
    {
        using var ws = new UnlearningWorkspace(train: false,
            removalExtra: ",\n \"parameters\": { \"repairFit\": 2, \"alpha\": 1, \"sampleTolerance\": 2, \"x-note\": \"kept\", \"sampleProbe\": false }");
        var analysis = ws.Analyze();
        var removal = analysis.Workspace.Removals["forget-3"];

        var listed = UnlearnSettings.Check(analysis.Workspace);

        // A label request never repairs and has no sample target; alpha applies, a note is no setting, and a probe left
        // off asks for nothing.
        Assert.Equal([removal.ParameterLocations["repairFit"], removal.ParameterLocations["sampleTolerance"]], listed.Select(d => d.Location));
        Assert.All(listed, d => Assert.Equal("FUL4105", d.Code));
        Assert.Contains("'repairFit' applies only to removals that forget samples, and 'forget-3' forgets labels only, so it is ignored.", listed[0].Message, StringComparison.Ordinal);
        // Ignored, they are no part of what a label request's output is keyed by, so setting them makes nothing stale.
        var label = Support.ParameterSettings.Read(("repairFit", "2"), ("sampleTolerance", "2"));
        Assert.Equal(new UnlearnSettings().Describe(forgetsSamples: false).ToJsonString(), label.Describe(forgetsSamples: false).ToJsonString());
        Assert.NotEqual(new UnlearnSettings().Describe(forgetsSamples: true).ToJsonString(), label.Describe(forgetsSamples: true).ToJsonString());

        // A value no method could read is an error, and only that.
        ws.Write("forget-3.removal.json", """
            { "schemaVersion": 1, "id": "forget-3", "forget": { "labels": [3] }, "parameters": { "repairEpochs": 3000000000 } }
            """);
        Assert.Equal("FUL4102", Assert.Single(UnlearnSettings.Check(ws.Analyze().Workspace)).Code);

        // The same parameters on a removal that forgets samples are read.
        ws.Write("forget-3.removal.json", """
            { "schemaVersion": 1, "id": "forget-3", "forget": { "labels": [3], "samples": [ { "dataset": "mnist", "split": "train", "indices": [0, 1] } ] },
              "parameters": { "repairFit": 2, "sampleTolerance": 2 } }
            """);
        Assert.Empty(UnlearnSettings.Check(ws.Analyze().Workspace));
    }

    [Fact]
    public void Unlearn_json_parameters_beside_a_retraining_removal_are_not_warned_for_they_serve_other_removals()
    {
        using var ws = new UnlearningWorkspace(train: false, removalExtra: ",\n \"method\": \"retrain\"");
        ws.Write("unlearn.json", """{ "parameters": { "alpha": 10 } }""");

        Assert.Empty(UnlearnSettings.Check(ws.Analyze().Workspace));
    }
}
