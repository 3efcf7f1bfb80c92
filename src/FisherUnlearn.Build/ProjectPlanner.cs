using System.Globalization;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Lineage.Text;

namespace FisherUnlearn.Build;

/// <summary>What <see cref="ProjectPlanner"/> plans for: one project of a workspace.</summary>
public sealed record ProjectPlanRequest
{
    /// <summary>Absolute folder of the project; the models it owns are the lineage manifests in this folder tree.</summary>
    public required string ProjectDirectory { get; init; }

    /// <summary>The workspace root; null or empty: see <see cref="WorkspaceLocator"/>. Relative paths are resolved
    /// against the project folder.</summary>
    public string? Workspace { get; init; }

    /// <summary>Removal requests to plan: ids or paths of <c>.removal.json</c> files (relative to the project folder).
    /// Empty: every removal request of the workspace.</summary>
    public IReadOnlyList<string> Removals { get; init; } = [];

    /// <summary>Output root (relative to the project folder); null or empty: the workspace's <c>output</c> setting.</summary>
    public string? OutputPath { get; init; }

    /// <summary>Whether file hashes computed here may be kept in the workspace's hash store (false under <c>-question</c>,
    /// which writes nothing).</summary>
    public bool KeepFileHashes { get; init; } = true;

    /// <summary>The build's <c>UnlearnMethod</c> (null or empty: the removal's, else <c>unlearn.json</c>'s, else fiun).</summary>
    public string? Method { get; init; }
}

/// <summary>One unlearned checkpoint a project must produce: a model it owns, affected by one removal request.</summary>
/// <param name="InputFiles">Files whose change makes the output stale (absolute, ordinal order, no duplicates): the files
/// the tool's job key hashes whole (<see cref="ProjectPlanner.InputFiles"/>): the model's lineage manifest and
/// checkpoint, every ancestor's lineage manifest and checkpoint, the lineage's custom module assemblies, and the
/// manifests and existing data files of the datasets the model or its ancestors learned. The removal manifest and
/// <c>unlearn.json</c> count through the pair's input-hash cache (<see cref="HashLines"/>), by what of them outputs depend on.</param>
public sealed record PlannedCheckpoint(string ModelId, string RemovalId, ModelRole Role, string Checkpoint, string OutputPath,
    string Manifest, string RemovalManifest, IReadOnlyList<string> UpstreamRoots, IReadOnlyList<string> InputFiles)
{
    /// <summary>Where the model is declared: its lineage manifest, at the model's id (diagnostics about this output, such
    /// as FUL3012 under <c>-question</c>, point there).</summary>
    public SourceLocation ManifestLocation { get; init; } = new(Manifest);

    /// <summary>
    /// Content hashes of everything this output depends on besides the tool and its settings (the workspace's output
    /// settings, the removal, the affected node, what the manifests of its lineage and datasets say, the contents of its
    /// other input files at their places in the lineage, not their paths, as the tool's job key): the body of this pair's
    /// input-hash cache, so a change reruns exactly the pairs it reaches.
    /// </summary>
    public IReadOnlyList<string> HashLines { get; init; } = [];

    /// <summary>Why the existing output is not the one the tool made for this request (<see cref="OutputCertificate"/>);
    /// null when it is, or when there is none.</summary>
    public string? Uncertified { get; init; }
}

/// <summary>The result of <see cref="ProjectPlanner.Plan"/>.</summary>
public sealed record ProjectPlan(string Workspace, string OutputRoot, IReadOnlyList<string> OwnedModels, IReadOnlyList<PlannedCheckpoint> Checkpoints,
    IReadOnlyList<Diagnostic> Diagnostics)
{
    /// <summary><c>parallelism</c> of the workspace's <c>unlearn.json</c>, or null when it does not set one.</summary>
    public int? SettingsParallelism { get; init; }

    /// <summary><c>threads</c> of the workspace's <c>unlearn.json</c>, or null when it does not set one.</summary>
    public int? SettingsThreads { get; init; }

    public bool HasErrors => Diagnostics.Any(d => d.IsError);
}

/// <summary>
/// Plans the unlearning work of ONE project (the UnlearnPlan task): reads the workspace with the lineage core, finds
/// the models whose lineage manifests live in the project's folder tree (not in a nested project's), and for each removal
/// request the ones it affects. Pure apart from reading the workspace and file existence.
/// </summary>
public static class ProjectPlanner
{
    private static readonly string[] ProjectExtensions = ["*.csproj", "*.fsproj", "*.vbproj", "*.proj"];

