using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>A dataset manifest (<c>*.dataset.json</c>).</summary>
public sealed record DatasetManifest
{
    public static IReadOnlyList<string> Formats { get; } = ["idx", "csv", "safetensors"];

    public required string Id { get; init; }

    public required string ManifestPath { get; init; }

    /// <summary><c>idx</c> (optionally gzipped), <c>csv</c> or <c>safetensors</c>.</summary>
    public required string Format { get; init; }

    public required int Classes { get; init; }

    public required DatasetSplit Train { get; init; }

    public DatasetSplit? Test { get; init; }

    public required SourceLocation Location { get; init; }

    public DatasetSplit? GetSplit(string name) => name switch
    {
        "train" => Train,
        "test" => Test,
        _ => null,
    };
}

/// <summary>The files of one split, as absolute paths. <c>idx</c>: images and labels;
/// <c>csv</c>: path and label column; <c>safetensors</c>: path (tensors <c>x</c> and <c>y</c>).</summary>
public sealed record DatasetSplit
{
    public string? Images { get; init; }

    public string? Labels { get; init; }

    public string? Path { get; init; }

    public string? LabelColumn { get; init; }

    /// <summary>Number of samples when the manifest declares it (optional, lets <c>validate</c> check sample indices).</summary>
    public int? Count { get; init; }

    /// <summary>Where <c>count</c> is written (null when absent), for a count the files do not hold.</summary>
    public SourceLocation? CountLocation { get; init; }

    /// <summary>Where each file's path is written in the manifest, by absolute path: a file that is not there is reported
    /// at the line that names it (a CI annotation on a file that does not exist would show nowhere).</summary>
    public IReadOnlyDictionary<string, SourceLocation> FileLocations { get; init; } = new Dictionary<string, SourceLocation>();

    public IEnumerable<string> Files => new[] { Images, Labels, Path }.OfType<string>();
}
