using FisherUnlearn.Build.Tasks;
using FisherUnlearn.Build.Tests.Support;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Testing;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace FisherUnlearn.Build.Tests.Tasks;

public sealed class UnlearnPlanTests
{
    private static (UnlearnPlan Task, RecordingBuildEngine Engine, bool Result) Run(string projectDirectory, params string[] removals) =>
        Run(projectDirectory, question: false, removals);

    private static (UnlearnPlan Task, RecordingBuildEngine Engine, bool Result) Run(string projectDirectory, bool question, params string[] removals)
    {
        var engine = new RecordingBuildEngine();
        var task = new UnlearnPlan
        {
            BuildEngine = engine,
            ProjectDirectory = projectDirectory,
            Removals = [.. removals.Select(r => (ITaskItem)new TaskItem(r))],
            FailIfNotIncremental = question, // what MSBuild sets under -question
        };
        var result = task.Execute();
        return (task, engine, result);
    }

    [Fact]
    public void A_descendant_project_gets_one_item_per_removal_that_affects_it_with_its_metadata()
    {
        using var ws = Digits.Copy();
        var (task, engine, result) = Run(ws.PathOf("digits-federated"));

        Assert.True(result, engine.Log);
        Assert.Equal(ws.Root, task.ResolvedWorkspace);
        Assert.Equal(["digits-federated"], task.OwnedModels);
        var items = task.AffectedCheckpoints;
        Assert.Equal(["forget-3", "forget-clinic-8"], items.Select(i => i.GetMetadata("RemovalId")));
        Assert.All(items, i =>
        {
            Assert.Equal("digits-federated", i.GetMetadata("ModelId"));
            Assert.Equal(ws.PathOf("digits-federated/bin/digits-federated.safetensors"), i.GetMetadata("Checkpoint"));
            Assert.Equal(i.GetMetadata("Checkpoint"), i.ItemSpec);
            Assert.Equal(ws.PathOf("digits-federated/digits-federated.lineage.json"), i.GetMetadata("Manifest"));
            Assert.Contains(i.GetMetadata("Role"), new[] { "root", "descendant" });
        });
        Assert.Equal(ws.PathOf("artifacts/unlearn/forget-3/digits-federated.safetensors"), items[0].GetMetadata("OutputPath"));
        Assert.Equal(ws.PathOf("artifacts/unlearn/forget-clinic-8/digits-federated.safetensors"), items[1].GetMetadata("OutputPath"));
    }

    [Fact]
    public void Inputs_map_each_input_file_to_its_output_including_the_upstream_roots_checkpoints()
    {
        using var ws = Digits.Copy();
        var (task, engine, result) = Run(ws.PathOf("digits-student"), "forget-clinic-8");

        Assert.True(result, engine.Log);
        var output = ws.PathOf("artifacts/unlearn/forget-clinic-8/digits-student.safetensors");
        Assert.All(task.Inputs, i => Assert.Equal(output, i.GetMetadata("OutputPath")));
        var inputs = task.Inputs.Select(i => i.ItemSpec).ToList();
        Assert.Contains(ws.PathOf("digits-student/bin/digits-student.safetensors"), inputs);
        Assert.Contains(ws.PathOf("clinic-north/bin/clinic-north.safetensors"), inputs); // the upstream root
        Assert.DoesNotContain(ws.PathOf("forget-clinic-8.removal.json"), inputs); // counted in the pair's cache, by what it asks
        Assert.Contains(ws.PathOf("data/train-labels-idx1-ubyte.gz"), inputs);
        Assert.NotEmpty(task.InputHashes);
    }

