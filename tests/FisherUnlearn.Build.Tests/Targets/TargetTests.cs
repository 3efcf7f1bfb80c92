using FisherUnlearn.Build.Tests.Support;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Build.Tests.Targets;

/// <summary>
/// The props/targets with the real (SDK) MSBuild, in-proc: item and property flow between the targets and tasks, the
/// hook after Build, and <c>-question</c>. On a copy of samples/digits (manifests and data, no checkpoints), with a
/// project file written into a model folder (<see cref="InProcBuild.WriteProject"/>).
/// </summary>
public sealed class TargetTests
{
    [Fact]
    public void UnlearnPlan_returns_one_item_per_affected_model_and_removal_with_its_metadata()
    {
        using var ws = Digits.Copy();
        var project = InProcBuild.WriteProject(ws.PathOf("digits-federated/digits-federated.csproj"));

        var build = InProcBuild.Run(project, ["UnlearnPlan"]);

        Assert.True(build.Succeeded, build.ToString());
        var items = build.Items("UnlearnPlan").OrderBy(i => i.GetMetadata("RemovalId"), StringComparer.Ordinal).ToList();
        Assert.Equal(["forget-3", "forget-clinic-8"], items.Select(i => i.GetMetadata("RemovalId")));
        var manifest = ws.PathOf("digits-federated/digits-federated.lineage.json");
        Assert.All(items, item =>
        {
            Assert.Equal(ws.PathOf("digits-federated/bin/digits-federated.safetensors"), item.ItemSpec);
            Assert.Equal("digits-federated", item.GetMetadata("ModelId"));
            Assert.Equal(item.ItemSpec, item.GetMetadata("Checkpoint"));
            Assert.Equal(ws.PathOf($"artifacts/unlearn/{item.GetMetadata("RemovalId")}/digits-federated.safetensors"), item.GetMetadata("OutputPath"));
            Assert.Equal(manifest, item.GetMetadata("Manifest"));
            Assert.Equal("3", item.GetMetadata("ManifestLine"));
            Assert.Equal(ws.PathOf($"{item.GetMetadata("RemovalId")}.removal.json"), item.GetMetadata("RemovalManifest"));
        });
        // forget-3: inherited from digits-base; forget-clinic-8: digits-federated learned 8 itself (and inherits it).
        Assert.Equal(["descendant", "root"], items.Select(i => i.GetMetadata("Role")));
        Assert.Equal(["digits-base", "clinic-north;digits-federated"], items.Select(i => i.GetMetadata("UpstreamRoots")));

        // The same items in the project state, and the resolved workspace and output root as properties.
        var state = build.State;
        Assert.Equal(2, state.GetItems("UnlearnAffectedCheckpoint").Count);
        Assert.Equal(["digits-federated"], state.GetItems("UnlearnModel").Select(i => i.EvaluatedInclude));
        Assert.Equal(ws.Root, state.GetPropertyValue("UnlearnWorkspace"));
        Assert.Equal(ws.PathOf("artifacts/unlearn"), state.GetPropertyValue("_UnlearnOutputRoot"));
    }

    [Fact]
    public void UnlearnRemoval_items_select_the_removals_and_a_project_with_nothing_affected_returns_no_items()
    {
        using var ws = Digits.Copy();
        var federated = InProcBuild.WriteProject(ws.PathOf("digits-federated/digits-federated.csproj"),
            """<ItemGroup><UnlearnRemoval Include="../forget-clinic-8.removal.json" /></ItemGroup>""");
        var baseModel = InProcBuild.WriteProject(ws.PathOf("digits-base/digits-base.csproj"),
            """<ItemGroup><UnlearnRemoval Include="forget-clinic-8" /></ItemGroup>""");

        var one = InProcBuild.Run(federated, ["UnlearnPlan"]);
        var none = InProcBuild.Run(baseModel, ["UnlearnPlan"]);

        Assert.True(one.Succeeded, one.ToString());
        Assert.Equal(["forget-clinic-8"], one.Items("UnlearnPlan").Select(i => i.GetMetadata("RemovalId")));
        Assert.True(none.Succeeded, none.ToString());
        Assert.Empty(none.Items("UnlearnPlan"));
        Assert.Equal(["digits-base"], none.State.GetItems("UnlearnModel").Select(i => i.EvaluatedInclude));
    }

