using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using Microsoft.Extensions.FileSystemGlobbing;
using Microsoft.Extensions.FileSystemGlobbing.Abstractions;

namespace FisherUnlearn.Lineage.Discovery;

/// <summary>
/// Reads a workspace folder: <c>unlearn.json</c> when present, then every <c>*.lineage.json</c>,
/// <c>*.dataset.json</c> and <c>*.removal.json</c> that the settings' include/exclude globs select. Deterministic:
/// files are read in ordinal path order (in parallel, merged in that order), the first file of a duplicated id
/// wins, and diagnostics come sorted. Diagnostics carry absolute paths; hosts make them relative.
/// </summary>
public static class WorkspaceLoader
{
    /// <summary>Folders never searched, whatever <c>unlearn.json</c> says: build outputs and git's own store.</summary>
    public static IReadOnlyList<string> AlwaysExcluded { get; } = ["**/bin/**", "**/obj/**", "**/.git/**"];

    public static Workspace Load(string root, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        var fullRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var diagnostics = new DiagnosticBag();
        var hashes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var settings = new WorkspaceSettings();

        if (!Directory.Exists(fullRoot))
        {
            diagnostics.Report(DiagnosticCatalogue.WorkspaceNotFound, null, fullRoot);
            return Build(fullRoot, settings, [], diagnostics, hashes);
        }

        var settingsPath = Path.Combine(fullRoot, WorkspaceSettings.FileName);
        if (File.Exists(settingsPath))
        {
            var file = ManifestReader.ReadFile(settingsPath, ManifestKind.Settings, fullRoot);
            diagnostics.AddRange(file.Diagnostics);
            settings = file.Settings ?? settings with { SettingsPath = settingsPath };
            if (file.Hash is not null)
            {
                hashes[file.Path] = file.Hash;
            }
        }

        var paths = Discover(fullRoot, settings, out var linksOut, out var nearMisses, out var unreadableFolders);
        foreach (var (folder, reason) in unreadableFolders)
        {
            diagnostics.Report(DiagnosticCatalogue.UnreadableFolder, new SourceLocation(folder), Path.GetRelativePath(fullRoot, folder).Replace('\\', '/'), reason);
        }

        foreach (var (link, target) in linksOut)
        {
            diagnostics.Report(DiagnosticCatalogue.LinkOutOfWorkspace, new SourceLocation(link), Path.GetRelativePath(fullRoot, link).Replace('\\', '/'), target);
        }

        foreach (var nearMiss in nearMisses)
        {
            var meant = ManifestKinds.FromFileNameIgnoringCase(nearMiss)!.Value;
            diagnostics.Report(DiagnosticCatalogue.ManifestSuffixCase, new SourceLocation(nearMiss), Path.GetRelativePath(fullRoot, nearMiss).Replace('\\', '/'),
                meant == ManifestKind.Lineage ? "lineage" : meant.Noun(), meant.Suffix());
        }

        var files = new ManifestFile[paths.Count];
        Parallel.For(
            0,
            paths.Count,
            new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            i => files[i] = ManifestReader.ReadFile(paths[i], ManifestKinds.FromFileName(paths[i])!.Value, fullRoot));
        cancellationToken.ThrowIfCancellationRequested();

        if (files.Length == 0)
        {
            diagnostics.Report(DiagnosticCatalogue.NoManifests, settings.SettingsPath is null ? null : new SourceLocation(settings.SettingsPath), fullRoot);
        }

        return Build(fullRoot, settings, files, diagnostics, hashes);
    }

    /// <summary>Reads one manifest from text, its kind following from the file name, as <see cref="Load"/> would
    /// read it from disk. <paramref name="workspaceRoot"/> defaults to the file's folder.</summary>
    public static ManifestFile LoadFile(string path, string json, string? workspaceRoot = null)
    {
        var fullPath = Path.GetFullPath(path);
        return ManifestReader.Parse(fullPath, json, ManifestReader.KindOf(fullPath), workspaceRoot ?? Path.GetDirectoryName(fullPath)!);
    }

    /// <summary>The manifest files of a workspace, absolute, in ordinal order. A file must match an include glob,
    /// no exclude glob, and have a manifest suffix; <see cref="AlwaysExcluded"/> folders and nested workspaces (folders
    /// with an unlearn.json of their own) are skipped.</summary>
    public static IReadOnlyList<string> Discover(string root, WorkspaceSettings settings) => Discover(root, settings, out _, out _, out _);

