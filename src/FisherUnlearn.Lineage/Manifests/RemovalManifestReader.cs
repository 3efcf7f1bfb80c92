using System.Globalization;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Json;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>Reads <c>*.removal.json</c> (schema version 1).</summary>
internal static class RemovalManifestReader
{
    public static readonly string[] Fields = ["$schema", "schemaVersion", "id", "reason", "forget", "method", "parameters", "targets", "requestedAt"];
    public static readonly string[] ForgetFields = ["labels", "samples"];
    public static readonly string[] SampleFields = ["dataset", "split", "indices"];
    public static readonly string[] TargetFields = ["maxForgetAccuracy", "maxRetainDrop"];
    public static readonly string[] Splits = ["train", "test"];

    public const int MaxIndices = 10_000_000;

    private static readonly string[] DateFormats =
    [
        "yyyy-MM-dd",
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd'T'HH:mmK",
    ];

    public static RemovalManifest? Read(ReadContext context, JsonNode document)
    {
        if (CommonFields.Root(context, document) is not { } root || !CommonFields.SchemaVersion(root, required: true))
        {
            return null;
        }

        var (id, location) = CommonFields.Id(root);
        // A removal's outputs go to <output>/<id>; the harvest cache is <output>/harvest (any case: one folder on Windows
        // and macOS), and an upload of the request's folder would ship the cache with it.
        if (string.Equals(id, WorkspaceSettings.HarvestFolder, StringComparison.OrdinalIgnoreCase))
        {
            context.Report(DiagnosticCatalogue.RemovalIdReserved, root.Object["id"]!, id, WorkspaceSettings.HarvestFolder);
        }

        var reason = root.String("reason", allowEmpty: true);
        // A NUL or a text-direction override in a reason is almost always pasted by accident (or meant to mislead the
        // reader of a report); the reports show it escaped, and this says so where it is written.
        if (reason is not null && reason.Any(Text.HiddenCharacters.IsHidden) && root.Object["reason"] is { } reasonNode)
        {
            context.Report(DiagnosticCatalogue.HiddenCharacter, reasonNode, "reason", Text.HiddenCharacters.Shown(reason.First(Text.HiddenCharacters.IsHidden)));
        }
        var labels = new List<int>();
        IReadOnlyDictionary<int, SourceLocation> labelLocations = new Dictionary<int, SourceLocation>();
        var samples = new List<SampleSelection>();
        var sampleDatasets = new List<(string, SourceLocation)>();
        if (root.ObjectField("forget", required: true) is { } forget)
        {
            var reader = new ObjectReader(context, forget, "forget");
            if (reader.Array("labels") is { } array)
            {
                labels = context.AsDistinctIntegers(array, "forget.labels", 0, LineageManifestReader.MaxLabel, "label", LineageManifestReader.MaxLabel + 1, LineageManifestReader.LabelRange);
                labelLocations = context.LocationsOf(array, LineageManifestReader.MaxLabel);
            }

            if (reader.Array("samples") is { } selections)
            {
                ReadSamples(context, selections, samples, sampleDatasets);
            }

            reader.RejectUnknown(ForgetFields);
            // Empty or absent, not of the wrong type: that has its own error already (FUL1006), and says what to write.
            bool Empty(string field) => forget[field] is null or JsonArray { Count: 0 };
            if (Empty("labels") && Empty("samples"))
            {
                context.Report(DiagnosticCatalogue.EmptyForget, forget);
            }
        }

        var (method, methodLocation) = CommonFields.Method(root);
        var parameterLocations = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        var parameters = CommonFields.Parameters(root, "parameters", parameterLocations);
        RemovalTargets? targets = null;
        SourceLocation? targetsLocation = null;
        if (root.ObjectField("targets") is { } targetsObject)
        {
            targetsLocation = context.At(targetsObject);
            var reader = new ObjectReader(context, targetsObject, "targets");
            targets = new RemovalTargets
            {
                MaxForgetAccuracy = reader.Number("maxForgetAccuracy", 0, 1),
                MaxRetainDrop = reader.Number("maxRetainDrop", 0, 1),
            };
            reader.RejectUnknown(TargetFields);
        }

        string? requestedAt = null;
        if (root.String("requestedAt") is { } when)
        {
            if (DateTimeOffset.TryParseExact(when, DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
            {
                requestedAt = when;
            }
            else
            {
                context.Report(DiagnosticCatalogue.InvalidValue, root.Object["requestedAt"]!, "requestedAt", when,
                    "an ISO 8601 date or date-time such as 2026-11-04 or 2026-11-04T09:30:00Z");
            }
        }

        root.RejectUnknown(Fields);
        return id is null ? null : new RemovalManifest
        {
            Id = id,
            ManifestPath = context.File,
            Reason = reason,
            Labels = labels,
            LabelLocations = labelLocations,
            Samples = samples,
            DroppedSampleDatasets = sampleDatasets,
            Method = method,
            MethodLocation = methodLocation,
            Parameters = parameters,
            ParameterLocations = parameterLocations,
            Targets = targets,
            TargetsLocation = targetsLocation,
            RequestedAt = requestedAt,
            Location = location,
        };
    }

    private static void ReadSamples(ReadContext context, JsonArray selections, List<SampleSelection> samples, List<(string, SourceLocation)> dropped)
    {
        for (var i = 0; i < selections.Count; i++)
        {
            var path = $"forget.samples[{i}]";
            if (selections.Items[i] is not JsonObject item)
            {
                context.WrongType(path, "an object such as { \"dataset\": \"feedback\", \"split\": \"train\", \"indices\": [10, 11] }", selections.Items[i]);
                continue;
            }

            var reader = new ObjectReader(context, item, path);
            var dataset = reader.Id("dataset", required: true);
            var split = reader.String("split", required: true);
            if (split is not null && !ObjectReader.Contains(Splits, split))
            {
                context.Report(DiagnosticCatalogue.InvalidValue, item["split"]!, reader.Name("split"), split, string.Join(", ", Splits));
                split = null;
            }

            List<int>? indices = null;
            var array = reader.Array("indices", required: true);
            if (array is not null)
            {
                if (array.Count == 0)
                {
                    context.Report(DiagnosticCatalogue.EmptyValue, array, reader.Name("indices"));
                }

                indices = context.AsDistinctIntegers(array, reader.Name("indices"), 0, int.MaxValue, "index", MaxIndices, "the positions of the split's samples (0 and up, in the order the data file stores them)");
            }

            reader.RejectUnknown(SampleFields);
            if (dataset is not null && split is not null && indices is { Count: > 0 })
            {
                // An index already listed by an earlier selection of the same dataset and split: once is enough.
                var earlier = samples.Where(s => s.Dataset == dataset && s.Split == split).SelectMany(s => s.Indices).ToHashSet();
                if (indices.FirstOrDefault(earlier.Contains, -1) is var repeated && repeated >= 0)
                {
                    context.Report(DiagnosticCatalogue.DuplicateValue, array!, $"'forget.samples' ({dataset}, {split})", $"index {repeated}");
                }

                samples.Add(new SampleSelection(dataset, split, [.. indices.Where(i => !earlier.Contains(i))], context.At(item)));
            }
            else if (dataset is not null)
            {
                dropped.Add((dataset, context.At(item["dataset"]!)));
            }
        }
    }
}