    [Theory]
    [InlineData("parallelism", null, null, "1")]
    [InlineData("parallelism", 3, null, "3")]
    [InlineData("parallelism", 3, "2", "2")]
    [InlineData("parallelism", null, "4", "4")]
    [InlineData("threads", null, null, "0")] // The Unlearn task then asks MSBuild for cores (CoreAllocation).
    [InlineData("threads", 3, null, "3")]
    [InlineData("threads", 3, "2", "2")]
    [InlineData("threads", null, "4", "4")]
    [InlineData("threads", 3, "0", "3")]
    public void UnlearnParallelism_and_UnlearnThreads_default_to_unlearn_json(string setting, int? settings, string? property, string expected)
    {
        using var ws = Digits.Copy();
        if (settings is { } value)
        {
            ws.Write("unlearn.json", $$"""{ "output": "artifacts/unlearn", "method": "fiun", "{{setting}}": {{value}} }""");
        }

        var name = setting == "threads" ? "UnlearnThreads" : "UnlearnParallelism";
        var project = InProcBuild.WriteProject(ws.PathOf("digits-base/digits-base.csproj"));
        var globals = property is null ? null : new Dictionary<string, string> { [name] = property };

        var build = InProcBuild.Run(project, ["UnlearnPlan"], globals);

        Assert.True(build.Succeeded, build.ToString());
        Assert.Equal(expected, build.State.GetPropertyValue("_" + name));
    }

    [Fact]
    public void UnlearnOnBuild_true_runs_Unlearn_after_Build_and_false_never_does()
    {
        using var ws = Digits.Copy();
        // digits-base is not affected by forget-clinic-8: Unlearn runs its plan and has nothing to do (no tool needed).
        var project = InProcBuild.WriteProject(ws.PathOf("digits-base/digits-base.csproj"),
            """<ItemGroup><UnlearnRemoval Include="forget-clinic-8" /></ItemGroup>""");

        var on = InProcBuild.Run(project, ["Build"], new Dictionary<string, string> { ["UnlearnOnBuild"] = "true" });
        var off = InProcBuild.Run(project, ["Build"]);

        Assert.True(on.Succeeded, on.ToString());
        var events = on.Logger.TargetEvents;
        var buildFinished = events.ToList().IndexOf("finished Build");
        Assert.True(buildFinished >= 0, string.Join('\n', events));
        Assert.True(events.ToList().IndexOf("started UnlearnPlan") > buildFinished, string.Join('\n', events));
        Assert.Contains(events.Skip(buildFinished), e => e is "started Unlearn" or "skipped Unlearn");
        var hook = on.State.Targets["_UnlearnOnBuild"];
        Assert.Equal("Build", hook.AfterTargets);
        Assert.Equal("Unlearn", hook.DependsOnTargets);

        Assert.True(off.Succeeded, off.ToString());
        Assert.DoesNotContain(off.Logger.TargetEvents, e => e.EndsWith(" Unlearn", StringComparison.Ordinal) || e.EndsWith(" UnlearnPlan", StringComparison.Ordinal));
    }

