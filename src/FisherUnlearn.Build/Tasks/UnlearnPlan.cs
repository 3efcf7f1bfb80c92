using System.Globalization;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace FisherUnlearn.Build.Tasks;

/// <summary>
/// Finds the models of this project (lineage manifests in its folder tree) that the removal requests affect, and returns
/// one <c>UnlearnAffectedCheckpoint</c> item per (model, removal). Reads manifests only: never runs the tool.
/// </summary>
public sealed class UnlearnPlan : ProjectTask, IIncrementalTask
{
    /// <summary>Set by MSBuild under <c>-question</c> only: then the file hashes computed here are not written to the
    /// workspace's hash store (question mode writes nothing).</summary>
    public bool FailIfNotIncremental { get; set; }

    /// <summary>Absolute folder of the project (<c>$(MSBuildProjectDirectory)</c>).</summary>
    [Required]
    public string ProjectDirectory { get; set; } = string.Empty;

    /// <summary>The workspace root (<c>$(UnlearnWorkspace)</c>); empty: nearest unlearn.json, else repository root, else the project folder.</summary>
    public string? Workspace { get; set; }

    /// <summary>Removal requests (<c>@(UnlearnRemoval)</c>): ids or .removal.json paths. Empty: all of the workspace.</summary>
    public ITaskItem[] Removals { get; set; } = [];

    /// <summary>Output root (<c>$(UnlearnOutputPath)</c>); empty: the workspace's <c>output</c> setting.</summary>
    public string? OutputPath { get; set; }

    /// <summary>Folder of the per-pair input-hash caches (<c>$(IntermediateOutputPath)unlearn/</c>); empty: <c>obj/unlearn/</c>
    /// under the project. Each (removal, model) has <c>out-&lt;key&gt;/&lt;removal&gt;/&lt;model&gt;.inputs.cache</c> there
    /// (<see cref="OutputKey"/>: one folder per output folder and method).</summary>
    public string? CacheDirectory { get; set; }

    /// <summary><c>UnlearnMethod</c>: the method whose outputs count as up to date (empty: the removal's, else
    /// <c>unlearn.json</c>'s, else fiun).</summary>
    public string? Method { get; set; }

    /// <summary><c>$(UnlearnParallelism)</c>: tool processes this project runs at once; empty or not a positive number:
    /// <c>parallelism</c> of the workspace's unlearn.json, else 1 (see <see cref="ResolvedParallelism"/>).</summary>
    public string? Parallelism { get; set; }

    /// <summary><c>$(UnlearnThreads)</c>: libtorch threads per tool process; empty, 0 or not a positive number:
    /// <c>threads</c> of the workspace's unlearn.json, else 0 (see <see cref="ResolvedThreads"/>).</summary>
    public string? Threads { get; set; }

    /// <summary>One item per (model, removal); the item spec is the model's checkpoint. Metadata: ModelId, RemovalId, Role,
    /// Checkpoint, OutputPath (the unlearned checkpoint), Manifest, ManifestLine, ManifestColumn (where the model's id is
    /// written), RemovalManifest, UpstreamRoots, InputsCache (the pair's input-hash cache file).</summary>
    [Output]
    public ITaskItem[] AffectedCheckpoints { get; private set; } = [];

    /// <summary>One item per (input file, model, removal), for the Unlearn target's 1:1 Inputs/Outputs: the item spec is
    /// the input file, metadata OutputPath, ModelId, RemovalId, Manifest, ManifestLine, ManifestColumn, InputsCache. The
    /// pair's input-hash cache file is one of its inputs, so a change it records reruns that pair only.</summary>
    [Output]
    public ITaskItem[] Inputs { get; private set; } = [];

    /// <summary>The bodies of the pairs' input-hash caches: one item per line (the item spec), metadata CacheFile.</summary>
    [Output]
    public ITaskItem[] InputHashes { get; private set; } = [];

    /// <summary>The models this project owns (their lineage manifests are in its folder tree).</summary>
    [Output]
    public string[] OwnedModels { get; private set; } = [];