    /// <summary>A pair's inputs are the files the tool's job key hashes whole (FisherUnlearn.Engine's JobKey): the model's
    /// manifest and checkpoint, EVERY ancestor's manifest and checkpoint (affected by the removal
    /// or not) and the lineage's dataset manifests and files. Otherwise a replaced checkpoint of an unaffected ancestor
    /// leaves the build up to date while 'dotnet unlearn status' says the output is stale.</summary>
    [Fact]
    public void Inputs_are_what_the_tools_job_key_depends_on_including_every_ancestor()
    {
        using var ws = Digits.Copy();
        var ancestors = new[] { "digits-base", "digits-plus-5", "digits-plus-6", "clinic-north", "digits-federated" };
        foreach (var model in ancestors.Append("digits-student"))
        {
            ws.Write($"{model}/bin/{model}.safetensors", model);
        }

        var (task, engine, result) = Run(ws.PathOf("digits-student"));

        Assert.True(result, engine.Log);
        var expected = new List<string>
        {
            ws.PathOf("mnist.dataset.json"),
            ws.PathOf("digits-student/digits-student.lineage.json"),
            ws.PathOf("digits-student/bin/digits-student.safetensors"),
        };
        expected.AddRange(ancestors.SelectMany(a => new[] { ws.PathOf($"{a}/{a}.lineage.json"), ws.PathOf($"{a}/bin/{a}.safetensors") }));
        expected.AddRange(Directory.EnumerateFiles(ws.PathOf("data"), "*.gz"));
        foreach (var removal in new[] { "forget-3", "forget-clinic-8" })
        {
            var inputs = task.Inputs.Where(i => i.GetMetadata("RemovalId") == removal).Select(i => i.ItemSpec).ToList();
            // ... and the pair's own input-hash cache, last.
            var key = UnlearnPlan.OutputKey(ws.PathOf("artifacts/unlearn"), null);
            var cache = ws.PathOf($"digits-student/obj/unlearn/{key}/{removal}/digits-student.inputs.cache");
            // Not the removal manifest: what of it outputs depend on is in the cache, so its reason can change freely.
            Assert.Equal([.. expected.Order(StringComparer.Ordinal), cache], inputs);

            // The pair's input-hash cache hashes the same manifests (their content: an edit that keeps the time still counts).
            var lines = Lines(task, removal);
            Assert.All(ancestors.Append("digits-student"), m => Assert.Contains(lines, h => h.StartsWith($"model {m} ", StringComparison.Ordinal)));
            Assert.Contains(lines, h => h.StartsWith("dataset mnist ", StringComparison.Ordinal));
            Assert.Contains(lines, h => h.StartsWith("settings ", StringComparison.Ordinal));
            Assert.Contains(lines, h => h.StartsWith($"removal {removal} ", StringComparison.Ordinal));
            Assert.DoesNotContain(lines, h => h.StartsWith("removal ", StringComparison.Ordinal) && !h.StartsWith($"removal {removal} ", StringComparison.Ordinal));
        }
    }

    /// <summary>unlearn.json is not an input file: its method and parameters count through the input-hash cache, by
    /// value, and its threads or parallelism (outputs are the same bytes with any) not at all.</summary>
    [Fact]
    public void Threads_in_unlearn_json_leave_the_input_hash_cache_as_it_is_and_a_parameter_changes_it()
    {
        using var ws = Digits.Copy();
        ws.Write("digits-student/bin/digits-student.safetensors", "w");
        ws.Write("unlearn.json", """{ "method": "fiun", "threads": 1 }""");
        var (first, engine, result) = Run(ws.PathOf("digits-student"), "forget-3");
        Assert.True(result, engine.Log);
        Assert.DoesNotContain(ws.PathOf("unlearn.json"), first.Inputs.Select(i => i.ItemSpec));

        ws.Write("unlearn.json", """{ "threads": 4, "parallelism": 2, "method": "fiun" }""");
        var (threads, _, _) = Run(ws.PathOf("digits-student"), "forget-3");
        ws.Write("unlearn.json", """{ "method": "fiun", "threads": 4, "parameters": { "alpha": 2 } }""");
        var (parameter, _, _) = Run(ws.PathOf("digits-student"), "forget-3");

        Assert.Equal(Lines(first), Lines(threads));
        Assert.NotEqual(Lines(first), Lines(parameter));
    }