    /// <inheritdoc cref="Discover(string, WorkspaceSettings)"/>
    /// <param name="linksOut">Folder links the walk did not follow because they lead out of the workspace (with their
    /// targets): <see cref="ContainedDirectory"/>.</param>
    /// <param name="nearMisses">Files the globs would select but for the case of their manifest suffix
    /// (<c>a.Lineage.json</c>): not read, since file names are case-sensitive here, and worth a warning (FUL1032), since
    /// on Windows and macOS they would be read.</param>
    /// <param name="unreadableFolders">Folders the walk entered but could not list (with the system's reason): their
    /// manifests were not read, an error (FUL1033), since their models would otherwise leave the network unnoticed.</param>
    public static IReadOnlyList<string> Discover(string root, WorkspaceSettings settings, out IReadOnlyDictionary<string, string> linksOut, out IReadOnlyList<string> nearMisses,
        out IReadOnlyDictionary<string, string> unreadableFolders)
    {
        var fullRoot = Path.GetFullPath(root);
        var boundary = new ContainedDirectory.Boundary(fullRoot);
        var matcher = new Matcher(WorkspacePaths.Comparison);
        matcher.AddIncludePatterns(settings.Include);
        matcher.AddExcludePatterns(settings.Exclude);
        matcher.AddExcludePatterns(AlwaysExcluded);
        // One walk for both: the include globs with any manifest suffix loosened to any name ("**/*.lineage.json" ->
        // "**/*", which also meets "a.Lineage.JSON"), the excludes as they are.
        var walk = new Matcher(WorkspacePaths.Comparison);
        walk.AddIncludePatterns(settings.Include.Select(LoosenedSuffix));
        walk.AddExcludePatterns(settings.Exclude);
        walk.AddExcludePatterns(AlwaysExcluded);
        var result = new List<string>();
        var missed = new List<string>();
        var boundaries = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var match in walk.Execute(new ContainedDirectory(new DirectoryInfo(fullRoot), boundary)).Files)
        {
            var kind = ManifestKinds.FromFileName(match.Path);
            var path = Path.GetFullPath(Path.Combine(fullRoot, match.Path));
            if (kind is null && ManifestKinds.FromFileNameIgnoringCase(match.Path) is not null
                && matcher.Match(fullRoot, CaseOfSuffix(path)).HasMatches
                && !InNestedWorkspace(fullRoot, path, boundaries))
            {
                missed.Add(path);
            }
            else if (kind is not null and not ManifestKind.Settings && matcher.Match(fullRoot, path).HasMatches && !InNestedWorkspace(fullRoot, path, boundaries))
            {
                result.Add(path);
            }
        }