    /// <summary>'dotnet clean' deletes what earlier builds wrote too: the list of outputs accumulates (outputs that still
    /// exist stay listed) instead of holding only the latest build's, here after UnlearnOutputPath changed.</summary>
    [Fact]
    public void Clean_deletes_the_outputs_of_earlier_builds_after_UnlearnOutputPath_changed()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "uses a shell script as a fake tool");
        using var ws = Digits.Copy();
        // A fake tool: 'run <removal> --only <model> --out <root> ...' writes <root>/<removal>/<model>.safetensors.
        var tool = ws.Write("tools/fake-unlearn", "#!/bin/sh\nmkdir -p \"$6/$2\" && echo x > \"$6/$2/$4.safetensors\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var project = InProcBuild.WriteProject(ws.PathOf("clinic-north/clinic-north.csproj"), $"""
            <PropertyGroup><UnlearnToolPath>{tool}</UnlearnToolPath></PropertyGroup>
            <Target Name="CoreClean" />
            <Target Name="Clean" DependsOnTargets="CoreClean" />
            """);
        var first = ws.PathOf("out1/forget-clinic-8/clinic-north.safetensors");
        var second = ws.PathOf("out2/forget-clinic-8/clinic-north.safetensors");

        var one = InProcBuild.Run(project, ["Unlearn"], new Dictionary<string, string> { ["UnlearnOutputPath"] = "../out1" });
        Assert.True(one.Succeeded, one.ToString());
        var two = InProcBuild.Run(project, ["Unlearn"], new Dictionary<string, string> { ["UnlearnOutputPath"] = "../out2" });
        Assert.True(two.Succeeded, two.ToString());
        Assert.True(File.Exists(first) && File.Exists(second));

        var clean = InProcBuild.Run(project, ["Clean"]);

        Assert.True(clean.Succeeded, clean.ToString());
        Assert.False(File.Exists(first), "the output of the earlier build is still there");
        Assert.False(File.Exists(second));
    }

    [Fact]
    public void Question_mode_fails_with_FUL3012_at_the_models_lineage_manifest_and_runs_nothing()
    {
        using var ws = Digits.Copy();
        // Any existing file passes ResolveUnlearnTool; in question mode nothing may start it.
        var tool = ws.Write("tools/dotnet-unlearn.dll", "not a tool");
        var project = InProcBuild.WriteProject(ws.PathOf("clinic-north/clinic-north.csproj"),
            $"""<PropertyGroup><UnlearnToolPath>{tool}</UnlearnToolPath></PropertyGroup>""");

        var build = InProcBuild.Run(project, ["Unlearn"], question: true);

        Assert.False(build.Succeeded, build.ToString());
        var error = Assert.Single(build.Logger.Errors);
        Assert.Equal("FUL3012", error.Code);
        Assert.Equal(ws.PathOf("clinic-north/clinic-north.lineage.json"), error.File);
        Assert.Equal(3, error.LineNumber);
        Assert.True(error.ColumnNumber > 0);
        Assert.Contains(ws.PathOf("artifacts/unlearn/forget-clinic-8/clinic-north.safetensors"), error.Message, StringComparison.Ordinal);
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
        Assert.False(ws.Exists("artifacts"));
        Assert.False(ws.Exists("clinic-north/obj/unlearn")); // -question writes no input-hash cache either
    }

    /// <summary>Found in QA: MSBuild's own "file of the task node" is the package's targets file in the NuGet cache,
    /// which the unit tests' build engine could not show.</summary>
    [Theory]
    [InlineData("UnlearnWorkspace", "/nonexistent-workspace", "FUL3004")]
    [InlineData("UnlearnThreads", "2000", "FUL3015")]
    [InlineData("UnlearnToolPath", "/nope/dotnet-unlearn.dll", "FUL3001", "Fix the path (relative to the project's folder), or leave UnlearnToolPath empty")]
    [InlineData("UnlearnMethod", "fium", "FUL3017", "'UnlearnMethod' is 'fium'; it must be one of fiun, ssd, retrain (did you mean 'fiun'?)")]
    public void An_error_without_a_manifest_place_points_at_the_project_not_at_the_packages_targets_file(string property, string value, string code, string? says = null)
    {
        using var ws = Digits.Copy();
        var project = InProcBuild.WriteProject(ws.PathOf("clinic-north/clinic-north.csproj"), $"<PropertyGroup><{property}>{value}</{property}></PropertyGroup>");

        var build = InProcBuild.Run(project, ["Unlearn"]);

        Assert.False(build.Succeeded, build.ToString());
        var error = Assert.Single(build.Logger.Errors); // once, before any tool runs (QA: a bad method failed every pair's run)
        Assert.Equal((code, project), (error.Code, error.File));
        Assert.Contains(says ?? string.Empty, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("tool restore", code == "FUL3001" ? error.Message : string.Empty, StringComparison.Ordinal);
    }
}

