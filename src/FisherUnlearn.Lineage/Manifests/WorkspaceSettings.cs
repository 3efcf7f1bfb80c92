namespace FisherUnlearn.Lineage.Manifests;

/// <summary>The optional <c>unlearn.json</c> at the workspace root.</summary>
public sealed record WorkspaceSettings
{
    public const string FileName = "unlearn.json";

    /// <summary>The folder of the output root the tool keeps for itself, the Fisher harvest cache: no removal may have it
    /// as its id (FUL1035), since a removal's outputs go to <c>&lt;output&gt;/&lt;id&gt;</c>.</summary>
    public const string HarvestFolder = "harvest";

    /// <summary>The largest <see cref="PlanLabels"/> (and <c>harvest --plan-labels</c>) accepted.</summary>
    public const int PlanLabelsLimit = 8;

    /// <summary>The largest <see cref="MaxPlans"/> (and <c>harvest --max-plans</c>) accepted.</summary>
    public const int MaxPlansLimit = 1_000_000;

    /// <summary>The largest <see cref="Parallelism"/> (and <c>--parallel</c> of every command) accepted.</summary>
    public const int ParallelismLimit = 1024;

    /// <summary>The largest <see cref="Threads"/> (and <c>--threads</c> of every command) accepted: more libtorch
    /// threads than this only oversubscribe the machine (and each costs a stack).</summary>
    public const int ThreadsLimit = 1024;

    public static IReadOnlyList<string> DefaultInclude { get; } = ["**/*.lineage.json", "**/*.dataset.json", "**/*.removal.json"];

    public static IReadOnlyList<string> DefaultExclude { get; } = ["**/bin/**", "**/obj/**"];

    public IReadOnlyList<string> Include { get; init; } = DefaultInclude;

    /// <summary>Globs excluded in addition to bin/ and obj/, which are always excluded.</summary>
    public IReadOnlyList<string> Exclude { get; init; } = DefaultExclude;

    /// <summary>Output folder, relative to the workspace root.</summary>
    public string Output { get; init; } = "artifacts/unlearn";

    public string? Method { get; init; }

    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Where <see cref="Method"/> is written (null when absent).</summary>
    public Diagnostics.SourceLocation? MethodLocation { get; init; }

    /// <summary>Where each of <see cref="Parameters"/> is written.</summary>
    public IReadOnlyDictionary<string, Diagnostics.SourceLocation> ParameterLocations { get; init; } = new Dictionary<string, Diagnostics.SourceLocation>(StringComparer.Ordinal);

    public int? Parallelism { get; init; }

    public int? Threads { get; init; }

    /// <summary>The largest label set <c>harvest</c> makes forget plans for (null: its default, 2).</summary>
    public int? PlanLabels { get; init; }

    /// <summary>The most forget plans per model <c>harvest</c> makes (null: its default, 100).</summary>
    public int? MaxPlans { get; init; }

    /// <summary>Absolute path of the settings file, or null when the defaults apply.</summary>
    public string? SettingsPath { get; init; }
}
