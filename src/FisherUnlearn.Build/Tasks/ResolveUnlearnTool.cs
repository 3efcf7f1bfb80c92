using System.Globalization;
using FisherUnlearn.Lineage.Diagnostics;
using Microsoft.Build.Framework;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Build.Tasks;

/// <summary>
/// Finds how to run dotnet-unlearn, in this order: <c>$(UnlearnToolPath)</c> (an executable, or a .dll run with the dotnet
/// host); the local tool manifest (<c>dotnet-tools.json</c> or <c>.config/dotnet-tools.json</c> in the project folder or
/// above, up to one marked <c>isRoot</c>), run as <c>dotnet tool run dotnet-unlearn --</c>; a global tool on PATH.
/// Nothing found: FUL3001 (run <c>dotnet tool restore</c>). The version goes into the input-hash cache, so a tool update
/// makes every output stale.
/// </summary>
public sealed class ResolveUnlearnTool : ProjectTask
{
    [Required]
    public string ProjectDirectory { get; set; } = string.Empty;

    /// <summary>FUL3001's advice when the tool is to come from the local tool manifest or PATH.</summary>
    internal const string RestoreAdvice = "Run 'dotnet tool restore' (or install FisherUnlearn.Tool).";

    /// <summary><c>$(UnlearnToolPath)</c>: an explicit tool (relative to the project folder).</summary>
    public string? ToolPath { get; set; }

    /// <summary><c>$(DOTNET_HOST_PATH)</c>: the dotnet host running this build; empty: <c>dotnet</c> from PATH.</summary>
    public string? DotnetHost { get; set; }

    public string CommandName { get; set; } = "dotnet-unlearn";

    /// <summary>The program to start.</summary>
    [Output]
    public string ToolExecutable { get; private set; } = string.Empty;

    /// <summary>Arguments before the tool's own (e.g. <c>tool run dotnet-unlearn --</c>).</summary>
    [Output]
    public string[] ToolArguments { get; private set; } = [];

    /// <summary>The tool's version as pinned by the manifest, or a fingerprint of the file.</summary>
    [Output]
    public string ToolVersion { get; private set; } = string.Empty;

    /// <summary>Where the tool was found: <c>path</c>, <c>local</c> or <c>global</c>.</summary>
    [Output]
    public string ToolSource { get; private set; } = string.Empty;

    public override bool Execute()
    {
        var host = string.IsNullOrEmpty(DotnetHost) ? "dotnet" : DotnetHost;
        if (!string.IsNullOrWhiteSpace(ToolPath))
        {
            var path = Path.GetFullPath(Path.Combine(ProjectDirectory, ToolPath));
            if (!File.Exists(path))
            {
                Log.Log(DiagnosticCatalogue.ToolNotFound, ProjectForDiagnostics, $"UnlearnToolPath '{path}' does not exist",
                    "Fix the path (relative to the project's folder), or leave UnlearnToolPath empty to use the local tool of dotnet-tools.json.");
                return false;
            }

            var isDll = path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
            ToolExecutable = isDll ? host : path;
            ToolArguments = isDll ? [path] : [];
            ToolVersion = Fingerprint(path);
            ToolSource = "path";
            return true;
        }

        var local = FindInLocalManifests(Path.GetFullPath(ProjectDirectory), out var manifestProblem);
        if (manifestProblem is not null)
        {
            Log.Log(DiagnosticCatalogue.ToolNotFound, manifestProblem.Value.File, manifestProblem.Value.Message, RestoreAdvice);
            return false;
        }

        if (local is not null)
        {
            ToolExecutable = host;
            ToolArguments = ["tool", "run", CommandName, "--"];
            ToolVersion = local;
            ToolSource = "local";
            return true;
        }

        var global = FindOnPath();
        if (global is not null)
        {
            ToolExecutable = global;
            ToolVersion = Fingerprint(global);
            ToolSource = "global";
            return true;
        }

        Log.Log(DiagnosticCatalogue.ToolNotFound, ProjectForDiagnostics,
            $"no local tool manifest (dotnet-tools.json) in or above '{ProjectDirectory}' lists the '{CommandName}' command, UnlearnToolPath is not set and '{CommandName}' is not on PATH", RestoreAdvice);
        return false;
    }

    /// <summary>The version of the tool with <see cref="CommandName"/> in the nearest manifests, like <c>dotnet tool run</c>
    /// looks them up (closest first, stopping after a manifest with <c>"isRoot": true</c>).</summary>
    private string? FindInLocalManifests(string start, out (string File, string Message)? problem)
    {
        problem = null;
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "dotnet-tools.json"), Path.Combine(dir.FullName, ".config", "dotnet-tools.json") })
            {
                if (!File.Exists(candidate))
                {
                    continue;
                }

                JObject manifest;
                try
                {
                    manifest = JObject.Parse(File.ReadAllText(candidate));
                }
                catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
                {
                    problem = (candidate, $"the tool manifest '{candidate}' cannot be read ({ex.Message})");
                    return null;
                }

                if (manifest["tools"] is JObject tools)
                {
                    foreach (var (_, value) in tools)
                    {
                        if (value is JObject tool && tool["commands"] is JArray commands
                            && commands.Any(c => string.Equals((string?)c, CommandName, StringComparison.Ordinal)))
                        {
                            return (string?)tool["version"] ?? "unknown";
                        }
                    }
                }

                if (manifest["isRoot"] is JValue { Type: JTokenType.Boolean } isRoot && (bool)isRoot)
                {
                    return null;
                }
            }
        }

        return null;
    }

    private string? FindOnPath()
    {
        var names = OperatingSystem.IsWindows() ? new[] { CommandName + ".exe", CommandName } : [CommandName];
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).ToList();
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (home.Length > 0)
        {
            folders.Add(Path.Combine(home, ".dotnet", "tools"));
        }

        return folders.SelectMany(f => names.Select(n => Path.Combine(f, n))).FirstOrDefault(p => Path.IsPathFullyQualified(p) && File.Exists(p));
    }

    private static string Fingerprint(string path)
    {
        var info = new FileInfo(path);
        return string.Create(CultureInfo.InvariantCulture, $"{info.Length}-{info.LastWriteTimeUtc.Ticks}");
    }
}
