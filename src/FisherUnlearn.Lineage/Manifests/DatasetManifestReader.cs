using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Json;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>Reads <c>*.dataset.json</c> (schema version 1).</summary>
internal static class DatasetManifestReader
{
    public static readonly string[] Fields = ["$schema", "schemaVersion", "id", "format", "classes", "train", "test"];
    public static readonly string[] SplitFields = ["images", "labels", "path", "labelColumn", "count"];

    /// <summary>The split fields each format requires; <c>count</c> is optional for all.</summary>
    private static readonly Dictionary<string, string[]> RequiredByFormat = new(StringComparer.Ordinal)
    {
        ["idx"] = ["images", "labels"],
        ["csv"] = ["path", "labelColumn"],
        ["safetensors"] = ["path"],
    };

    public static DatasetManifest? Read(ReadContext context, JsonNode document)
    {
        if (CommonFields.Root(context, document) is not { } root || !CommonFields.SchemaVersion(root, required: true))
        {
            return null;
        }

        var (id, location) = CommonFields.Id(root);
        string[]? required = null;
        var format = root.String("format", required: true);
        if (format is not null && !RequiredByFormat.TryGetValue(format, out required))
        {
            context.Report(DiagnosticCatalogue.UnknownFormat, root.Object["format"]!, format);
            format = null;
        }

        var classes = root.Int("classes", ArchitectureReader.MinClasses, ArchitectureReader.MaxClasses, required: true);
        var train = ReadSplit(root, "train", format, required, isRequired: true);
        var test = ReadSplit(root, "test", format, required, isRequired: false);
        root.RejectUnknown(Fields);

        return id is null ? null : new DatasetManifest
        {
            Id = id,
            ManifestPath = context.File,
            Format = format ?? string.Empty,
            Classes = classes ?? 0,
            Train = train ?? new DatasetSplit(),
            Test = test,
            Location = location,
        };
    }

    private static DatasetSplit? ReadSplit(ObjectReader root, string name, string? format, string[]? required, bool isRequired)
    {
        if (root.ObjectField(name, isRequired) is not { } obj)
        {
            return null;
        }

        var context = root.Context;
        var reader = new ObjectReader(context, obj, name);
        bool Takes(string field) => field == "count" || required is null || ObjectReader.Contains(required, field);
        bool Needs(string field) => required is not null && ObjectReader.Contains(required, field);

        var split = new DatasetSplit
        {
            Images = Takes("images") ? reader.PathValue("images", Needs("images")) : null,
            Labels = Takes("labels") ? reader.PathValue("labels", Needs("labels")) : null,
            Path = Takes("path") ? reader.PathValue("path", Needs("path")) : null,
            LabelColumn = Takes("labelColumn") ? reader.String("labelColumn", Needs("labelColumn")) : null,
            Count = reader.Int("count", 0, int.MaxValue),
            CountLocation = obj["count"] is { } countNode ? context.At(countNode) : null,
        };
        var locations = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        foreach (var (field, path) in new[] { ("images", split.Images), ("labels", split.Labels), ("path", split.Path) })
        {
            if (path is not null && obj[field] is { } node)
            {
                locations.TryAdd(path, context.At(node));
            }
        }

        split = split with { FileLocations = locations };

        reader.RejectUnknown(SplitFields, property =>
        {
            if (!Takes(property.Name))
            {
                context.Report(DiagnosticCatalogue.UnknownField, property, reader.Name(property.Name),
                    $" for format '{format}' (a {format} split takes {string.Join(", ", required!)}, count)");
            }
        });
        return split;
    }
}