        result.Sort(StringComparer.Ordinal);
        missed.Sort(StringComparer.Ordinal);
        linksOut = boundary.LinksOut;
        // Not those of a nested workspace (never read), of the tool's output folder or the folders the tool made on the way
        // to it (a umask of 077 makes them unreadable to other users), nor a file system's lost+found.
        var output = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine(fullRoot, settings.Output)));
        unreadableFolders = boundary.UnreadableFolders
            .Where(f => !InNestedWorkspace(fullRoot, Path.Combine(f.Key, WorkspaceSettings.FileName), boundaries)
                && !WorkspacePaths.IsInside(f.Key, output) && !WorkspacePaths.IsInside(output, f.Key)
                && !string.Equals(Path.GetFileName(f.Key), "lost+found", StringComparison.Ordinal))
            .ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        nearMisses = missed;
        return result;
    }

    private static readonly string[] ManifestSuffixes = [ManifestKinds.LineageSuffix, ManifestKinds.DatasetSuffix, ManifestKinds.RemovalSuffix];

    // "**/*.lineage.json" -> "**/*": the walk then also meets "a.Lineage.json" and "a.lineage.JSON".
    private static string LoosenedSuffix(string pattern) =>
        ManifestSuffixes.FirstOrDefault(s => pattern.EndsWith(s, StringComparison.Ordinal)) is { } suffix ? pattern[..^suffix.Length] : pattern;

    // The path with its manifest suffix written as the manifest kind writes it ("a.Lineage.json" -> "a.lineage.json"), so
    // the include globs can say whether the file would be read but for that case.
    private static string CaseOfSuffix(string path)
    {
        var suffix = ManifestKinds.FromFileNameIgnoringCase(path)!.Value.Suffix()!;
        return path[..^suffix.Length] + suffix;
    }

    /// <summary>Which rule of <see cref="Discover(string, WorkspaceSettings)"/> leaves <paramref name="file"/> (absolute) out:
    /// <see cref="Undiscovered.None"/> when it would be read. Detail: for <see cref="Undiscovered.AlwaysExcluded"/> the
    /// glob of <see cref="AlwaysExcluded"/> that leaves it out, for <see cref="Undiscovered.NestedWorkspace"/> the folder
    /// holding the other unlearn.json.</summary>
    public static (Undiscovered Reason, string? Detail) WhyNotDiscovered(string root, WorkspaceSettings settings, string file)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var fullRoot = Path.GetFullPath(root);
        var path = Path.GetFullPath(file);
        if (!WorkspacePaths.IsInside(fullRoot, path))
        {
            return (Undiscovered.Outside, null);
        }

        if (ManifestKinds.FromFileName(path) is null or ManifestKind.Settings)
        {
            return (ManifestKinds.FromFileNameIgnoringCase(path) is not null and not ManifestKind.Settings ? Undiscovered.SuffixCase : Undiscovered.NotAManifestName, null);
        }

        foreach (var glob in AlwaysExcluded)
        {
            var matcher = new Matcher(WorkspacePaths.Comparison);
            matcher.AddInclude("**/*");
            matcher.AddExclude(glob);
            if (!matcher.Match(fullRoot, path).HasMatches)
            {
                return (Undiscovered.AlwaysExcluded, glob);
            }
        }

        if (NestedWorkspaceOf(fullRoot, path, []) is { } nested)
        {
            return (Undiscovered.NestedWorkspace, nested);
        }

        var selected = new Matcher(WorkspacePaths.Comparison);
        selected.AddIncludePatterns(settings.Include);
        selected.AddExcludePatterns(settings.Exclude);
        return (selected.Match(fullRoot, path).HasMatches ? Undiscovered.None : Undiscovered.Globs, null);
    }

    // A folder below the root with an unlearn.json of its own is a workspace of its own (as git treats a nested
    // repository): its manifests belong to it, with its own settings and outputs, not to this one.
    private static bool InNestedWorkspace(string root, string file, Dictionary<string, bool> boundaries) => NestedWorkspaceOf(root, file, boundaries) is not null;

    // The innermost folder below the root, above the file, with an unlearn.json of its own.
    private static string? NestedWorkspaceOf(string root, string file, Dictionary<string, bool> boundaries)
    {
        for (var folder = Path.GetDirectoryName(file); folder is not null && folder.Length > root.Length; folder = Path.GetDirectoryName(folder))
        {
            if (!boundaries.TryGetValue(folder, out var boundary))
            {
                boundaries[folder] = boundary = File.Exists(Path.Combine(folder, WorkspaceSettings.FileName));
            }

            if (boundary)
            {
                return folder;
            }
        }

        return null;
    }

    private static Workspace Build(string root, WorkspaceSettings settings, ManifestFile[] files, DiagnosticBag diagnostics, SortedDictionary<string, string> hashes)
    {
        var models = new SortedDictionary<string, ModelManifest>(StringComparer.Ordinal);
        var datasets = new SortedDictionary<string, DatasetManifest>(StringComparer.Ordinal);
        var removals = new SortedDictionary<string, RemovalManifest>(StringComparer.Ordinal);
        var firstFile = new Dictionary<(ManifestKind, string), string>();
        // Ids become file and folder names: two that differ only in case are one name on Windows and macOS.
        var firstByFoldedId = new Dictionary<(ManifestKind, string), (string Id, string File)>();

        foreach (var file in files)
        {
            diagnostics.AddRange(file.Diagnostics);
            if (file.Hash is not null)
            {
                hashes[file.Path] = file.Hash;
            }

            if (file.Id is not { } id)
            {
                continue;
            }

            if (firstFile.TryGetValue((file.Kind, id), out var first))
            {
                var relative = Path.GetRelativePath(root, first).Replace('\\', '/');
                diagnostics.Report(DiagnosticCatalogue.DuplicateId, file.IdLocation, file.Kind.Noun(), id, relative);
                continue;
            }

            firstFile[(file.Kind, id)] = file.Path;
            // Both are kept (their references still resolve, so this is the one error), and the workspace has an error.
            if (firstByFoldedId.TryGetValue((file.Kind, id.ToUpperInvariant()), out var folded))
            {
                diagnostics.Report(DiagnosticCatalogue.IdsDifferOnlyInCase, file.IdLocation, file.Kind.Noun(), id, folded.Id, Path.GetRelativePath(root, folded.File).Replace('\\', '/'));
            }
            else
            {
                firstByFoldedId[(file.Kind, id.ToUpperInvariant())] = (id, file.Path);
            }
            _ = file.Kind switch
            {
                ManifestKind.Lineage => models.TryAdd(id, file.Model!),
                ManifestKind.Dataset => datasets.TryAdd(id, file.Dataset!),
                _ => removals.TryAdd(id, file.Removal!),
            };
        }

        return new Workspace
        {
            Root = root,
            Settings = settings,
            Models = models,
            Datasets = datasets,
            Removals = removals,
            Diagnostics = diagnostics.ToSortedList(),
            ManifestHashes = hashes,
        };
    }
}

/// <summary>Why <see cref="WorkspaceLoader.WhyNotDiscovered"/> finds a file left out of a workspace's manifests.</summary>
public enum Undiscovered
{
    /// <summary>It would be read.</summary>
    None,
    Outside,
    NotAManifestName,
    /// <summary>A manifest suffix in another case (FUL1032).</summary>
    SuffixCase,
    /// <summary>Under bin/, obj/ or .git/.</summary>
    AlwaysExcluded,
    NestedWorkspace,
    /// <summary>unlearn.json's include/exclude globs.</summary>
    Globs,
}
