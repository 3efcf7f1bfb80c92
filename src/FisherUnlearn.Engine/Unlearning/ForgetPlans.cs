using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Harvest;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Hashing;
using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Unlearning;

/// <summary>
/// Forget plans (docs/methods.md): the harvest moves every pass over data ahead of the removal request, and so can the
/// calibration. For each label a model knows, and each set of labels its <see cref="ForgetPlanCoverage"/> covers (by
/// default every pair of up to 13 labels), <see cref="Compute"/> runs the very calibration a <c>fiun</c> request to
/// forget exactly those labels would run (same importances, slices, seeds and grid), and stores the chosen setting in
/// <c>&lt;output&gt;/harvest/&lt;model&gt;/plans/&lt;key&gt;.json</c>. The key hashes the harvest key (checkpoint, data, Fisher
/// settings, engine version), the method settings and the requested target, so a plan is used only where it is exactly
/// what calibrating would give: a request that forgets a planned label set of a model (with <c>importance: own</c>) then
/// needs no data at all, and its output is byte-identical to a calibrated run's. Requests of other label sets or of
/// samples, other settings or a changed checkpoint calibrate as before. <c>run</c> only reads plans; <c>harvest</c>
/// writes them.
/// </summary>
public static class ForgetPlans
{
    public const string FolderName = "plans";
    /// <summary>3: each plan carries <c>check</c>, the hash of its setting (files of 2 are read as no plans).</summary>
    public const int SchemaVersion = 3;
    private const string FormatVersion = "fiun-plans/4";

    /// <summary>Whether plans can stand in for calibration under these settings (fiun, own importance, calibrated).</summary>
    public static bool Applies(UnlearnSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Method == UnlearnSettings.Fiun && settings.Importance == "own" && settings.Calibrate;
    }

