using System.Globalization;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Engine.Verification;
using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Lineage.Rendering;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Reports;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Output;

/// <summary>
/// <c>report.json</c> of a run (schemaVersion 1) in <c>&lt;out&gt;/&lt;removal-id&gt;/</c>: removal id and manifest hash, tool
/// version, method, and per model: id, role, method, parameters used (with the calibrated alpha, lambda and head shift),
/// input and output SHA-256, seconds, metrics before and after; total seconds. Written atomically.
/// Written from a <see cref="ReportModel"/> it also holds everything the human-readable reports show (reason, what is
/// forgotten, targets, roots, unaffected models, upstream roots, the manifests' hashes, the lineage picture and, after
/// <c>verify</c>, reference metrics and missed targets), so <see cref="Read"/> gives back the model and report.md and
/// report.html can be regenerated from report.json alone (and shards' reports merged).
/// </summary>
internal static class RunReport
{
    public const string FileName = "report.json";

    public static JObject Build(RunResult result) => new()
    {
        ["schemaVersion"] = JsonDocuments.SchemaVersion,
        ["removal"] = result.RemovalId,
        ["removalSha256"] = result.ManifestSha256,
        ["toolVersion"] = CliApp.Version,
        ["method"] = result.Settings.Method,
        ["seconds"] = Math.Round(result.Seconds, 3),
        ["models"] = new JArray(result.Models.Select(m => new JObject
        {
            ["id"] = m.Id,
            ["role"] = m.Role.ToString().ToLowerInvariant(),
            ["method"] = m.Method,
            ["status"] = m.Succeeded ? "done" : "failed",
            ["error"] = m.Error is null ? null : m.Error.Code + ": " + m.Error.Message,
            ["parameters"] = m.Parameters is null ? null : JToken.Parse(m.Parameters.ToJsonString()),
            ["inputSha256"] = m.InputSha256,
            ["output"] = m.OutputPath is null ? null : Path.GetFileName(m.OutputPath),
            ["outputSha256"] = m.OutputSha256,
            ["seconds"] = Math.Round(m.Seconds, 3),
            ["metrics"] = m.Before is null && m.After is null ? null : new JObject { ["before"] = Metrics(m.Before), ["after"] = Metrics(m.After) },
        })),
    };

    public static JToken? Metrics(ModelMetrics? metrics) => Metrics(ReportMetrics.From(metrics));

    public static JToken? Metrics(ReportMetrics? metrics) => metrics is null ? null : new JObject
    {
        ["forgetAccuracy"] = Round(metrics.ForgetAccuracy),
        ["heldOutForgetAccuracy"] = Round(metrics.HeldOutForgetAccuracy),
        ["forgottenSampleAccuracy"] = Round(metrics.ForgottenSampleAccuracy),
        ["forgottenSamples"] = metrics.ForgottenSamples is { } n ? new JValue(n) : JValue.CreateNull(),
        ["forgottenLabelsHeldOutAccuracy"] = Round(metrics.ForgottenLabelsHeldOutAccuracy),
        ["forgottenLabelsHeldOutError"] = Round(metrics.ForgottenLabelsHeldOutError),
        ["retainAccuracy"] = Round(metrics.RetainAccuracy),
        ["testAccuracy"] = Round(metrics.TestAccuracy),
        ["mia"] = Round(metrics.Mia),
        ["miaAttackAccuracy"] = Round(metrics.MiaAttackAccuracy),
    };

    private static JToken Round(double? value) => ReportMetrics.Round(value) is { } v ? new JValue(v) : JValue.CreateNull();

    public static string Write(RunResult result)
    {
        var path = Path.Combine(result.OutputDirectory, FileName);
        AtomicFile.WriteAllText(path, Build(result).ToString(Newtonsoft.Json.Formatting.Indented) + "\n");
        return path;
    }

