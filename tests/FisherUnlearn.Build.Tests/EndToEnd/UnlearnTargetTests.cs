using System.Text.RegularExpressions;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Build.Tests.EndToEnd;

/// <summary>
/// Black-box tests of the packed FisherUnlearn.Build: a user's repository (<see cref="SmallDigits"/>) references the
/// package from a feed, installs the packed tool as a local tool, trains with <c>dotnet unlearn train</c> and runs real
/// <c>dotnet build</c> processes. Only this layer catches a wrong <c>tools/</c> path, a missing deps.json, a broken
/// buildTransitive import or a tool the targets cannot start. The packs run once (<see cref="PackedBuildFixture"/>, about
/// a minute); the whole class takes about two. Filter with <c>--filter-not-trait "Category=EndToEnd"</c>.
/// </summary>
[Collection(PackedBuildCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed partial class UnlearnTargetTests(PackedBuildFixture fixture)
{
    private const string SkippedUnlearn = "Skipping target \"Unlearn\" because all output files are up-to-date";

    /// <summary>The incremental story, in order, on one trained workspace: first build (solution, -m) writes every output;
    /// the second skips the target in every project; -question passes; replacing clinic-north's checkpoint makes -question
    /// fail with FUL3012 at the lineage manifests of clinic-north and digits-federated and writes nothing; the next build
    /// reruns exactly (clinic-north, forget-clinic-8), (digits-federated, forget-clinic-8) and (digits-federated, forget-3):
    /// forget-3 does not affect clinic-north, but clinic-north is an ancestor of digits-federated, so the tool's job key of
    /// that pair changed too, and the build and 'dotnet unlearn plan --check' agree that everything is up to date after it;
    /// clean deletes the outputs (not the trained checkpoints), after which -question fails again.</summary>
    [Fact(Timeout = 10 * 60 * 1000)]
    public async Task Unlearn_builds_every_output_then_only_what_a_touched_checkpoint_affects_and_clean_removes_them()
    {
        Assert.SkipUnless(PackedBuildFixture.Supported, $"the tool is packed for {PackedBuildFixture.ToolRid} only");
        var ct = TestContext.Current.CancellationToken;
        var ws = await SmallDigits.CreateAsync(fixture, ct);
        await ws.InstallToolAsync(ct);
        var train = await ws.DotnetCheckedAsync(ws.Models, ["unlearn", "train"], ct);
        Assert.All(SmallDigits.Projects, p => Assert.True(File.Exists(ws.Checkpoint(p)), train.ToString()));
        Log($"pack {fixture.PackTime.TotalSeconds:F0} s; train {train.Duration.TotalSeconds:F1} s");

        // 1. The first build: every pair runs once, each project through the local tool. As in GitHub Actions: the step
        // summary gets one report per removal (not one per tool process), and the step outputs one set per removal.
        var summary = Path.Combine(ws.Root, "step-summary.md");
        var outputs = Path.Combine(ws.Root, "step-outputs.txt");
        var actions = new Dictionary<string, string?> { ["GITHUB_ACTIONS"] = "true", ["GITHUB_STEP_SUMMARY"] = summary, ["GITHUB_OUTPUT"] = outputs };
        var first = await ws.BuildAsync("Unlearn", actions, ct);
        Assert.True(first.ExitCode == 0, first.ToString());
        var published = File.ReadAllText(summary);
        Assert.Equal(1, SmallDigits.Count(published, "# Removal `forget-3`"));
        Assert.Equal(1, SmallDigits.Count(published, "# Removal `forget-clinic-8`"));
        Assert.Equal(["removal=forget-3", "removal=forget-clinic-8"], File.ReadAllLines(outputs).Where(l => l.StartsWith("removal=", StringComparison.Ordinal)).Order());
        Assert.Equal(ws.Pairs.Order(), SmallDigits.ToolRuns(first.Output));
        // The per-model runs get no GitHub variables: no annotations MSBuild would misread, no "could not write" noise.
        Assert.DoesNotContain("could not write the step summary", first.Output, StringComparison.Ordinal);
        Assert.All(ws.Pairs, p => Assert.True(File.Exists(ws.Output(p.Removal, p.Model)), $"{p} missing\n{first}"));
        Assert.All(SmallDigits.Projects, p => Assert.Single(ws.OutputLists(p)));
        // Under -m the projects share the cores: each tool process got --threads from the cores MSBuild granted its task.
        var threads = ToolThreads().Matches(first.Output).Select(m => int.Parse(m.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(ws.Pairs.Count, threads.Count);
        Assert.All(threads, t => Assert.InRange(t, 1, Environment.ProcessorCount));
        Log($"first build {first.Duration.TotalSeconds:F1} s");
        var written = ws.OutputTimes();

        // 2. Nothing changed: every project skips the target, nothing is rewritten.
        var second = await ws.BuildAsync("Unlearn", ct);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(SmallDigits.Projects.Length, SmallDigits.Count(second.Output, SkippedUnlearn));
        Assert.Empty(SmallDigits.ToolRuns(second.Output));
        Assert.Equal(written, ws.OutputTimes());
        Log($"second build {second.Duration.TotalSeconds:F1} s");

        // 3. -question passes while everything is up to date.
        var upToDate = await ws.BuildAsync("Unlearn", ct, "-question");
        Assert.True(upToDate.ExitCode == 0, upToDate.ToString());

        // 4. A replaced parent checkpoint (a valid one of the same architecture, new content): -question fails, naming each
        // stale output at its model's lineage manifest, including digits-federated's for forget-3, which does not affect
        // clinic-north but whose job key hashes every ancestor's checkpoint.
        File.Copy(ws.Checkpoint("digits-base"), ws.Checkpoint("clinic-north"), overwrite: true);
        File.SetLastWriteTimeUtc(ws.Checkpoint("clinic-north"), DateTime.UtcNow);
        var stale = await ws.BuildAsync("Unlearn", ct, "-question");
        Assert.True(stale.ExitCode != 0, stale.ToString());
        var errors = Ful3012().Matches(stale.Output).Select(m => (m.Groups["file"].Value, m.Groups["line"].Value, m.Groups["output"].Value)).Distinct().Order().ToList();
        Assert.Equal(
            [
                (ws.LineagePath("clinic-north"), "3", ws.Output("forget-clinic-8", "clinic-north")),
                (ws.LineagePath("digits-federated"), "3", ws.Output("forget-3", "digits-federated")),
                (ws.LineagePath("digits-federated"), "3", ws.Output("forget-clinic-8", "digits-federated")),
            ],
            errors);
        Assert.DoesNotContain("FisherUnlearn.Build.targets(", stale.Output, StringComparison.Ordinal);
        Assert.Empty(SmallDigits.ToolRuns(stale.Output));
        Assert.Equal(written, ws.OutputTimes());

        // 5. The build reruns exactly the pairs whose inputs include that checkpoint.
        var partial = await ws.BuildAsync("Unlearn", ct);
        Assert.True(partial.ExitCode == 0, partial.ToString());
        (string, string)[] reran = [("forget-3", "digits-federated"), ("forget-clinic-8", "clinic-north"), ("forget-clinic-8", "digits-federated")];
        Assert.Equal(reran, SmallDigits.ToolRuns(partial.Output));
        Assert.Equal(1, SmallDigits.Count(partial.Output, SkippedUnlearn)); // digits-base
        var rewritten = ws.OutputTimes();
        Assert.Equal(reran, ws.Pairs.Where(p => rewritten[p] != written[p]).Order());
        Log($"after replacing clinic-north {partial.Duration.TotalSeconds:F1} s");

        // The build and the tool agree: nothing is stale for either.
        var againUpToDate = await ws.BuildAsync("Unlearn", ct, "-question");
        Assert.True(againUpToDate.ExitCode == 0, againUpToDate.ToString());
        foreach (var removal in new[] { "forget-3", "forget-clinic-8" })
        {
            var check = await ws.DotnetAsync(ws.Models, ["unlearn", "plan", removal, "--check"], ct);
            Assert.True(check.ExitCode == 0, check.ToString());
        }

        // 5b. A removal's reason is no input of any output: editing it leaves -question passing (as 'plan --check') and the
        // build skipping every project. An edit of what it asks (a parameter) starts the tool for its own pairs only.
        var removalPath = Path.Combine(ws.Models, "forget-clinic-8.removal.json");
        var removalText = await File.ReadAllTextAsync(removalPath, ct);
        await File.WriteAllTextAsync(removalPath, removalText.Replace("\"reason\": \"", "\"reason\": \"Ticket T-8. ", StringComparison.Ordinal), ct);
        var reasonQuestion = await ws.BuildAsync("Unlearn", ct, "-question");
        Assert.True(reasonQuestion.ExitCode == 0, reasonQuestion.ToString());
        var reasonBuild = await ws.BuildAsync("Unlearn", ct);
        Assert.True(reasonBuild.ExitCode == 0, reasonBuild.ToString());
        Assert.Empty(SmallDigits.ToolRuns(reasonBuild.Output));
        Assert.Equal(SmallDigits.Projects.Length, SmallDigits.Count(reasonBuild.Output, SkippedUnlearn));
        await File.WriteAllTextAsync(removalPath, removalText.Replace("\"schemaVersion\"", "\"parameters\": { \"seed\": 5 }, \"schemaVersion\"", StringComparison.Ordinal), ct);
        var edited = await ws.BuildAsync("Unlearn", ct);
        Assert.True(edited.ExitCode == 0, edited.ToString());
        Assert.Equal([.. ws.Pairs.Where(p => p.Removal == "forget-clinic-8")], SmallDigits.ToolRuns(edited.Output));
        Assert.Equal(rewritten.Where(t => t.Key.Removal == "forget-3"), ws.OutputTimes().Where(t => t.Key.Removal == "forget-3"));

        // 5c. An output the tool did not make for this request (here a copy of the original checkpoint, its time newer than
        // every input): the build agrees with 'plan --check' that it is stale, remakes that pair only, then skips again.
        var foreign = ws.Pairs.First(p => p.Removal == "forget-3");
        File.Copy(ws.Checkpoint(foreign.Model), ws.Output(foreign.Removal, foreign.Model), overwrite: true);
        var foreignQuestion = await ws.BuildAsync("Unlearn", ct, "-question");
        Assert.True(foreignQuestion.ExitCode != 0, foreignQuestion.ToString());
        Assert.Contains("its content is not what its job record says 'dotnet unlearn run' wrote", foreignQuestion.Output, StringComparison.Ordinal);
        var remade = await ws.BuildAsync("Unlearn", ct);
        Assert.True(remade.ExitCode == 0, remade.ToString());
        Assert.Equal([foreign], SmallDigits.ToolRuns(remade.Output));
        Assert.NotEqual(await File.ReadAllBytesAsync(ws.Checkpoint(foreign.Model), ct), await File.ReadAllBytesAsync(ws.Output(foreign.Removal, foreign.Model), ct));
        var settled = await ws.BuildAsync("Unlearn", ct);
        Assert.True(settled.ExitCode == 0, settled.ToString());
        Assert.Empty(SmallDigits.ToolRuns(settled.Output));

        // 5d. Another output folder has input-hash caches of its own: once both folders are up to date, switching between
        // them starts no tool (QA: every pair ran again at each switch, each run finding its output up to date).
        var alternative = "-p:UnlearnOutputPath=" + Path.Combine(ws.Models, "artifacts", "alt");
        var toAlternative = await ws.BuildAsync("Unlearn", ct, alternative);
        Assert.True(toAlternative.ExitCode == 0, toAlternative.ToString());
        Assert.Equal(ws.Pairs.Order(), SmallDigits.ToolRuns(toAlternative.Output));
        var backToDefault = await ws.BuildAsync("Unlearn", ct);
        Assert.True(backToDefault.ExitCode == 0, backToDefault.ToString());
        Assert.Empty(SmallDigits.ToolRuns(backToDefault.Output));
        var backToAlternative = await ws.BuildAsync("Unlearn", ct, alternative);
        Assert.True(backToAlternative.ExitCode == 0, backToAlternative.ToString());
        Assert.Empty(SmallDigits.ToolRuns(backToAlternative.Output));

        // 6. Clean deletes the outputs this project wrote (and its obj/ lists), never the trained checkpoints.
        var clean = await ws.DotnetAsync(ws.Models, ["clean", ws.Solution, "-tl:off", "-nodeReuse:false"], ct);
        Assert.True(clean.ExitCode == 0, clean.ToString());
        Assert.All(ws.Pairs, p => Assert.False(File.Exists(ws.Output(p.Removal, p.Model)), $"{p} still there\n{clean}"));
        Assert.All(SmallDigits.Projects, p => Assert.True(File.Exists(ws.Checkpoint(p))));
        Assert.All(SmallDigits.Projects, p => Assert.Empty(ws.OutputLists(p)));

        var afterClean = await ws.BuildAsync("Unlearn", ct, "-question");
        Assert.True(afterClean.ExitCode != 0, afterClean.ToString());
        Assert.Equal(ws.Pairs.Count, Ful3012().Matches(afterClean.Output).Select(m => m.Groups["output"].Value).Distinct().Count());
    }

    /// <summary>A manifest error fails the build with its FUL code at the manifest's file, line and column, in the canonical
    /// form (so editors and the csc problem matcher pick it up); the other projects report FUL3010 once each. With the
    /// manifest fixed and no tool installed, the projects with work fail with FUL3001 (run 'dotnet tool restore').</summary>
    [Fact(Timeout = 10 * 60 * 1000)]
    public async Task A_bad_manifest_fails_the_build_at_its_line_and_a_missing_tool_is_FUL3001()
    {
        Assert.SkipUnless(PackedBuildFixture.Supported, $"the tool is packed for {PackedBuildFixture.ToolRid} only");
        var ct = TestContext.Current.CancellationToken;
        var ws = await SmallDigits.CreateAsync(fixture, ct);
        var federated = ws.LineagePath("digits-federated");
        var good = await File.ReadAllTextAsync(federated, ct);
        var first = good.IndexOf("\"aggregate\"", StringComparison.Ordinal);
        await File.WriteAllTextAsync(federated, string.Concat(good.AsSpan(0, first), "\"aggregat\"", good.AsSpan(first + "\"aggregate\"".Length)), ct);

        var broken = await ws.BuildAsync("Unlearn", ct);
        Assert.True(broken.ExitCode != 0, broken.ToString());
        var column = good.Split('\n')[6].IndexOf("\"aggregate\"", StringComparison.Ordinal) + 1;
        Assert.Matches(
            $@"(?m)^\s*{Regex.Escape(federated)}\(7,{column}\): error FUL1011: .*aggregat.*\[{Regex.Escape(Path.Combine(ws.Models, "digits-federated", "digits-federated.csproj"))}\]",
            broken.Output);
        Assert.Contains("error FUL3010:", broken.Output, StringComparison.Ordinal);
        Assert.Empty(SmallDigits.ToolRuns(broken.Output));

        await File.WriteAllTextAsync(federated, good, ct);
        var noTool = await ws.BuildAsync("Unlearn", ct);
        Assert.True(noTool.ExitCode != 0, noTool.ToString());
        Assert.Contains("error FUL3001:", noTool.Output, StringComparison.Ordinal);
        Assert.Contains("dotnet tool restore", noTool.Output, StringComparison.Ordinal);
    }

    private static void Log(string message) => TestContext.Current.SendDiagnosticMessage(message);

    [GeneratedRegex(@"dotnet-unlearn\S* .*? run \S+ --only .* --threads (?<n>\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex ToolThreads();

    [GeneratedRegex(@"(?m)^\s*(?:\d+>)?(?<file>[^\s>]\S*)\((?<line>\d+),\d+\): error FUL3012: The unlearned checkpoint '(?<output>[^']+)'", RegexOptions.CultureInvariant)]
    private static partial Regex Ful3012();
}
