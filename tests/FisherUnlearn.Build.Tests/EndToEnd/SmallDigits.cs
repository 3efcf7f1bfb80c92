using System.Text.RegularExpressions;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Build.Tests.EndToEnd;

/// <summary>
/// A small version of samples/digits, as a user's repository would hold it, below the fixture's <see cref="PackedBuildFixture.Home"/>:
/// <c>models/</c> with the sample's data, dataset, removals and unlearn.json, three NoTargets training projects with
/// tiny models (mlp hidden [16], 1 epoch: training and unlearning take well under a second each), a
/// Directory.Build.props with a plain <c>PackageReference</c> to the packed FisherUnlearn.Build, and Models.sln.
/// <list type="bullet">
/// <item><c>digits-base</c> (labels 0-4) and <c>clinic-north</c> (0, 1, 2, 8, 9): roots;</item>
/// <item><c>digits-federated</c>: aggregates both.</item>
/// </list>
/// So <c>forget-3</c> affects digits-base and digits-federated, <c>forget-clinic-8</c> clinic-north and digits-federated:
/// four (model, removal) pairs, one output each under <c>models/artifacts/unlearn/&lt;removal&gt;/</c>.
/// </summary>
internal sealed partial class SmallDigits
{
    public static readonly string[] Projects = ["digits-base", "clinic-north", "digits-federated"];

    private readonly PackedBuildFixture _fixture;

    private SmallDigits(PackedBuildFixture fixture, string root)
    {
        _fixture = fixture;
        Root = root;
    }

    /// <summary>The repository folder (holds dotnet-tools.json once <see cref="InstallToolAsync"/> ran).</summary>
    public string Root { get; }

    /// <summary>The workspace (unlearn.json) and solution folder.</summary>
    public string Models => Path.Combine(Root, "models");

    public string Solution => Path.Combine(Models, "Models.sln");

    public static async Task<SmallDigits> CreateAsync(PackedBuildFixture fixture, CancellationToken cancellationToken)
    {
        var root = Directory.CreateDirectory(Path.Combine(fixture.Home, $"repo-{Guid.NewGuid():N}")).FullName;
        var ws = new SmallDigits(fixture, root);
        var sample = Path.Combine(RepositoryPacker.RepositoryRoot, "samples", "digits");
        Directory.CreateDirectory(Path.Combine(ws.Models, "data"));
        foreach (var file in Directory.EnumerateFiles(Path.Combine(sample, "data"), "*.gz"))
        {
            File.Copy(file, Path.Combine(ws.Models, "data", Path.GetFileName(file)));
        }

        foreach (var file in new[] { "unlearn.json", "mnist.dataset.json", "forget-3.removal.json", "forget-clinic-8.removal.json" })
        {
            File.Copy(Path.Combine(sample, file), Path.Combine(ws.Models, file));
        }

        await File.WriteAllTextAsync(Path.Combine(ws.Models, "Directory.Build.props"), $"""
            <Project>
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{PackedBuildFixture.BuildPackageId}" Version="{fixture.Version}" PrivateAssets="all" />
              </ItemGroup>
            </Project>
            """, cancellationToken);
        foreach (var project in Projects)
        {
            var folder = Directory.CreateDirectory(Path.Combine(ws.Models, project)).FullName;
            File.Copy(Path.Combine(sample, project, project + ".csproj"), Path.Combine(folder, project + ".csproj"));
            await File.WriteAllTextAsync(Path.Combine(folder, project + ".lineage.json"), Lineage(project), cancellationToken);
        }

        await ws.DotnetCheckedAsync(ws.Models, ["new", "sln", "-n", "Models", "--format", "sln"], cancellationToken);
        await ws.DotnetCheckedAsync(ws.Models, ["sln", "Models.sln", "add", .. Projects.Select(p => $"{p}/{p}.csproj")], cancellationToken);
        return ws;
    }

    /// <summary><c>dotnet new tool-manifest</c> and <c>dotnet tool install --local FisherUnlearn.Tool</c> from the feed, in <see cref="Root"/>.</summary>
    public async Task InstallToolAsync(CancellationToken cancellationToken)
    {
        await DotnetCheckedAsync(Root, ["new", "tool-manifest"], cancellationToken);
        await DotnetCheckedAsync(Root, ["tool", "install", "--local", PackedBuildFixture.ToolPackageId, "--version", _fixture.Version,
            "--add-source", _fixture.Feed], cancellationToken);
    }

    /// <summary>The project's <c>unlearn.outputs.txt</c> (under its IntermediateOutputPath, obj/Debug/net10.0/).</summary>
    public IReadOnlyList<string> OutputLists(string project)
    {
        var obj = Path.Combine(Models, project, "obj");
        return Directory.Exists(obj) ? [.. Directory.EnumerateFiles(obj, "unlearn.outputs.txt", SearchOption.AllDirectories)] : [];
    }

