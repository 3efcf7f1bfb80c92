using System.Globalization;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Engine.Verification;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Lineage.Text;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Running;

/// <summary>
/// What one finished job leaves behind besides its checkpoint: <c>&lt;out&gt;/&lt;removal&gt;/.jobs/&lt;model&gt;.json</c>, the model's
/// report entry plus the <see cref="JobKey"/> it was computed for. Written atomically after the checkpoint, so a record
/// exists only for a complete output. Reruns compare keys to skip up-to-date models; shards and worker processes
/// exchange their results through these files; <c>run --merge</c> gathers them into report.json.
/// </summary>
internal sealed record JobRecord(string Key, ModelOutcome Outcome)
{
    public const string FolderName = JobRecordFiles.FolderName;

    public static string PathOf(string removalDirectory, string modelId) => JobRecordFiles.PathOf(removalDirectory, modelId);

    /// <summary>True when the record's output file still exists with the recorded content.</summary>
    public bool OutputIntact(FileHashCache files) =>
        Outcome.Succeeded && Outcome.OutputPath is { } path && File.Exists(path) && Outcome.OutputSha256 == files.Hash(path);

    /// <summary>Writes the record, its error naming files relative to <paramref name="workspaceRoot"/> as report.json does:
    /// the output folder is uploaded as an artifact, and must not carry the machine's folders (QA: a failed model's record
    /// held '/tmp/…/clinic-north.safetensors' and line 0, column 0, where report.json had the workspace's path).</summary>
    public void Write(string removalDirectory, string workspaceRoot) =>
        AtomicFile.WriteAllText(PathOf(removalDirectory, Outcome.Id), ToJson(workspaceRoot).ToString(Newtonsoft.Json.Formatting.Indented) + "\n");

    /// <param name="workspaceRoot">Where the record's workspace-relative error file is resolved; null leaves it as written,
    /// for a caller that reads no location (the method, whether a record is there).</param>
    public static JobRecord? TryRead(string removalDirectory, string modelId, string? workspaceRoot)
    {
        var path = PathOf(removalDirectory, modelId);
        try
        {
            return File.Exists(path) ? FromJson(JObject.Parse(File.ReadAllText(path)), removalDirectory, workspaceRoot) : null;
        }
        catch (Exception ex) when (ex is IOException or Newtonsoft.Json.JsonException or FormatException or InvalidCastException or ArgumentException)
        {
            return null; // a damaged record counts as missing: the model is simply redone
        }
    }

    /// <param name="workspaceRoot">Null: paths as the job gave them (a worker's line to its coordinator, same machine);
    /// else the error's message and file are written relative to it, and a line or column not known is null.</param>
    public JObject ToJson(string? workspaceRoot = null) => new()
    {
        ["schemaVersion"] = 1,
        ["key"] = Key,
        ["id"] = Outcome.Id,
        ["role"] = Outcome.Role.ToString().ToLowerInvariant(),
        ["method"] = Outcome.Method,
        ["status"] = Outcome.Succeeded ? "done" : "failed",
        // With where it points (a worker's failure keeps its file and line when the coordinator reports it).
        ["error"] = Outcome.Error is not { } error ? null : new JObject
        {
            ["code"] = error.Code,
            ["message"] = workspaceRoot is null ? error.Message : QuotedPaths.RelativeTo(error.Message, workspaceRoot),
            ["file"] = error.Location.File.Length == 0 ? null : workspaceRoot is null ? error.Location.File : RelativePath.Within(workspaceRoot, error.Location.File) ?? error.Location.File,
            ["line"] = error.Location.Line > 0 ? error.Location.Line : null,
            ["column"] = error.Location.Line > 0 && error.Location.Column > 0 ? error.Location.Column : null,
        },
        ["parameters"] = Outcome.Parameters is null ? null : JToken.Parse(Outcome.Parameters.ToJsonString()),
        ["inputSha256"] = Outcome.InputSha256,
        ["output"] = Outcome.OutputPath is null ? null : Path.GetFileName(Outcome.OutputPath),
        ["outputSha256"] = Outcome.OutputSha256,
        ["seconds"] = Math.Round(Outcome.Seconds, 4),
        ["before"] = Metrics(Outcome.Before),
        ["after"] = Metrics(Outcome.After),
    };