    /// <summary>A checkpoint replaced by other bytes with the same time (cp -p, tar, a CI cache restore) escapes
    /// MSBuild's timestamps: its content is in the input-hash cache, as it is in the tool's job key.
    /// With a checkpoint of 64 KB or more, settled, its hash is kept between builds
    /// (<c>.file-hashes.json</c>), and the replacement is still seen: its status-change time moved.</summary>
    [Theory]
    [InlineData(11)]
    [InlineData(100_000)]
    public void A_checkpoint_whose_bytes_change_but_not_its_time_changes_the_input_hash_cache(int size)
    {
        using var ws = Digits.Copy();
        var checkpoint = ws.PathOf("digits-student/bin/digits-student.safetensors");
        ws.Write("digits-student/bin/digits-student.safetensors", new string('1', size));
        var time = DateTime.UtcNow.AddHours(-1);
        File.SetLastWriteTimeUtc(checkpoint, time);
        Directory.CreateDirectory(ws.PathOf("artifacts/unlearn"));
        if (size >= FileHashStore.MinLength)
        {
            Thread.Sleep(FileHashStore.Settle + TimeSpan.FromMilliseconds(200)); // its status-change time settles: it is recorded
        }

        var (first, engine, result) = Run(ws.PathOf("digits-student"), "forget-3");
        Assert.True(result, engine.Log);
        Assert.Equal(size >= FileHashStore.MinLength, File.Exists(ws.PathOf("artifacts/unlearn/" + FileHashStore.FileName)));

        ws.Write("digits-student/bin/digits-student.safetensors", new string('2', size));
        File.SetLastWriteTimeUtc(checkpoint, time);
        var (replaced, _, _) = Run(ws.PathOf("digits-student"), "forget-3");
        var (again, _, _) = Run(ws.PathOf("digits-student"), "forget-3");

        Assert.NotEqual(Lines(first), Lines(replaced));
        Assert.Equal(Lines(replaced), Lines(again));
        Assert.Contains(Lines(replaced), h => h.StartsWith("content checkpoint digits-student ", StringComparison.Ordinal));
    }

    /// <summary>Moving data files and a checkpoint, with their paths in the manifests, changes nothing the tool's job key
    /// counts, so the input-hash caches stay as they are (found in QA: -question failed where 'plan --check' passed).</summary>
    [Fact]
    public void Moving_data_files_and_a_checkpoint_with_their_paths_keeps_the_input_hash_cache()
    {
        using var ws = Digits.Copy();
        ws.Write("digits-student/bin/digits-student.safetensors", "its bytes");
        var (first, engine, result) = Run(ws.PathOf("digits-student"), "forget-3");
        Assert.True(result, engine.Log);

        Directory.Move(ws.PathOf("data"), ws.PathOf("mnist-data"));
        ws.Write("mnist.dataset.json", ws.ReadText("mnist.dataset.json").Replace("\"data/", "\"mnist-data/", StringComparison.Ordinal));
        Directory.Move(ws.PathOf("digits-student/bin"), ws.PathOf("digits-student/weights"));
        ws.Write("digits-student/digits-student.lineage.json", ws.ReadText("digits-student/digits-student.lineage.json").Replace("bin/digits-student", "weights/digits-student", StringComparison.Ordinal));
        var (moved, _, _) = Run(ws.PathOf("digits-student"), "forget-3");

        Assert.Equal(Lines(first), Lines(moved));

        // What is read changes it: another number of classes.
        ws.Write("mnist.dataset.json", ws.ReadText("mnist.dataset.json").Replace("\"classes\": 10", "\"classes\": 11", StringComparison.Ordinal));
        var (changed, _, _) = Run(ws.PathOf("digits-student"), "forget-3");
        Assert.NotEqual(Lines(first), Lines(changed));
    }