    [Output]
    public string ResolvedWorkspace { get; private set; } = string.Empty;

    [Output]
    public string ResolvedOutputPath { get; private set; } = string.Empty;

    /// <summary><see cref="Parallelism"/> when it is a positive number, else unlearn.json's <c>parallelism</c>, else 1.</summary>
    [Output]
    public int ResolvedParallelism { get; private set; } = 1;

    /// <summary><see cref="Threads"/> when it is a positive number, else unlearn.json's <c>threads</c>, else 0: the
    /// UnlearnRun task then takes the cores MSBuild grants it (<see cref="CoreAllocation"/>).</summary>
    [Output]
    public int ResolvedThreads { get; private set; }

    // The value of a concurrency property: null when empty or 0 (the targets' default for UnlearnThreads: unlearn.json's
    // setting, else automatic), else a number in 1..limit, or an error logged (FUL3015) and null.
    private int? Bounded(string? value, string property, int limit, string setting)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (int.TryParse(value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number >= 0 && number <= limit)
        {
            return number == 0 ? null : number;
        }

        Log.Log(DiagnosticCatalogue.BuildPropertyOutOfRange, ProjectForDiagnostics, property, value, limit, setting);
        return null;
    }

    public override bool Execute()
    {
        ProjectPlan plan;
        try
        {
            plan = ProjectPlanner.Plan(new ProjectPlanRequest
            {
                ProjectDirectory = ProjectDirectory,
                Workspace = Workspace,
                Removals = [.. Removals.Select(r => r.ItemSpec)],
                OutputPath = OutputPath,
                KeepFileHashes = !FailIfNotIncremental,
                Method = Method,
            });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.Log(DiagnosticCatalogue.UnreadableFile, ProjectForDiagnostics, ex.Message);
            return false;
        }

        foreach (var diagnostic in plan.Diagnostics)
        {
            // One without a place of its own (an unknown removal, a workspace folder that does not exist) is the
            // project's: without a file MSBuild would point at the package's targets file.
            Log.Log(diagnostic.Location.File.Length == 0 && ProjectForDiagnostics is { Length: > 0 } project
                ? diagnostic with { Location = new SourceLocation(project) }
                : diagnostic);
        }

        ResolvedWorkspace = plan.Workspace;
        ResolvedOutputPath = plan.OutputRoot;
        OwnedModels = [.. plan.OwnedModels];
        // As the tool's --parallel and --threads: a value out of 1..1024 (or not a number) is an error here, at the
        // build, not a silent fallback (nothing to do) or the tool's usage error without a place (something to do).
        var explicitParallelism = Bounded(Parallelism, "UnlearnParallelism", WorkspaceSettings.ParallelismLimit, "parallelism");
        var explicitThreads = Bounded(Threads, "UnlearnThreads", WorkspaceSettings.ThreadsLimit, "threads");
        if (!string.IsNullOrWhiteSpace(Method) && !RemovalManifest.Methods.Contains(Method.Trim().ToLowerInvariant()))
        {
            // As the tool's --method, but once, at the project, before any tool process starts (QA: every pair's run failed
            // with the tool's usage error, seven times over a solution).
            Log.Log(DiagnosticCatalogue.BuildPropertyNotAMethod, ProjectForDiagnostics, Method, string.Join(", ", RemovalManifest.Methods),
                EditDistance.DidYouMean(Method.Trim(), RemovalManifest.Methods));
        }

        ResolvedParallelism = explicitParallelism ?? Math.Max(1, plan.SettingsParallelism ?? 1);
        ResolvedThreads = explicitThreads ?? Math.Max(0, plan.SettingsThreads ?? 0);
        if (plan.HasErrors || Log.HasLoggedErrors)
        {
            return false;
        }

        var cacheDirectory = string.IsNullOrWhiteSpace(CacheDirectory)
            ? Path.Combine(ProjectDirectory, "obj", "unlearn")
            : Path.GetFullPath(Path.Combine(ProjectDirectory, CacheDirectory));
        // One set of caches per output folder and method: a build to another UnlearnOutputPath rewrote every pair's cache
        // (its "out=" line), so switching back reran every pair though both folders were up to date (QA).
        var outputKey = OutputKey(plan.OutputRoot, Method);
        string CacheOf(PlannedCheckpoint c) => Path.Combine(cacheDirectory, outputKey, c.RemovalId, c.ModelId + ".inputs.cache");
        AffectedCheckpoints = [.. plan.Checkpoints.Select(c => (ITaskItem)new TaskItem(c.Checkpoint, new Dictionary<string, string>
        {
            ["ModelId"] = c.ModelId,
            ["RemovalId"] = c.RemovalId,
            ["Role"] = c.Role.ToString().ToLowerInvariant(),
            ["Checkpoint"] = c.Checkpoint,
            ["OutputPath"] = c.OutputPath,
            ["Manifest"] = c.Manifest,
            ["ManifestLine"] = c.ManifestLocation.Line.ToString(CultureInfo.InvariantCulture),
            ["ManifestColumn"] = c.ManifestLocation.Column.ToString(CultureInfo.InvariantCulture),
            ["RemovalManifest"] = c.RemovalManifest,
            ["UpstreamRoots"] = string.Join(';', c.UpstreamRoots),
            ["InputsCache"] = CacheOf(c),
        }))];
        Inputs = [.. plan.Checkpoints.SelectMany(c => c.InputFiles.Append(CacheOf(c)).Select(file => (ITaskItem)new TaskItem(file, new Dictionary<string, string>
        {
            ["ModelId"] = c.ModelId,
            ["RemovalId"] = c.RemovalId,
            ["OutputPath"] = c.OutputPath,
            ["Manifest"] = c.Manifest,
            ["ManifestLine"] = c.ManifestLocation.Line.ToString(CultureInfo.InvariantCulture),
            ["ManifestColumn"] = c.ManifestLocation.Column.ToString(CultureInfo.InvariantCulture),
            ["InputsCache"] = CacheOf(c),
            ["Uncertified"] = c.Uncertified ?? string.Empty,
        })))];
        foreach (var c in plan.Checkpoints.Where(c => c.Uncertified is not null))
        {
            // An output the tool did not make for this request must be made again, though no input changed: the pair's
            // cache, one of its inputs, is made newer than it (its content stays, so once the tool has remade the output
            // the pair is up to date again). Under -question nothing is written: CheckUnlearnOutputs names it.
            Log.LogMessage(MessageImportance.High, "Unlearn: {0} is out of date: {1}.", c.OutputPath, c.Uncertified);
            if (!FailIfNotIncremental && File.Exists(CacheOf(c)))
            {
                File.SetLastWriteTimeUtc(CacheOf(c), DateTime.UtcNow);
            }
        }

        InputHashes = [.. plan.Checkpoints.SelectMany(c => c.HashLines.Select(line => (ITaskItem)new TaskItem(line, new Dictionary<string, string> { ["CacheFile"] = CacheOf(c) })))];
        Log.LogMessage(MessageImportance.Normal, "UnlearnPlan: workspace '{0}'; models of this project: {1}; affected: {2}.",
            plan.Workspace,
            plan.OwnedModels.Count == 0 ? "none" : string.Join(", ", plan.OwnedModels),
            plan.Checkpoints.Count == 0 ? "none" : string.Join(", ", plan.Checkpoints.Select(c => $"{c.ModelId} ({c.RemovalId})")));
        return true;
    }

    /// <summary>The folder, under the cache directory, of the input-hash caches of the pairs written to
    /// <paramref name="outputRoot"/> with <paramref name="method"/>: "out-" and 8 hex digits of their SHA-256.</summary>
    internal static string OutputKey(string outputRoot, string? method)
    {
        var bytes = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputRoot))}\n{method?.Trim() ?? string.Empty}"));
        return "out-" + Convert.ToHexStringLower(bytes.AsSpan(0, 4));
    }
}