    public static JobRecord FromJson(JObject json, string removalDirectory, string? workspaceRoot = null)
    {
        var error = json["error"] as JObject;
        var output = (string?)json["output"];
        var outcome = new ModelOutcome
        {
            Id = (string)json["id"]!,
            Role = (string?)json["role"] == "root" ? ModelRole.Root : ModelRole.Descendant,
            Method = (string)json["method"]!,
            Error = error is null ? null : new Diagnostic((string)error["code"]!, Severity.Error, (string)error["message"]!,
                (string?)error["file"] is { Length: > 0 } file
                    ? new SourceLocation(workspaceRoot is null || Path.IsPathRooted(file) ? file : Path.GetFullPath(Path.Combine(workspaceRoot, file)), (int?)error["line"] ?? 0, (int?)error["column"] ?? 0)
                    : SourceLocation.None),
            Parameters = json["parameters"] is JObject parameters ? System.Text.Json.Nodes.JsonNode.Parse(parameters.ToString())!.AsObject() : null,
            InputSha256 = (string?)json["inputSha256"],
            OutputPath = output is null ? null : Path.Combine(removalDirectory, output),
            OutputSha256 = (string?)json["outputSha256"],
            Seconds = (double?)json["seconds"] ?? 0,
            Before = ReadMetrics(json["before"]),
            After = ReadMetrics(json["after"]),
        };
        return new JobRecord((string)json["key"]!, outcome);
    }

    private static JToken? Metrics(ModelMetrics? m) => m is null ? null : new JObject
    {
        ["forgetAccuracy"] = m.ForgetAccuracy,
        ["retainAccuracy"] = m.RetainAccuracy,
        ["testAccuracy"] = m.TestAccuracy,
        ["mia"] = m.Mia,
        ["miaAttackAccuracy"] = m.MiaAttackAccuracy,
        ["forgetSamples"] = m.ForgetSamples,
        ["retainSamples"] = m.RetainSamples,
        ["testSamples"] = m.TestSamples,
        // The parts of forgetAccuracy that report.json also gives (found in QA: a run's report had them null, only verify's
        // rewrite filled them in).
        ["heldOutForgetAccuracy"] = m.HeldOutForgetAccuracy,
        ["forgottenSampleAccuracy"] = m.ForgottenSampleAccuracy,
        ["forgottenSamples"] = m.ForgottenSamples,
        ["forgottenLabelsHeldOutAccuracy"] = m.ForgottenLabelsHeldOutAccuracy,
        ["forgottenLabelsHeldOutError"] = m.ForgottenLabelsHeldOutError,
    };

    private static ModelMetrics? ReadMetrics(JToken? token) => token is JObject m
        ? new ModelMetrics((double?)m["forgetAccuracy"], (double?)m["retainAccuracy"], (double?)m["testAccuracy"], (double?)m["mia"],
            (int?)m["forgetSamples"] ?? 0, (int?)m["retainSamples"] ?? 0, (int?)m["testSamples"] ?? 0, (double?)m["miaAttackAccuracy"])
        {
            HeldOutForgetAccuracy = (double?)m["heldOutForgetAccuracy"],
            ForgottenSampleAccuracy = (double?)m["forgottenSampleAccuracy"],
            ForgottenSamples = (int?)m["forgottenSamples"] ?? 0,
            ForgottenLabelsHeldOutAccuracy = (double?)m["forgottenLabelsHeldOutAccuracy"],
            ForgottenLabelsHeldOutError = (double?)m["forgottenLabelsHeldOutError"],
        }
        : null;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Outcome.Id} {Key[..Math.Min(12, Key.Length)]}");
}