    /// <summary>report.json of a <see cref="ReportModel"/>: the fields of <see cref="Build(RunResult)"/> plus the rest of the model.</summary>
    public static JObject Build(ReportModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new JObject
        {
            ["schemaVersion"] = JsonDocuments.SchemaVersion,
            ["removal"] = model.RemovalId,
            ["removalSha256"] = model.RemovalSha256,
            ["toolVersion"] = model.ToolVersion,
            ["method"] = model.Method,
            ["seconds"] = Math.Round(model.Seconds, 3),
            ["reason"] = model.Reason,
            ["forget"] = model.Forget,
            ["forgetsSamples"] = model.ForgetsSamples,
            ["forgetsLabels"] = model.ForgetsLabels,
            ["requestedAt"] = model.RequestedAt,
            ["targets"] = model.HasTargets ? new JObject { ["maxForgetAccuracy"] = model.MaxForgetAccuracy, ["maxRetainDrop"] = model.MaxRetainDrop } : null,
            ["targetsMet"] = model.TargetsVerdict,
            ["roots"] = new JArray(model.Roots),
            ["models"] = new JArray(model.Models.Select(m => new JObject
            {
                ["id"] = m.Id,
                ["role"] = m.Role,
                ["method"] = m.Method,
                ["status"] = m.Status,
                ["error"] = m.Error,
                ["parameters"] = m.Parameters?.DeepClone(),
                ["inputSha256"] = m.InputSha256,
                ["output"] = m.Output,
                ["outputSha256"] = m.OutputSha256,
                ["seconds"] = Math.Round(m.Seconds, 3),
                ["metrics"] = m.Before is null && m.After is null && m.Reference is null ? null : new JObject
                {
                    ["before"] = Metrics(m.Before),
                    ["after"] = Metrics(m.After),
                    ["reference"] = Metrics(m.Reference),
                },
                ["upstreamRoots"] = new JArray(m.UpstreamRoots),
                ["missed"] = new JArray(model.MissedCodes(m)),
                ["missedMessages"] = new JArray(model.MissedBy(m)),
            })),
            ["unaffected"] = new JArray(model.Unaffected),
            ["manifests"] = new JArray(model.Manifests.Select(m => new JObject { ["kind"] = m.Kind, ["id"] = m.Id, ["path"] = m.Path, ["sha256"] = m.Sha256 })),
            ["verification"] = model.Verification is not { } v ? null : new JObject
            {
                ["targetsMet"] = v.TargetsMet,
                ["reference"] = v.Reference,
                ["referenceSeconds"] = v.ReferenceSeconds is { } rs ? Math.Round(rs, 3) : null,
                ["seconds"] = Math.Round(v.Seconds, 3),
            },
            ["lineage"] = JsonDocuments.Diagram(model.Diagram),
        };
    }

    /// <summary>Writes report.json of a model into <paramref name="removalOutputDirectory"/>, atomically; returns its path.</summary>
    public static string Write(string removalOutputDirectory, ReportModel model)
    {
        var path = Path.Combine(Path.GetFullPath(removalOutputDirectory), FileName);
        AtomicFile.WriteAllText(path, Build(model).ToString(Newtonsoft.Json.Formatting.Indented) + "\n");
        return path;
    }

    /// <summary>Reads a report.json back (either shape: the run-only fields of <see cref="Build(RunResult)"/> or the
    /// full <see cref="Build(ReportModel)"/>; what is absent stays empty).</summary>
    /// <exception cref="InvalidDataException">The file is not a report.json of schema version 1.</exception>
    public static ReportModel Read(string path)
    {
        JObject json;
        try
        {
            json = JObject.Parse(File.ReadAllText(path));
        }
        catch (Newtonsoft.Json.JsonReaderException ex)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {ex.Message}", ex);
        }

