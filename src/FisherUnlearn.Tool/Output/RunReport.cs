using System.Globalization;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Engine.Verification;
using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Tool.Cli;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Output;

/// <summary>
/// <c>report.json</c> of a run (schemaVersion 1) in <c>&lt;out&gt;/&lt;removal-id&gt;/</c>: removal id and manifest hash, tool
/// version, method, and per model: id, role, method, parameters used (with the calibrated alpha, lambda and head shift),
/// input and output SHA-256, seconds, metrics before and after; total seconds. Written atomically.
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

    public static JToken? Metrics(ModelMetrics? metrics) => metrics is null ? null : new JObject
    {
        ["forgetAccuracy"] = Round(metrics.ForgetAccuracy),
        ["retainAccuracy"] = Round(metrics.RetainAccuracy),
        ["testAccuracy"] = Round(metrics.TestAccuracy),
        ["mia"] = Round(metrics.Mia),
    };

    private static JToken Round(double? value) => value is { } v ? new JValue(Math.Round(v, 4)) : JValue.CreateNull();

    public static string Write(RunResult result)
    {
        var path = Path.Combine(result.OutputDirectory, FileName);
        AtomicFile.WriteAllText(path, Build(result).ToString(Newtonsoft.Json.Formatting.Indented) + "\n");
        return path;
    }

    public static string Percent(double? value) => value is { } v ? (v * 100).ToString("0.0", CultureInfo.InvariantCulture) : "-";
}