    /// <summary>The key of a model's plans: its harvest key, the method settings and the requested target (none means the
    /// label default, 0.01, so a removal that states 0.01 and one that states nothing share plans).</summary>
    public static string KeyOf(string harvestKey, UnlearnSettings settings, double? requestedTarget)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var target = settings.Target ?? requestedTarget ?? UnlearnSettings.DefaultLabelTarget;
        return ContentHash.Combine(FormatVersion, Harvester.EngineVersion, harvestKey, settings.Describe().ToJsonString(),
            target.ToString("R", CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The distinct (settings, requested target) pairs plans are made for in a workspace: the workspace's defaults, and
    /// those of each removal that forgets labels, where plans apply (fiun with its own importance, calibrated) and, when
    /// <paramref name="harvest"/> is given, whose method reads a harvest of those Fisher settings (plans are calibrated
    /// on the harvest the method reads).
    /// </summary>
    public static IReadOnlyList<(UnlearnSettings Settings, double? Target)> Variants(Workspace workspace, UnlearnSettings defaults, HarvestOptions? harvest = null)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(defaults);
        var variants = new List<(UnlearnSettings Settings, double? Target)> { (defaults, null) };
        foreach (var removal in workspace.Removals.Values.Where(r => r.Labels.Count > 0).OrderBy(r => r.Id, StringComparer.Ordinal))
        {
            try
            {
                variants.Add((UnlearnSettings.From(removal, workspace.Settings), removal.Targets?.MaxForgetAccuracy));
            }
            catch (EngineException)
            {
                // A removal with bad settings gets its error from 'run'; no plans for it.
            }
        }

        return [.. variants.Where(v => Applies(v.Settings) && (harvest is null || Reads(v.Settings, harvest)))
            .DistinctBy(v => v.Settings.Describe().ToJsonString() + "|" + (v.Settings.Target ?? v.Target ?? UnlearnSettings.DefaultLabelTarget).ToString("R", CultureInfo.InvariantCulture))];
    }

    // Whether the method under these settings reads a harvest made with these options.
    private static bool Reads(UnlearnSettings settings, HarvestOptions harvest)
    {
        var read = new HarvestOptions { Estimator = settings.Estimator, Temperature = settings.Temperature, MaxSamplesPerLabel = settings.MaxSamplesPerLabel };
        return read.Estimator == harvest.Estimator && read.MaxSamplesPerLabel == harvest.MaxSamplesPerLabel
            && (!read.Estimator.UsesBatchSize() || read.BatchSize == harvest.BatchSize)
            && (!read.Estimator.UsesTemperature() || read.Temperature.Equals(harvest.Temperature));
    }

    public static string PathOf(string outputDirectory, string modelId, string key) =>
        Path.Combine(DirectoryOf(outputDirectory, modelId), key + ".json");

    /// <summary>The folder of a model's forget plans, beside its harvest.</summary>
    public static string DirectoryOf(string outputDirectory, string modelId) =>
        Path.Combine(HarvestCache.DirectoryOf(outputDirectory, modelId), FolderName);

    /// <summary>The stored plan that forgets exactly these labels, or null (no file, another key, a damaged file, no
    /// such plan).</summary>
    public static ForgetPlan? Find(string outputDirectory, string modelId, string key, IEnumerable<int> labels)
    {
        // A request reads one plan: only its entry is turned into a plan (a file holds 55 for a model of ten labels).
        var wanted = ForgetPlan.KeyOf(labels);
        return Read(outputDirectory, modelId, key, set => set == wanted) is [var plan, ..] ? plan : null;
    }

    /// <summary>All stored plans of a key, or null when there is no usable file.</summary>
    public static ForgetPlanTable? Load(string outputDirectory, string modelId, string key) =>
        Read(outputDirectory, modelId, key, _ => true) is { } plans ? new ForgetPlanTable(plans) : null;

    // The stored plans whose label-set key 'wanted' accepts, or null when the file is missing, of another key or model,
    // or damaged where it was read (a damaged plan file is a miss: the request calibrates, the next harvest rewrites it).
    private static List<ForgetPlan>? Read(string outputDirectory, string modelId, string key, Func<string, bool> wanted)
    {
        var path = PathOf(outputDirectory, modelId, key);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            RegularFile.Ensure(path);
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || root.GetProperty("schemaVersion").GetInt32() != SchemaVersion
                || root.GetProperty("key").GetString() != key || root.GetProperty("model").GetString() != modelId)
            {
                return null;
            }

            var plans = new List<ForgetPlan>();
            foreach (var item in root.GetProperty("plans").EnumerateArray())
            {
                var labels = item.GetProperty("labels").EnumerateArray().Select(l => l.GetInt32()).ToArray();
                var set = ForgetPlan.KeyOf(labels);
                if (labels.Length == 0 || set != string.Join(',', labels))
                {
                    throw new FormatException("'labels' must be distinct and ascending");
                }

                // A plan whose setting no longer has its check (edited or damaged since harvest wrote it: found in QA, an
                // edited alpha was applied silently) is not there: a request calibrates, the next harvest calibrates it again.
                if (wanted(set) && PlanOf(item, labels) is var read && item.TryGetProperty("check", out var check) && check.GetString() == Check(read))
                {
                    plans.Add(read);
                }
            }

            return plans;
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            return null;
        }
    }

    private static ForgetPlan PlanOf(JsonElement item, int[] labels)
    {
        double Number(string name) => item.GetProperty(name).GetDouble();
        double? Optional(string name) => item.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value.GetDouble() : null;
        var point = new CalibrationPoint(Optional("alpha"), Optional("lambda"), Number("headShift"), (long)Number("selected"),
            Number("forgetAccuracy"), Number("retainAccuracy"));
        var result = new CalibrationResult(point, Number("target"), item.GetProperty("targetMet").GetBoolean(), (int)Number("evaluated"), Number("seconds"));
        return new ForgetPlan(labels, result, (int)Number("forgetSamples"), (int)Number("retainSamples"));
    }

    /// <summary>
    /// Calibrates, for each label set of the model's <paramref name="coverage"/> (default: every label it knows and every
    /// pair while the model knows at most 13 labels), a request to forget exactly that set, and stores the plans
    /// (atomically, merged under the model's cache lock with what another harvest stored meanwhile; plans made for a
    /// harvest the model's cache no longer lists, an older checkpoint's or data's, are removed). Plans already stored under
    /// the key are kept and only the missing sets are calibrated; sets stored beyond the coverage stay. Harvests the model
    /// first when needed. Returns the plans, the file and whether nothing had to be calibrated.
    /// </summary>
    public static ForgetPlanFile Compute(WorkspaceAnalysis analysis, string modelId, UnlearnSettings settings,
        JobResources resources, double? requestedTarget = null, CancellationToken cancellationToken = default) =>
        Compute(analysis, modelId, settings, resources, requestedTarget, force: false, coverage: null, cancellationToken);

    /// <summary>As above; with <paramref name="force"/> every plan of the coverage is calibrated again even when stored
    /// (stored sets beyond it stay), and
    /// <paramref name="progress"/> told (plans calibrated, plans to calibrate) before the first and after each.</summary>
    public static ForgetPlanFile Compute(WorkspaceAnalysis analysis, string modelId, UnlearnSettings settings,
        JobResources resources, double? requestedTarget, bool force, ForgetPlanCoverage? coverage, CancellationToken cancellationToken = default,
        Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(resources);
        if (!Applies(settings))
        {
            throw new ArgumentException("Forget plans apply to fiun with importance 'own' and calibration on.", nameof(settings));
        }

        coverage ??= new ForgetPlanCoverage();
        var workspace = analysis.Workspace;
        var manifest = workspace.Models[modelId];
        var harvest = Harvester.Harvest(manifest, workspace, UnlearningJob.HarvestOptionsFor(settings, analysis, resources), cancellationToken);
        var key = KeyOf(harvest.Key, settings, requestedTarget);
        var output = workspace.OutputDirectory;
        var path = PathOf(output, modelId, key);
        var stored = force ? null : Load(output, modelId, key);
        var sets = coverage.SetsOf(harvest.Labels.Where(l => l.Known).Select(l => l.Label));
        var missing = sets.Where(set => stored?.Contains(set) != true).ToList();
        if (stored is not null && missing.Count == 0)
        {
            return new ForgetPlanFile(stored, path, true);
        }

        var plans = new List<ForgetPlan>();
        var calibratedCount = 0;
        var clock = Stopwatch.StartNew();
        using (var module = ModelFactory.Load(manifest))
        {
            var include = UnlearningJob.IncludeFor(settings, module);
            var full = harvest.Knowledge(include);
            // The plans calibrate on train slices of every dataset of the lineage, evaluated together (SampleStack).
            if (missing.Count > 0)
            {
                SampleStack.CheckLineage(manifest, RemovalScope.KnowledgeOf(workspace, analysis.Graph, modelId).Select(k => resources.Splits.Get(k.Dataset, "train")));
            }
            progress?.Invoke(0, missing.Count);
            foreach (var labels in missing)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var started = Stopwatch.GetTimestamp();
                var request = new RemovalManifest { Id = "plan-" + ForgetPlan.KeyOf(labels), ManifestPath = manifest.ManifestPath, Labels = labels, Location = manifest.Location };
                var scope = RemovalScope.For(workspace, analysis.Graph, request, modelId);
                // Plans are made for harvested labels, which have samples, so each has an importance.
                var forget = UnlearningJob.OwnForgetImportance(harvest, scope, module, resources, settings.ToFisherOptions(), include, cancellationToken)
                    ?? throw new InvalidOperationException($"'{modelId}' has no harvested label among {ForgetPlan.KeyOf(labels)}.");
                var calibrated = UnlearningJob.Calibrate(module, scope, settings, resources, forget, full, include, settings.Target ?? requestedTarget, apply: false);
                var result = calibrated.Result with { Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds };
                plans.Add(new ForgetPlan(labels, result, calibrated.ForgetSamples, calibrated.RetainSamples));
                progress?.Invoke(++calibratedCount, missing.Count);
            }
        }

        // What is stored now (another harvest may have written since this one read: QA lost 10 pair plans to a concurrent
        // single-label harvest), with these plans over it; a forced harvest replaces the sets it calibrated, and keeps the
        // others (a narrower --plan-labels keeps what a wider one made).
        using var cacheLock = HarvestCache.LockModel(output, modelId);
        var table = new ForgetPlanTable((Load(output, modelId, key)?.All ?? []).Concat(plans));
        var root = new JsonObject
        {
            ["schemaVersion"] = SchemaVersion,
            ["model"] = modelId,
            ["key"] = key,
            ["harvestKey"] = harvest.Key,
            ["requestedTarget"] = settings.Target ?? requestedTarget,
            ["settings"] = settings.Describe(),
            ["plans"] = new JsonArray([.. table.All.Select(ToJson)]),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllText(path, root.ToJsonString(Json) + "\n");
        var current = HarvestCache.ReadIndex(output, modelId).Select(e => e.Key).Append(harvest.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var old in Directory.EnumerateFiles(Path.GetDirectoryName(path)!, "*.json").Where(f => !string.Equals(f, path, StringComparison.Ordinal)))
        {
            TryDelete(old, current);
        }

        return new ForgetPlanFile(table, path, false) { Calibrated = missing.Count, Seconds = clock.Elapsed.TotalSeconds };
    }

    // The hash of what a request applies and reports of a plan (not its calibration time), as read back from the file.
    private static string Check(ForgetPlan plan)
    {
        var (result, chosen) = (plan.Result, plan.Result.Chosen);
        return ContentHash.OfText(string.Create(CultureInfo.InvariantCulture,
            $"{ForgetPlan.KeyOf(plan.Labels)};{chosen.Alpha:R};{chosen.Lambda:R};{chosen.HeadShift:R};{chosen.Selected};{chosen.ForgetAccuracy:R};{chosen.RetainAccuracy:R};{result.Target:R};{result.TargetMet};{result.Evaluated};{plan.ForgetSamples};{plan.RetainSamples}"))[..16];
    }

    private static JsonObject ToJson(ForgetPlan plan)
    {
        var (result, chosen) = (plan.Result, plan.Result.Chosen);
        return new JsonObject
        {
            ["labels"] = new JsonArray([.. plan.Labels.Select(l => JsonValue.Create(l))]),
            ["alpha"] = chosen.Alpha,
            ["lambda"] = chosen.Lambda,
            ["headShift"] = chosen.HeadShift,
            ["selected"] = chosen.Selected,
            ["forgetAccuracy"] = chosen.ForgetAccuracy,
            ["retainAccuracy"] = chosen.RetainAccuracy,
            ["target"] = result.Target,
            ["targetMet"] = result.TargetMet,
            ["evaluated"] = result.Evaluated,
            ["forgetSamples"] = plan.ForgetSamples,
            ["retainSamples"] = plan.RetainSamples,
            ["seconds"] = Math.Round(result.Seconds, 4),
            ["check"] = Check(plan),
        };
    }

    // Plans of a harvest the model's cache no longer lists are for a previous checkpoint or data: removed. Plans of the
    // harvests it lists (other Fisher settings: another estimator, sample cap) and of other method settings or targets
    // stay (QA: a tempered harvest deleted the default plans, and a request after the data was deleted then failed).
    private static void TryDelete(string path, IReadOnlySet<string> harvestKeys)
    {
        try
        {
            RegularFile.Ensure(path);
            if (JsonNode.Parse(File.ReadAllText(path)) is JsonObject root && root["harvestKey"] is JsonValue value
                && value.TryGetValue<string>(out var harvestKey) && harvestKeys.Contains(harvestKey))
            {
                return;
            }

            File.Delete(path);
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            // Left for a later harvest or a clean of the output folder.
        }
    }

    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = true };
}