    public static ProjectPlan Plan(ProjectPlanRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var project = Path.TrimEndingDirectorySeparator(Path.GetFullPath(request.ProjectDirectory));
        var root = string.IsNullOrWhiteSpace(request.Workspace)
            ? WorkspaceLocator.Find(project)
            : Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine(project, request.Workspace)));
        var diagnostics = new List<Diagnostic>();
        if (!Directory.Exists(root))
        {
            // The catalogue's text names the tool's --workspace; in a build the folder comes from the UnlearnWorkspace property.
            diagnostics.Add(Diagnostic.Create(DiagnosticCatalogue.WorkspaceNotFound, null, root) with
            {
                Message = $"The workspace folder '{root}' does not exist. Set the UnlearnWorkspace property to an existing folder (relative paths are relative to the project), or leave it empty to use the folder of the nearest unlearn.json.",
            });
            return new ProjectPlan(root, string.Empty, [], [], diagnostics);
        }

        var analysis = WorkspaceAnalysis.Analyze(root, cancellationToken);
        var workspace = analysis.Workspace;
        var outputRoot = string.IsNullOrWhiteSpace(request.OutputPath)
            ? workspace.OutputDirectory
            : Path.GetFullPath(Path.Combine(project, request.OutputPath));

        // This project's problems are reported where they are; other projects report their own, so here their errors
        // only count (once) as the reason this project cannot be planned.
        var elsewhere = new List<Diagnostic>();
        foreach (var diagnostic in analysis.Diagnostics)
        {
            var file = diagnostic.Location.File;
            var otherProjects = file.EndsWith(ManifestKindNames.Lineage, StringComparison.OrdinalIgnoreCase) && !IsOwnedBy(file, project);
            if (!otherProjects)
            {
                diagnostics.Add(diagnostic);
            }
            else if (diagnostic.IsError)
            {
                elsewhere.Add(diagnostic);
            }
        }

        if (elsewhere.Count > 0)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticCatalogue.WorkspaceErrorsElsewhere, null, root,
                elsewhere.Count.ToString(CultureInfo.InvariantCulture), elsewhere[0].ToCanonicalString()));
        }

        var owned = workspace.Models.Values.Where(m => IsOwnedBy(m.ManifestPath, project))
            .Select(m => m.Id).Order(StringComparer.Ordinal).ToList();
        var removals = SelectRemovals(workspace, project, request.Removals, diagnostics);
        if (diagnostics.Any(d => d.IsError))
        {
            return new ProjectPlan(root, outputRoot, owned, [], diagnostics) { SettingsParallelism = workspace.Settings.Parallelism, SettingsThreads = workspace.Settings.Threads };
        }

        var checkpoints = new List<PlannedCheckpoint>();
        var idLocations = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        // unlearn.json counts by the settings that change outputs (JobInputs.OutputSettings: method, parameters), not as a
        // file: a change of threads or parallelism leaves the caches, and so every output, as they are.
        var settings = $"settings {JobInputs.OutputSettings(workspace.Settings)}";
        // Manifests count by what they say (ModelContent, DatasetContent); every other input file (checkpoints, data files,
        // model assemblies) by its content, hashed once however many pairs read it.
        var contents = new Dictionary<string, string>(StringComparer.Ordinal);
        var hashes = FileHashStore.ForOutput(workspace.OutputDirectory, request.KeepFileHashes); // the tool's: a file it hashed is not read again

        // Models no project owns are built by no one: said once, by the first project (in ordinal order of folders) that
        // owns models, at the model's manifest (QA: the build passed, -question passed, and 'plan --check' said missing).
        var projectFolders = new Dictionary<string, bool>(StringComparer.Ordinal);
        var owners = workspace.Models.Values.ToDictionary(m => m.Id, m => OwnerOf(m.ManifestPath, root, projectFolders), StringComparer.Ordinal);
        var reports = owners.Values.OfType<string>().Order(StringComparer.Ordinal).FirstOrDefault() == project;
        foreach (var removal in removals)
        {
            var plan = Planner.Plan(workspace, analysis.Graph, removal);
            foreach (var affected in plan.Affected)
            {
                if (reports && owners.GetValueOrDefault(affected.Id) is null && workspace.Models.TryGetValue(affected.Id, out var orphan))
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticCatalogue.ModelOfNoProject, IdLocation(orphan, root, idLocations), affected.Id, removal.Id));
                }

                if (!owned.Contains(affected.Id, StringComparer.Ordinal))
                {
                    continue;
                }

                cancellationToken.ThrowIfCancellationRequested();
                var model = workspace.Models[affected.Id];
                var (output, inputs, job) = Pair(analysis, removal, affected, outputRoot);
                var lines = new List<string>
                {
                    settings,
                    // What of the removal outputs depend on: what it asks and its method settings, not its reason.
                    $"removal {removal.Id} {JobInputs.RequestHash(removal)} {JobInputs.RemovalSettings(removal)}",
                    string.Create(CultureInfo.InvariantCulture,
                        $"affected {removal.Id} {model.Id} {affected.Role.ToString().ToLowerInvariant()} roots={string.Join(',', affected.UpstreamRoots)} out={output}"),
                };
                // The manifests by what they say of each model and dataset, and every other input file by its content at its
                // place in the lineage (a model's checkpoint, a dataset's n-th file), as the tool's job key counts them: not
                // where the files lie, so moving a checkpoint or data files with their paths in the manifests reruns nothing
                // that the tool would call up to date (found in QA: -question failed where 'plan --check' passed).
                lines.AddRange(job.Lineage.Select(m => $"model {m.Id} {ContentHash.Combine(ModelContent.Of(m))}"));
                lines.AddRange(job.Datasets.Values.Select(d => $"dataset {d.Id} {ContentHash.Combine(DatasetContent.Of(d))}"));
                // Timestamps miss a checkpoint, data file or model assembly replaced by one that keeps the time (cp -p, tar,
                // rsync -t, a CI cache or artifact restore): their contents count too, as in the tool's job key.
                foreach (var (place, file) in job.Places())
                {
                    if (!contents.TryGetValue(file, out var content))
                    {
                        contents[file] = content = ContentOf(file, hashes);
                    }

                    lines.Add($"content {place} {content}");
                }

                checkpoints.Add(new PlannedCheckpoint(model.Id, removal.Id, affected.Role, model.CheckpointPath, output, model.ManifestPath,
                    removal.ManifestPath, affected.UpstreamRoots, [.. inputs])
                {
                    ManifestLocation = IdLocation(model, root, idLocations),
                    HashLines = lines,
                    Uncertified = OutputCertificate.Problem(output, model.Id, OutputCertificate.MethodFor(request.Method, removal, workspace.Settings), hashes),
                });
            }
        }

        return new ProjectPlan(root, outputRoot, owned, checkpoints, diagnostics) { SettingsParallelism = workspace.Settings.Parallelism, SettingsThreads = workspace.Settings.Threads };
    }

    /// <summary>The content hash of a file (as for manifests); "missing" or what it is instead of a regular file (a FIFO
    /// would never end: the tool reports it, FUL1027).</summary>
    private static string ContentOf(string path, FileHashStore hashes) =>
        !File.Exists(path) ? "missing"
        : FisherUnlearn.Lineage.IO.RegularFile.KindOf(path) is { } kind ? kind.Replace(' ', '-')
        : hashes.Hash(path);

    /// <summary>The output of one affected model of <paramref name="removal"/> under <paramref name="outputRoot"/>, its input
    /// files (<see cref="InputFiles"/>) and its job inputs (lineage, datasets, and each file's place: <see cref="JobInputs.Places"/>).</summary>
    internal static (string Output, SortedSet<string> Inputs, JobInputs Job) Pair(
        WorkspaceAnalysis analysis, RemovalManifest removal, AffectedModel affected, string outputRoot)
    {
        var workspace = analysis.Workspace;
        var job = JobInputs.Of(workspace, analysis.Graph, removal, affected.Id);
        var output = Path.Combine(outputRoot, removal.Id, affected.Id + ".safetensors");
        var roots = affected.UpstreamRoots.Where(workspace.Models.ContainsKey).Select(id => workspace.Models[id]);
        return (output, InputFiles(job, roots), job);
    }

    /// <summary>Every affected model of removal <paramref name="removalId"/> in the whole workspace (not only one project's),
    /// with its output under <paramref name="outputRoot"/> and input files; empty when the workspace has no such removal.</summary>
    public static IReadOnlyList<(string ModelId, string Output, IReadOnlyCollection<string> Inputs)> RemovalPairs(string workspaceRoot, string removalId,
        string outputRoot, CancellationToken cancellationToken = default)
    {
        var analysis = WorkspaceAnalysis.Analyze(workspaceRoot, cancellationToken);
        if (!analysis.Workspace.Removals.TryGetValue(removalId, out var removal))
        {
            return [];
        }

        return [.. Planner.Plan(analysis.Workspace, analysis.Graph, removal).Affected.Where(a => analysis.Workspace.Models.ContainsKey(a.Id))
            .Select(a => (a.Id, Pair: Pair(analysis, removal, a, outputRoot)))
            .Select(p => (p.Id, p.Pair.Output, (IReadOnlyCollection<string>)p.Pair.Inputs))];
    }

    /// <summary>
    /// The files of the tool's job key (<see cref="JobInputs"/>: what FisherUnlearn.Engine's <c>JobKey</c> hashes) for one
    /// (removal, model). Files that do not exist are left out (MSBuild would otherwise rebuild on every build), except the
    /// model's manifest and checkpoint and its upstream roots' checkpoints, which the unlearning reads (the tool reports
    /// them missing); whether the others exist is part of the input-hash cache through the list of paths. The removal
    /// manifest is not a file input: what of it an output depends on (what it asks, its method and parameters) is in the
    /// pair's input-hash cache, so editing its reason rebuilds nothing, and -question agrees with the tool.
    /// </summary>
    internal static SortedSet<string> InputFiles(JobInputs job, IEnumerable<ModelManifest> upstreamRoots)
    {
        var inputs = new SortedSet<string>(StringComparer.Ordinal) { job.Model.CheckpointPath, job.Model.ManifestPath };
        inputs.UnionWith(upstreamRoots.Select(r => r.CheckpointPath));
        inputs.UnionWith(job.Files().Where(File.Exists));
        return inputs;
    }

    /// <summary>The folder of the project that owns <paramref name="file"/>: the nearest folder above it, up to
    /// <paramref name="workspaceRoot"/>, that holds a project file; null when none does. <paramref name="projectFolders"/>
    /// keeps what each folder was found to hold, across calls.</summary>
    internal static string? OwnerOf(string file, string workspaceRoot, Dictionary<string, bool> projectFolders)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(workspaceRoot));
        for (var dir = Path.GetDirectoryName(Path.GetFullPath(file)); dir is not null && dir.Length >= root.Length; dir = Path.GetDirectoryName(dir))
        {
            if (!projectFolders.TryGetValue(dir, out var holds))
            {
                projectFolders[dir] = holds = ProjectExtensions.Any(pattern => Directory.EnumerateFiles(dir, pattern).Any());
            }

            if (holds)
            {
                return Path.TrimEndingDirectorySeparator(dir);
            }
        }

        return null;
    }

    /// <summary>True when <paramref name="file"/> is in <paramref name="project"/>'s folder tree and no nested project
    /// folder (one holding a project file) lies in between.</summary>
    public static bool IsOwnedBy(string file, string project)
    {
        var full = Path.GetFullPath(file);
        var prefix = Path.TrimEndingDirectorySeparator(project) + Path.DirectorySeparatorChar;
        if (!full.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        for (var dir = Path.GetDirectoryName(full); dir is not null && dir.Length >= prefix.Length; dir = Path.GetDirectoryName(dir))
        {
            if (ProjectExtensions.Any(pattern => Directory.EnumerateFiles(dir, pattern).Any()))
            {
                return false;
            }
        }

        return true;
    }

    private static List<RemovalManifest> SelectRemovals(Workspace workspace, string project, IReadOnlyList<string> names, List<Diagnostic> diagnostics)
    {
        if (names.Count == 0)
        {
            return [.. workspace.Removals.Values.OrderBy(r => r.Id, StringComparer.Ordinal)];
        }

        var selected = new List<RemovalManifest>();
        foreach (var name in names.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => n.Trim()))
        {
            RemovalManifest? found;
            if (name.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal))
            {
                var path = Path.GetFullPath(Path.Combine(project, name));
                found = workspace.Removals.Values.FirstOrDefault(r => string.Equals(Path.GetFullPath(r.ManifestPath), path, StringComparison.Ordinal));
            }
            else
            {
                found = workspace.Removals.GetValueOrDefault(name);
            }

            if (found is null)
            {
                var known = workspace.Removals.Keys.Order(StringComparer.Ordinal).ToList();
                diagnostics.Add(Diagnostic.Create(DiagnosticCatalogue.RemovalNotFound, null, name, known.Count == 0 ? "none" : NameList.Quoted(known)));
            }
            else if (!selected.Contains(found))
            {
                selected.Add(found);
            }
        }

        return [.. selected.OrderBy(r => r.Id, StringComparer.Ordinal)];
    }

    /// <summary>Where the model's id is written in its lineage manifest (the parsed model only knows the document start):
    /// diagnostics about its outputs point there. Falls back to the manifest itself.</summary>
    private static SourceLocation IdLocation(ModelManifest model, string root, Dictionary<string, SourceLocation> cache)
    {
        if (!cache.TryGetValue(model.Id, out var location))
        {
            try
            {
                location = ManifestReader.ReadFile(model.ManifestPath, ManifestKind.Lineage, root).IdLocation;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                location = null;
            }

            location ??= model.Location.File.Length > 0 ? model.Location : new SourceLocation(model.ManifestPath);
            cache[model.Id] = location;
        }

        return location;
    }

    private static class ManifestKindNames
    {
        public const string Lineage = ".lineage.json";
    }
}