        try
        {
            return Parse(json, path);
        }
        catch (Exception ex) when (ex is InvalidOperationException or InvalidCastException or FormatException or OverflowException or ArgumentException)
        {
            // A value of the wrong kind somewhere (a hand-edited or foreign file): unreadable, like bad JSON.
            throw new InvalidDataException($"{path} is not a report.json this tool can read: {ex.Message}", ex);
        }
    }

    public static ReportModel Parse(JObject json, string source = "report.json")
    {
        ArgumentNullException.ThrowIfNull(json);
        if ((int?)json["schemaVersion"] != JsonDocuments.SchemaVersion || json["removal"]?.Type != JTokenType.String)
        {
            throw new InvalidDataException($"{source} is not a report.json of schema version {JsonDocuments.SchemaVersion}.");
        }

        // A child of an object, or null where the parent is absent, null or not an object.
        static JToken? Child(JToken? token, string name) => token is JObject o ? o[name] : null;
        static string? Text(JToken? token) => token is null || token.Type == JTokenType.Null ? null : (string?)token;
        static double? Number(JToken? token) => token is null || token.Type == JTokenType.Null ? null : (double)token;
        static IReadOnlyList<string> Texts(JToken? token) => token is JArray array ? [.. array.Select(t => (string)t!)] : [];
        static ReportMetrics? ReadMetrics(JToken? token) => token is JObject o
            ? new ReportMetrics(Number(o["forgetAccuracy"]), Number(o["retainAccuracy"]), Number(o["testAccuracy"]), Number(o["mia"]), Number(o["miaAttackAccuracy"]))
            {
                HeldOutForgetAccuracy = Number(o["heldOutForgetAccuracy"]),
                ForgottenSampleAccuracy = Number(o["forgottenSampleAccuracy"]),
                ForgottenSamples = o["forgottenSamples"] is { Type: JTokenType.Integer } n ? (int)n : null,
                ForgottenLabelsHeldOutAccuracy = Number(o["forgottenLabelsHeldOutAccuracy"]),
                ForgottenLabelsHeldOutError = Number(o["forgottenLabelsHeldOutError"]),
            }
            : null;

        var lineage = json["lineage"] as JObject;
        var diagram = lineage is null ? LineageDiagram.Empty : new LineageDiagram(
            [.. (lineage["datasets"] as JArray ?? []).Select(d => new DiagramNode((string)d["id"]!, DiagramNodeKind.Dataset, Text(d["detail"]) ?? string.Empty))],
            [.. (lineage["models"] as JArray ?? []).Select(d => new DiagramNode((string)d["id"]!, DiagramNodeKind.Model, Text(d["detail"]) ?? string.Empty, Text(d["class"])))],
            [.. (lineage["edges"] as JArray ?? []).Select(e => new DiagramEdge((string)e["from"]!, (string)e["to"]!, Text(e["label"]) ?? string.Empty,
                Text(e["kind"]) == "data" ? DiagramNodeKind.Dataset : DiagramNodeKind.Model))]);
        var verification = json["verification"] as JObject;
        return new ReportModel
        {
            RemovalId = (string)json["removal"]!,
            RemovalSha256 = Text(json["removalSha256"]),
            ToolVersion = Text(json["toolVersion"]) ?? string.Empty,
            Method = Text(json["method"]) ?? string.Empty,
            Seconds = Number(json["seconds"]) ?? 0,
            Reason = Text(json["reason"]),
            Forget = Text(json["forget"]) ?? string.Empty,
            // Reports written before the field: their forget text names the samples ("320 samples of feedback (train)").
            ForgetsSamples = json["forgetsSamples"]?.Type == JTokenType.Boolean ? (bool)json["forgetsSamples"]! : (Text(json["forget"]) ?? string.Empty).Contains(" of ", StringComparison.Ordinal),
            // ...and their labels first ("label 3", "labels 3, 7; ...").
            ForgetsLabels = json["forgetsLabels"]?.Type == JTokenType.Boolean ? (bool)json["forgetsLabels"]! : (Text(json["forget"]) ?? string.Empty).StartsWith("label", StringComparison.Ordinal),
            RequestedAt = Text(json["requestedAt"]),
            MaxForgetAccuracy = Number(Child(json["targets"], "maxForgetAccuracy")),
            MaxRetainDrop = Number(Child(json["targets"], "maxRetainDrop")),
            Roots = Texts(json["roots"]),
            Models = [.. (json["models"] as JArray ?? []).Select(m => new ReportEntry
            {
                Id = (string)m["id"]!,
                Role = Text(m["role"]) ?? "descendant",
                Method = Text(m["method"]) ?? Text(json["method"]) ?? string.Empty,
                Status = Text(m["status"]) ?? "done",
                Error = Text(m["error"]),
                Parameters = m["parameters"] as JObject,
                InputSha256 = Text(m["inputSha256"]),
                Output = Text(m["output"]),
                OutputSha256 = Text(m["outputSha256"]),
                Seconds = Number(m["seconds"]) ?? 0,
                UpstreamRoots = Texts(m["upstreamRoots"]),
                Before = ReadMetrics(Child(m["metrics"], "before")),
                After = ReadMetrics(Child(m["metrics"], "after")),
                Reference = ReadMetrics(Child(m["metrics"], "reference")),
                // The words of each miss (reports before 'missedMessages' kept them in 'missed').
                Missed = Texts(m["missedMessages"] ?? m["missed"]),
            })],
            Unaffected = Texts(json["unaffected"]),
            Manifests = [.. (json["manifests"] as JArray ?? []).Select(m => new ReportManifest(Text(m["kind"]) ?? string.Empty, Text(m["id"]) ?? string.Empty,
                Text(m["path"]) ?? string.Empty, Text(m["sha256"]) ?? string.Empty))],
            Diagram = diagram,
            Verification = verification is null ? null : new ReportVerification((bool?)verification["targetsMet"] ?? false, (bool?)verification["reference"] ?? false,
                Number(verification["referenceSeconds"]), Number(verification["seconds"]) ?? 0),
        };
    }

    /// <summary>A fraction as a percentage with one decimal, from the value report.json keeps (4 decimals), so the
    /// terminal tables show what report.md and report.html show.</summary>
    public static string Percent(double? value) => ReportMetrics.Round(value) is { } v ? (v * 100).ToString("0.0", CultureInfo.InvariantCulture) : "-";
}