    public string LineagePath(string project) => Path.Combine(Models, project, project + ".lineage.json");

    public string Checkpoint(string model) => Path.Combine(Models, model, "bin", model + ".safetensors");

    public string Output(string removal, string model) => Path.Combine(Models, "artifacts", "unlearn", removal, model + ".safetensors");

    /// <summary>The four outputs, (removal, model) in ordinal order.</summary>
    public IReadOnlyList<(string Removal, string Model)> Pairs { get; } =
        [("forget-3", "digits-base"), ("forget-3", "digits-federated"), ("forget-clinic-8", "clinic-north"), ("forget-clinic-8", "digits-federated")];

    public IReadOnlyDictionary<(string Removal, string Model), DateTime> OutputTimes() =>
        Pairs.ToDictionary(p => p, p => File.Exists(Output(p.Removal, p.Model)) ? File.GetLastWriteTimeUtc(Output(p.Removal, p.Model)) : DateTime.MinValue);

    public Task<CliResult> DotnetAsync(string directory, IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        DotnetCli.RunAsync(directory, arguments, _fixture.Environment, TimeSpan.FromMinutes(5), cancellationToken);

    public Task<CliResult> DotnetCheckedAsync(string directory, IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        DotnetCli.RunCheckedAsync(directory, arguments, _fixture.Environment, TimeSpan.FromMinutes(5), cancellationToken);

    /// <summary><c>dotnet build Models.sln -t:&lt;target&gt; -m -v:n</c> plus <paramref name="extra"/>.</summary>
    public Task<CliResult> BuildAsync(string target, CancellationToken cancellationToken, params string[] extra) =>
        BuildAsync(target, new Dictionary<string, string?>(), cancellationToken, extra);

    /// <summary>The same with more environment variables (e.g. GitHub Actions').</summary>
    public Task<CliResult> BuildAsync(string target, IReadOnlyDictionary<string, string?> environment, CancellationToken cancellationToken, params string[] extra) =>
        DotnetCli.RunAsync(Models, ["build", Solution, $"-t:{target}", "-m", "-v:n", "-tl:off", "-nodeReuse:false", .. extra],
            _fixture.Environment.Concat(environment).ToDictionary(), TimeSpan.FromMinutes(5), cancellationToken);

    /// <summary>The (model, removal) pairs the log says the Unlearn target ran the tool for (UnlearnRun's
    /// "Unlearn: &lt;model&gt; for '&lt;removal&gt;' -&gt; ..." lines), in ordinal order.</summary>
    public static IReadOnlyList<(string Removal, string Model)> ToolRuns(string log) =>
        [.. ToolRunLine().Matches(log).Select(m => (m.Groups["removal"].Value, m.Groups["model"].Value)).Distinct().Order()];

    public static int Count(string text, string what)
    {
        var count = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static string Lineage(string project) => project switch
    {
        "digits-base" => Model("digits-base", "[0, 1, 2, 3, 4]", seed: 1),
        "clinic-north" => Model("clinic-north", "[0, 1, 2, 8, 9]", seed: 5),
        _ => """
            {
              "schemaVersion": 1,
              "id": "digits-federated",
              "checkpoint": "bin/digits-federated.safetensors",
              "architecture": { "kind": "mlp", "inputs": 784, "hidden": [16], "classes": 10 },
              "parents": [
                { "id": "digits-base", "relation": "aggregate" },
                { "id": "clinic-north", "relation": "aggregate" }
              ],
              "data": [ { "dataset": "mnist", "labels": [0, 1, 2, 4, 5, 6, 8, 9] } ],
              "training": { "epochs": 1, "batchSize": 64, "optimizer": "adam", "learningRate": 0.0005, "seed": 6 }
            }
            """,
    };

    private static string Model(string id, string labels, int seed) => $$"""
        {
          "schemaVersion": 1,
          "id": "{{id}}",
          "checkpoint": "bin/{{id}}.safetensors",
          "architecture": { "kind": "mlp", "inputs": 784, "hidden": [16], "classes": 10 },
          "data": [ { "dataset": "mnist", "labels": {{labels}} } ],
          "training": { "epochs": 1, "batchSize": 64, "optimizer": "adam", "learningRate": 0.001, "seed": {{seed}} }
        }
        """;

    [GeneratedRegex(@"Unlearn: (?<model>[\w.-]+) for '(?<removal>[\w.-]+)' ->", RegexOptions.CultureInvariant)]
    private static partial Regex ToolRunLine();
}