    /// <summary>Under <c>-question</c> the planner reads the hash store but writes nothing, not even it.</summary>
    [Fact]
    public void A_question_build_keeps_no_file_hash_and_a_normal_one_does()
    {
        using var ws = Digits.Copy();
        var checkpoint = ws.PathOf("digits-student/bin/digits-student.safetensors");
        ws.Write("digits-student/bin/digits-student.safetensors", new string('1', 100_000));
        Directory.CreateDirectory(ws.PathOf("artifacts/unlearn"));
        Thread.Sleep(FileHashStore.Settle + TimeSpan.FromMilliseconds(200));
        var store = ws.PathOf("artifacts/unlearn/" + FileHashStore.FileName);

        var (question, engine, result) = Run(ws.PathOf("digits-student"), question: true, "forget-3");
        var storeAfterQuestion = File.Exists(store);
        var (normal, _, _) = Run(ws.PathOf("digits-student"), "forget-3");

        Assert.True(result, engine.Log);
        Assert.False(storeAfterQuestion);
        Assert.True(File.Exists(store));
        Assert.Contains(checkpoint, File.ReadAllText(store), StringComparison.Ordinal);
        Assert.Equal(Lines(question), Lines(normal));
    }

    /// <summary>Each (removal, model) pair has its own input-hash cache, so an edited or new removal changes the caches of
    /// its own pairs only: the project's other pairs stay up to date and start no tool run. An edit no output depends on
    /// (the reason, an extension field) changes no cache at all.</summary>
    [Fact]
    public void A_removal_edit_changes_the_input_hash_caches_of_its_own_pairs_only_and_its_reason_none()
    {
        using var ws = Digits.Copy();
        ws.Write("digits-student/bin/digits-student.safetensors", "w");
        var (first, engine, result) = Run(ws.PathOf("digits-student"));
        Assert.True(result, engine.Log);
        var original = ws.ReadText("forget-clinic-8.removal.json");

        ws.Write("forget-clinic-8.removal.json", original.Replace("\"reason\": \"", "\"x-ticket\": \"T-1\", \"reason\": \"Ticket T-1. ", StringComparison.Ordinal));
        var (reason, _, _) = Run(ws.PathOf("digits-student"));
        ws.Write("forget-clinic-8.removal.json", original.Replace("\"schemaVersion\"", "\"parameters\": { \"seed\": 5 }, \"schemaVersion\"", StringComparison.Ordinal));
        var (parameter, _, _) = Run(ws.PathOf("digits-student"));

        Assert.Equal(2, first.AffectedCheckpoints.Select(c => c.GetMetadata("InputsCache")).Distinct(StringComparer.Ordinal).Count());
        // Each output folder and method has a folder of caches of its own, so a build to another one rewrites none of these.
        Assert.All(first.AffectedCheckpoints, c => Assert.Contains(UnlearnPlan.OutputKey(ws.PathOf("artifacts/unlearn"), null), c.GetMetadata("InputsCache"), StringComparison.Ordinal));
        Assert.NotEqual(UnlearnPlan.OutputKey(ws.PathOf("out1"), null), UnlearnPlan.OutputKey(ws.PathOf("out2"), null));
        Assert.NotEqual(UnlearnPlan.OutputKey(ws.PathOf("out1"), null), UnlearnPlan.OutputKey(ws.PathOf("out1"), "ssd"));
        Assert.Equal(UnlearnPlan.OutputKey(ws.PathOf("out1"), "ssd"), UnlearnPlan.OutputKey(ws.PathOf("out1") + "/", " ssd"));
        Assert.Equal(Lines(first), Lines(reason));
        Assert.Equal(Lines(first, "forget-3"), Lines(parameter, "forget-3"));
        Assert.NotEqual(Lines(first, "forget-clinic-8"), Lines(parameter, "forget-clinic-8"));
    }

    /// <summary>The input-hash cache lines of the pairs of <paramref name="removal"/> (all pairs: null).</summary>
    private static List<string> Lines(UnlearnPlan task, string? removal = null) =>
        [.. task.InputHashes.Where(h => removal is null || h.GetMetadata("CacheFile").Contains($"{Path.DirectorySeparatorChar}{removal}{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(h => h.ItemSpec)];

    [Fact]
    public void An_unaffected_project_gets_no_items_and_a_model_less_project_none_either()
    {
        using var ws = Digits.Copy();
        var (task, engine, result) = Run(ws.PathOf("clinic-north"), "forget-3");
        Assert.True(result, engine.Log);
        Assert.Empty(task.AffectedCheckpoints);

        var (other, otherEngine, otherResult) = Run(ws.PathOf("data"));
        Assert.True(otherResult, otherEngine.Log);
        Assert.Empty(other.OwnedModels);
        Assert.Empty(other.AffectedCheckpoints);
    }

    [Fact]
    public void Removals_are_selected_by_id_or_path_and_an_unknown_one_is_FUL2006()
    {
        using var ws = Digits.Copy();
        var (byPath, engine, result) = Run(ws.PathOf("digits-federated"), "../forget-clinic-8.removal.json");
        Assert.True(result, engine.Log);
        Assert.Equal(["forget-clinic-8"], byPath.AffectedCheckpoints.Select(i => i.GetMetadata("RemovalId")));

        var (_, bad, badResult) = Run(ws.PathOf("digits-federated"), "forget-4");
        Assert.False(badResult);
        var unknown = Assert.Single(bad.Errors);
        Assert.Equal(("FUL2006", "test.proj"), (unknown.Code, unknown.File)); // the project that names it
    }

    [Fact]
    public void A_bad_manifest_of_the_project_is_an_error_with_its_code_file_and_line()
    {
        using var ws = Digits.Copy();
        var manifest = ws.PathOf("digits-plus-5/digits-plus-5.lineage.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"finetune\"", "\"fine-tune\"", StringComparison.Ordinal));

        var (task, engine, result) = Run(ws.PathOf("digits-plus-5"));

        Assert.False(result);
        var error = Assert.Single(engine.Errors, e => e.Code == "FUL1011");
        Assert.Equal(manifest, error.File);
        Assert.True(error.LineNumber > 0 && error.ColumnNumber > 0, engine.Log);
        Assert.Empty(task.AffectedCheckpoints);

        // Another project reports it once as FUL3010, not as its own error.
        var (_, other, otherResult) = Run(ws.PathOf("digits-base"));
        Assert.False(otherResult);
        Assert.Equal("FUL3010", Assert.Single(other.Errors).Code);
    }

    [Theory]
    [InlineData("5000", null, "UnlearnThreads")]
    [InlineData("abc", null, "UnlearnThreads")]
    [InlineData(null, "2000", "UnlearnParallelism")]
    [InlineData(null, "-4", "UnlearnParallelism")]
    [InlineData(null, "1025", "UnlearnParallelism")]
    public void Threads_or_parallelism_out_of_1_to_1024_is_FUL3015_naming_the_property(string? threads, string? parallelism, string property)
    {
        using var ws = Digits.Copy();
        var engine = new RecordingBuildEngine();
        var task = new UnlearnPlan { BuildEngine = engine, ProjectDirectory = ws.PathOf("digits-base"), Threads = threads, Parallelism = parallelism };

        Assert.False(task.Execute());
        var error = Assert.Single(engine.Errors);
        Assert.Equal(("FUL3015", "test.proj"), (error.Code, error.File));
        Assert.Contains($"'{property}' is '{threads ?? parallelism}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("from 1 to 1024", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1", "1024")]
    [InlineData(" 8 ", "")]
    [InlineData("0", "0")]
    public void Threads_and_parallelism_in_range_or_empty_are_taken(string threads, string parallelism)
    {
        using var ws = Digits.Copy();
        var engine = new RecordingBuildEngine();
        var task = new UnlearnPlan { BuildEngine = engine, ProjectDirectory = ws.PathOf("digits-base"), Threads = threads, Parallelism = parallelism };

        Assert.True(task.Execute());
        Assert.Empty(engine.Errors);
        Assert.Equal(int.Parse(threads.Trim(), System.Globalization.CultureInfo.InvariantCulture), task.ResolvedThreads); // 0: automatic (no threads in unlearn.json)
    }

    [Fact]
    public void A_workspace_that_does_not_exist_is_FUL3004_naming_the_UnlearnWorkspace_property()
    {
        using var ws = Digits.Copy();
        var engine = new RecordingBuildEngine();
        var task = new UnlearnPlan { BuildEngine = engine, ProjectDirectory = ws.PathOf("digits-base"), Workspace = ws.PathOf("nonexistent") };

        Assert.False(task.Execute());
        var error = Assert.Single(engine.Errors);
        Assert.Equal("FUL3004", error.Code);
        Assert.Equal("test.proj", error.File); // the project, not the package's targets file
        Assert.Contains(ws.PathOf("nonexistent"), error.Message, StringComparison.Ordinal);
        Assert.Contains("UnlearnWorkspace", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--workspace", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_workspace_is_the_nearest_unlearn_json_else_the_repository_root_else_the_project()
    {
        using var ws = new TempWorkspace();
        ws.CreateDirectory("repo/.git");
        ws.CreateDirectory("repo/a/b");
        Assert.Equal(ws.PathOf("repo"), WorkspaceLocator.Find(ws.PathOf("repo/a/b")));
        ws.Write("repo/a/unlearn.json", "{}");
        Assert.Equal(ws.PathOf("repo/a"), WorkspaceLocator.Find(ws.PathOf("repo/a/b")));

        using var bare = new TempWorkspace();
        bare.CreateDirectory("p");
        var found = WorkspaceLocator.Find(bare.PathOf("p"));
        Assert.True(found == bare.PathOf("p") || !found.StartsWith(bare.Root, StringComparison.Ordinal), found);
    }

    [Fact]
    public void An_affected_model_no_project_holds_is_one_warning_at_its_manifest_not_a_silent_gap()
    {
        using var ws = Digits.Copy();
        ws.Write("external/orphan.lineage.json", """
            {
              "schemaVersion": 1,
              "id": "orphan",
              "checkpoint": "bin/orphan.safetensors",
              "architecture": { "kind": "mlp", "inputs": 784, "hidden": [256, 128], "classes": 10 },
              "parents": [ { "id": "digits-base", "relation": "finetune" } ],
              "data": [ { "dataset": "mnist", "labels": [0, 1] } ]
            }
            """);

        // The first project of the workspace (by folder) that holds models says it, once per removal that affects it...
        var (_, first, firstResult) = Run(ws.PathOf("clinic-north"));
        var (_, other, otherResult) = Run(ws.PathOf("digits-base"));

        Assert.True(firstResult, first.Log);
        var warnings = first.Warnings.Where(w => w.Code == "FUL3016").ToList();
        Assert.Equal(["forget-3"], warnings.Select(w => w.Message!.Split('\'')[3]).Distinct());
        Assert.All(warnings, w =>
        {
            Assert.Equal(ws.PathOf("external/orphan.lineage.json"), w.File);
            Assert.Equal(3, w.LineNumber);
            Assert.Contains("Model 'orphan' is affected by 'forget-3', but no project folder holds its lineage manifest", w.Message, StringComparison.Ordinal);
        });
        // ...and the others do not repeat it.
        Assert.True(otherResult, other.Log);
        Assert.DoesNotContain(other.Warnings, w => w.Code == "FUL3016");
    }

    [Fact]
    public void Manifests_of_a_nested_project_belong_to_that_project()
    {
        using var ws = new TempWorkspace();
        ws.Write("outer.csproj", "<Project />");
        ws.Write("a/a.csproj", "<Project />");
        ws.Write("a/a.lineage.json", "{}");
        ws.Write("b/deep/b.lineage.json", "{}");
        Assert.False(ProjectPlanner.IsOwnedBy(ws.PathOf("a/a.lineage.json"), ws.Root));
        Assert.True(ProjectPlanner.IsOwnedBy(ws.PathOf("a/a.lineage.json"), ws.PathOf("a")));
        Assert.True(ProjectPlanner.IsOwnedBy(ws.PathOf("b/deep/b.lineage.json"), ws.Root));
        Assert.False(ProjectPlanner.IsOwnedBy(ws.PathOf("b/deep/b.lineage.json"), ws.PathOf("a")));
    }
}
