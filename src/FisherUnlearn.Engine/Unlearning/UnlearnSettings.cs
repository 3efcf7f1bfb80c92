using System.Globalization;
using System.Text.Json.Nodes;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Unlearning;

/// <summary>
/// The method of a removal and its settings, read from the removal's <c>method</c> and <c>parameters</c> (over the
/// workspace's <c>unlearn.json</c> defaults, over the documented defaults below). docs/methods.md describes each.
/// </summary>
public sealed record UnlearnSettings
{
    public const string Fiun = "fiun";
    public const string Ssd = "ssd";
    public const string Retrain = "retrain";

    public static IReadOnlyList<string> Methods => RemovalManifest.Methods;

    /// <summary>The forget accuracy a label request aims at when neither the settings nor the removal state one.</summary>
    public const double DefaultLabelTarget = RemovalTargets.DefaultMaxForgetAccuracy;

    /// <summary><c>fiun</c> (default), <c>ssd</c> or <c>retrain</c>.</summary>
    public string Method { get; init; } = Fiun;

    /// <summary>fiun: <c>own</c> (each model's own harvested forget importance, default) or <c>roots</c> (MFIM: the
    /// upstream roots' forget importances merged by element-wise max, divided by 5 per extra root).</summary>
    public string Importance { get; init; } = "own";

    /// <summary>The Fisher estimator (<c>exact</c> default).</summary>
    public FisherEstimator Estimator { get; init; } = FisherEstimator.Exact;

    /// <summary>The temperature of the <c>tempered</c> estimator (default 4; ignored by the others).</summary>
    public double Temperature { get; init; } = FisherOptions.DefaultTemperature;

    /// <summary>Upper bound of <see cref="Temperature"/>: far past any useful value (the tempered Fisher then only
    /// shrinks towards the label-free limit).</summary>
    public const double MaxTemperature = 1e6;

    /// <summary>Lower bound of <see cref="Temperature"/>: each sample's gradient grows as 1 / T, and its square, the Fisher,
    /// as 1 / T^2, which past this overflows float32 on an ordinary model (found in QA: T = 1e-30 made every diagonal
    /// infinite and was reported as the checkpoint's fault, FUL4080).</summary>
    public const double MinTemperature = 0.01;

    /// <summary>The values of <see cref="EstimatorFallback"/>.</summary>
    public const string FallbackTempered = "tempered", FallbackNone = "none";

    /// <summary>fiun, <c>exact</c> estimator, sample requests: <c>tempered</c> (default) computes the importances again
    /// with the tempered Fisher (at the default temperature) when the exact one's calibration reaches its target at no
    /// setting, and keeps that calibration when it does; <c>none</c> keeps the exact one's. The exact Fisher of a sample
    /// the model classifies with p -> 1 vanishes, so a model that memorised the samples shows no importance for them
    /// (docs/methods.md, "Estimator fallback").</summary>
    public string EstimatorFallback { get; init; } = FallbackTempered;

    /// <summary>Whether a sample request's calibration that misses its target is tried again with the tempered Fisher:
    /// only fiun with the exact estimator and calibration on (a fixed setting has no target to miss).</summary>
    public bool FallsBackToTempered => Method == Fiun && Estimator == FisherEstimator.Exact && Calibrate && EstimatorFallback == FallbackTempered;

    /// <summary><c>all</c> parameters (default) or <c>last</c> (the final layer's weight and bias only).</summary>
    public string Layers { get; init; } = "all";

    /// <summary>Fixed selection threshold; with <see cref="Calibrate"/> the grid <see cref="Alphas"/> is searched instead.</summary>
    public double Alpha { get; init; } = 10;

    /// <summary>Fixed dampening constant (see <see cref="Alpha"/>).</summary>
    public double Lambda { get; init; } = 1;

    /// <summary>Search (alpha, lambda) per model on a calibration slice (fiun default true; ssd false).</summary>
    public bool Calibrate { get; init; } = true;

    public IReadOnlyList<double> Alphas { get; init; } = [0.25, 0.5, 1, 2, 4, 8, 16];

    public IReadOnlyList<double> Lambdas { get; init; } = [0.01, 0.1, 0.5, 1];

    /// <summary>Highest forget accuracy accepted on the calibration slice; null = the removal's maxForgetAccuracy, else
    /// 0.01 for label requests, else (sample requests) the model's accuracy on held-out samples of the same labels.</summary>
    public double? Target { get; init; }

    /// <summary><c>auto</c> (default: only when dampening alone misses the target), <c>off</c> or <c>always</c>: the
    /// calibrated downward shift of the forgotten classes' output bias (label requests only).</summary>
    public string HeadCorrection { get; init; } = "auto";

    /// <summary>auto: dampening alone is kept when its calibration retain accuracy is within this of the best setting
    /// with the head correction (default 0.01: half the design's 2-point retain budget, the other half for the difference
    /// between the slice and held-out data; with 0.02 a federated root lost 2.9 held-out points for 2 on its slice).</summary>
    public double HeadTolerance { get; init; } = 0.01;

    /// <summary>Logits added to the calibrated head shift (default 1): free for retained accuracy, it covers held-out
    /// forget samples a little more confident than the calibration slice's.</summary>
    public double HeadMargin { get; init; } = 1.0;

    /// <summary>The head shift's margin is at least this many tail scales of the slice's forget samples (default 3): the
    /// mean amount by which the most confident ones exceed the next (<see cref="Calibrator.TailScale"/>), so that models
    /// whose logits spread widely get a margin in proportion.</summary>
    public double HeadTailMargin { get; init; } = 3.0;

    /// <summary>Sample requests: the forgotten samples' accuracy may exceed the model's held-out accuracy on their labels by
    /// this many standard errors of an accuracy measured on that many samples before anything is dampened (default 1): a
    /// difference chance explains is no evidence that the model learned the samples, and dampening for it only costs
    /// retained accuracy.</summary>
    public double SampleTolerance { get; init; } = 1.0;

    /// <summary>Sample requests: whether a linear probe trained on the model's kept training samples, without the forgotten
    /// ones, measures how much easier or harder the forgotten samples are than unseen samples of their labels, and their
    /// target moves by that (<see cref="Verification.SampleDifficulty"/>). Off by default: it meets the targets for models
    /// that fit small data closely, and misses them for weaker ones (docs/methods.md, step 2).</summary>
    public bool SampleProbe { get; init; }

    /// <summary>The values of <see cref="SampleBaseline"/>.</summary>
    public const string BaselineRepaired = "repaired", BaselineOriginal = "original";

    /// <summary>Requests with samples, when a repair runs (step 5): which held-out accuracy on the samples' labels a repaired
    /// setting's target follows. <c>repaired</c> (the default since the twenty-seventh session): the repaired model's own,
    /// so the first repaired setting whose samples lead unseen ones by no more than chance explains is kept (as
    /// <c>verify --reference retrain</c> judges them), unless a gentler one that met the original's scores unseen samples
    /// of the labels better by more than <see cref="RepairTolerance"/>; <c>original</c>: the original model's, which
    /// calibration also uses (the repair before), so a repair that gives unseen samples of the labels back less than the
    /// forgotten ones can be kept with the samples still ahead of them (docs/methods.md, step 5).</summary>
    public string SampleBaseline { get; init; } = BaselineRepaired;

    /// <summary>Whether a repaired setting's target follows its own held-out accuracy (<see cref="SampleBaseline"/>).</summary>
    public bool FollowsRepairedBaseline => SampleBaseline == BaselineRepaired;

    /// <summary>Whether a sample request's calibration uses the probe: asked for, and a method that calibrates (what
    /// <c>verify</c> then also uses, to judge the outputs as they were made).</summary>
    public bool ProbesSamples => SampleProbe && Calibrate && Method != Retrain;

    /// <summary>Upper bounds of the margins, far past any useful value but small enough that a head shift stays a finite
    /// number (1e308 logits overflowed to infinity, which no report can hold).</summary>
    public const double MaxHeadMargin = 1000, MaxTailMargin = 100, MaxSampleTolerance = 10;

    /// <summary>Calibration slice: forget samples per forgotten label, retained samples per retained label (train split).</summary>
    public int CalibrationForget { get; init; } = 200;

    public int CalibrationRetain { get; init; } = 50;

    /// <summary>Label requests: the calibration aims at <c>target * calibrationMargin</c> on its slice (default 0.25), so
    /// that held-out forget accuracy, which runs a little above the slice's, still meets the target.</summary>
    public double CalibrationMargin { get; init; } = 0.25;

    /// <summary>Harvest / Fisher cap of train samples per label.</summary>
    public int MaxSamplesPerLabel { get; init; } = 200;

    public int Seed { get; init; }

    /// <summary>fiun, sample requests: passes of the repair fine-tune over retained training samples that follows a
    /// dampening (0 = no repair; docs/methods.md, step 5).</summary>
    public int RepairEpochs { get; init; } = 2;

    /// <summary>The repair's Adam learning rate.</summary>
    public double RepairLearningRate { get; init; } = 1e-3;

    /// <summary>The repair's retained training samples per retained label (seeded, the forgotten samples excluded). 300,
    /// not 100: a repair on more of the retained data ends nearer retraining (docs/methods.md, step 5, measured).</summary>
    public int RepairSamples { get; init; } = 300;

    /// <summary>At most this many settings are repaired, the calibrated one first and then stronger ones, until one
    /// still meets the calibration target after its repair.</summary>
    public int RepairCandidates { get; init; } = 8;

    /// <summary>The repair runs only when the calibrated dampening cost more than this much retained accuracy on the
    /// calibration slice (default 0.01, as <see cref="HeadTolerance"/>): a dampening that cost nothing has nothing to give
    /// back, and repairing it anyway made a stronger setting forget the samples better than unseen ones. Also the cost
    /// under which samples judged easy are dampened all the same (<see cref="Verification.SampleEase.Costly"/>).</summary>
    public double RepairTolerance { get; init; } = 0.01;

    /// <summary>The first weight of the repair's anchor on the forgotten samples (<see cref="Unlearning.RepairAnchor"/>;
    /// 0 = none): the term that keeps the repair from teaching the model the samples again.</summary>
    public double RepairAnchor { get; init; } = 1;

    /// <summary>How closely the repair fits its retained samples again (docs/methods.md, step 5): past
    /// <see cref="RepairEpochs"/> it goes on until their mean cross-entropy is at most this many times the original
    /// model's on them (default 1.25; 0 = no further passes), for at most <see cref="RepairMaxEpochs"/> passes. A model that
    /// fit its training data closely is fit as closely again, as retraining it would be: fit more loosely, its retained
    /// samples' losses stay above its forgotten ones' and a membership attack calls the forgotten samples members.</summary>
    public double RepairFit { get; init; } = 1.25;

    /// <summary>The most passes a repair makes when <see cref="RepairFit"/> asks for more than <see cref="RepairEpochs"/>.</summary>
    public int RepairMaxEpochs { get; init; } = 20;

    /// <summary>Whether a repair goes on past <see cref="RepairEpochs"/> to fit its samples as closely as the original did
    /// (<see cref="RepairFit"/> on, and <see cref="RepairMaxEpochs"/> above <see cref="RepairEpochs"/>).</summary>
    public bool FitsRepair => Repairs && RepairFit > 0 && RepairMaxEpochs > RepairEpochs;

    /// <summary>Whether a sample request's dampened model gets the repair pass (fiun with calibration).</summary>
    public bool Repairs => Method == Fiun && Calibrate && RepairEpochs > 0;

    /// <summary>MFIM: the merged forget importance is divided by this per extra root.</summary>
    public double RootDivisor { get; init; } = 5;

    /// <summary>The options of the Fisher computations these settings ask for (estimator and its temperature).</summary>
    public FisherOptions ToFisherOptions() => new() { Estimator = Estimator, Temperature = Temperature };

    /// <summary>The settings of a removal: <paramref name="methodOverride"/> (the --method option) wins over the
    /// removal's method, which wins over the workspace default; parameters: workspace, then removal.</summary>
    /// <exception cref="EngineException">FUL4101 unknown method, FUL4102 bad parameter.</exception>
    public static UnlearnSettings From(RemovalManifest removal, WorkspaceSettings? workspace = null, string? methodOverride = null)
    {
        ArgumentNullException.ThrowIfNull(removal);
        var settingsFile = new SourceLocation(workspace?.SettingsPath ?? removal.ManifestPath);
        var (named, at) = methodOverride is not null ? (methodOverride, null)
            : removal.Method is not null ? (removal.Method, removal.MethodLocation ?? new SourceLocation(removal.ManifestPath))
            : workspace?.Method is not null ? (workspace.Method, workspace.MethodLocation ?? settingsFile)
            : (Fiun, (SourceLocation?)null);
        var method = named.Trim().ToLowerInvariant();
        if (!Methods.Contains(method))
        {
            // A bad --method has no file to point at; one from a manifest is reported where it is written.
            throw new EngineException(Diagnostic.Create(DiagnosticCatalogue.UnknownMethod, at, named, string.Join(", ", Methods)));
        }

        var settings = new UnlearnSettings { Method = method, Calibrate = method == Fiun };
        var parameters = new SortedDictionary<string, (string Raw, SourceLocation At)>(StringComparer.Ordinal);
        foreach (var (key, value) in workspace?.Parameters ?? new Dictionary<string, string>())
        {
            parameters[key] = (value, workspace!.ParameterLocations.GetValueOrDefault(key) ?? settingsFile);
        }

        foreach (var (key, value) in removal.Parameters)
        {
            parameters[key] = (value, removal.ParameterLocations.GetValueOrDefault(key) ?? new SourceLocation(removal.ManifestPath));
        }

        foreach (var (key, (raw, location)) in parameters)
        {
            settings = settings.With(location, key, raw);
        }

        return settings;
    }

    /// <summary>What <see cref="From"/> would refuse in the workspace's method settings (<c>unlearn.json</c> and every
    /// removal's <c>method</c> and <c>parameters</c>), each reported once at the line where it is written, so that
    /// <c>validate</c> lists them with the manifests' other problems instead of a later command failing on them.</summary>
    public static IReadOnlyList<Diagnostic> Check(Lineage.Workspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        var found = new List<Diagnostic>();
        void Try(Action read)
        {
            try
            {
                read();
            }
            catch (EngineException ex) when (!found.Any(d => d.ToCanonicalString() == ex.Diagnostic.ToCanonicalString()))
            {
                found.Add(ex.Diagnostic);
            }
            catch (EngineException)
            {
                // Already reported (a bad unlearn.json value reaches every removal).
            }
        }

        // Each parameter on its own, so that one bad value does not hide the next (method names are the lineage
        // reader's to check: FUL1024).
        void Parameters(IReadOnlyDictionary<string, string> values, IReadOnlyDictionary<string, SourceLocation> locations, string file)
        {
            foreach (var (key, raw) in values)
            {
                Try(() => new UnlearnSettings().With(locations.GetValueOrDefault(key) ?? new SourceLocation(file), key, raw));
            }
        }

        if (workspace.Settings.SettingsPath is { } settingsPath)
        {
            Parameters(workspace.Settings.Parameters, workspace.Settings.ParameterLocations, settingsPath);
        }

        foreach (var removal in workspace.Removals.Values)
        {
            Parameters(removal.Parameters, removal.ParameterLocations, removal.ManifestPath);
        }

        // A temperature with another estimator than 'tempered' is ignored: said, at the line that sets it, as the command
        // line refuses --temperature without --estimator tempered. So is an estimator fallback with another estimator
        // than 'exact' (only the exact Fisher vanishes on memorised samples).
        // The estimator is resolved on its own, so that a bad value of another parameter (reported above) does not hide
        // this warning.
        void WithoutEffect(IReadOnlyDictionary<string, string> values, IReadOnlyDictionary<string, SourceLocation> locations, string file, string? estimatorRaw)
        {
            if ((!values.ContainsKey("temperature") && !values.ContainsKey("estimatorFallback")) || EstimatorOf(estimatorRaw) is not { } estimator)
            {
                return;
            }

            if (values.ContainsKey("temperature") && !estimator.UsesTemperature())
            {
                found.Add(Diagnostic.Create(DiagnosticCatalogue.ParameterWithoutEffect, locations.GetValueOrDefault("temperature") ?? new SourceLocation(file),
                    "temperature", "the 'tempered' estimator", $"the estimator here is '{estimator.Name()}'", "set \"estimator\": \"tempered\""));
            }

            if (values.ContainsKey("estimatorFallback") && estimator != FisherEstimator.Exact)
            {
                found.Add(Diagnostic.Create(DiagnosticCatalogue.ParameterWithoutEffect, locations.GetValueOrDefault("estimatorFallback") ?? new SourceLocation(file),
                    "estimatorFallback", "the 'exact' estimator", $"the estimator here is '{estimator.Name()}'", "set \"estimator\": \"exact\""));
            }
        }

        var workspaceEstimator = workspace.Settings.Parameters.GetValueOrDefault("estimator");
        if (workspace.Settings.SettingsPath is { } path)
        {
            WithoutEffect(workspace.Settings.Parameters, workspace.Settings.ParameterLocations, path, workspaceEstimator);
        }

        foreach (var removal in workspace.Removals.Values)
        {
            WithoutEffect(removal.Parameters, removal.ParameterLocations, removal.ManifestPath, removal.Parameters.GetValueOrDefault("estimator") ?? workspaceEstimator);
            // Retraining reads no parameter, and SSD none of fiun's own: a removal's own are said (unlearn.json's may serve
            // removals of other methods).
            var removalMethod = removal.Method ?? workspace.Settings.Method;
            if (removalMethod is Retrain or Ssd)
            {
                foreach (var key in removal.Parameters.Keys.Where(k => !k.StartsWith("x-", StringComparison.Ordinal) && (removalMethod == Retrain || FiunOnly.Contains(k)) && Reads(removal, k))
                    .Order(StringComparer.Ordinal))
                {
                    found.Add(Diagnostic.Create(DiagnosticCatalogue.ParameterWithoutEffect, removal.ParameterLocations.GetValueOrDefault(key) ?? new SourceLocation(removal.ManifestPath),
                        key, FiunOnly.Contains(key) ? $"the method '{Fiun}'" : $"the methods '{Fiun}' and '{Ssd}'",
                        removalMethod == Retrain ? $"'{removal.Id}' uses '{Retrain}', which trains again from the recipes" : $"'{removal.Id}' uses '{Ssd}'",
                        $"set \"method\" to '{Fiun}'"));
                }
            }

            // The sample target, the probe and the repair are there for forgotten samples: a removal
            // that names none has nothing for them (unlearn.json's may serve other removals, so only a removal's own are
            // said; those the method already ignores were said above, and "sampleProbe": false asks for nothing).
            if (removal.Samples.Count == 0 && removal.Labels.Count > 0 && removalMethod != Retrain)
            {
                foreach (var key in removal.Parameters.Keys.Where(k => SampleOnly.Contains(k) && !(removalMethod == Ssd && FiunOnly.Contains(k))
                    && !(k == "sampleProbe" && removal.Parameters[k].Trim() == "false") && Reads(removal, k)).Order(StringComparer.Ordinal))
                {
                    found.Add(Diagnostic.Create(DiagnosticCatalogue.ParameterWithoutEffect, removal.ParameterLocations.GetValueOrDefault(key) ?? new SourceLocation(removal.ManifestPath),
                        key, "removals that forget samples", $"'{removal.Id}' forgets labels only", "name the samples to forget in 'forget.samples'"));
                }
            }
        }

        return found;
    }

    // Whether the removal's parameter has a value a method could read: one that has not is an error (reported above), not
    // also a warning that it is ignored.
    private static bool Reads(RemovalManifest removal, string key)
    {
        try
        {
            new UnlearnSettings().With(SourceLocation.None, key, removal.Parameters[key]);
            return true;
        }
        catch (EngineException)
        {
            return false;
        }
    }

    // The estimator a raw value names (the default without one), or null when it names none (reported above).
    private static FisherEstimator? EstimatorOf(string? raw)
    {
        try
        {
            return raw is null ? new UnlearnSettings().Estimator : new UnlearnSettings().With(SourceLocation.None, "estimator", raw).Estimator;
        }
        catch (EngineException)
        {
            return null;
        }
    }

    /// <summary>The workspace's default settings (<c>unlearn.json</c> over the documented defaults), as a removal without
    /// method or parameters of its own gets them; errors are located at <paramref name="settingsPath"/>.</summary>
    public static UnlearnSettings ForWorkspace(WorkspaceSettings? workspace, string settingsPath) =>
        From(new RemovalManifest { Id = "workspace", ManifestPath = settingsPath, Location = new SourceLocation(settingsPath) }, workspace);

    private UnlearnSettings With(SourceLocation path, string key, string raw)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(raw);
        }
        catch (System.Text.Json.JsonException)
        {
            throw Bad(path, key, raw, "a JSON value");
        }

        string Text(params string[] allowed)
        {
            var text = node is JsonValue v && v.TryGetValue<string>(out var s) ? s.Trim().ToLowerInvariant() : null;
            return text is not null && (allowed.Length == 0 || allowed.Contains(text)) ? text : throw Bad(path, key, raw, "one of " + string.Join(", ", allowed));
        }

        double Number(double min, double max = double.MaxValue)
        {
            var ok = node is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d) && d >= min && d <= max;
            return ok ? node!.GetValue<double>() : throw Bad(path, key, raw, max == double.MaxValue
                ? $"a number >= {min.ToString(CultureInfo.InvariantCulture)}"
                : $"a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");
        }

        bool Flag() => node is JsonValue b && b.TryGetValue<bool>(out var flag) ? flag : throw Bad(path, key, raw, "true or false");

        int Integer(int min)
        {
            var ok = node is JsonValue v && v.TryGetValue<int>(out var i) && i >= min;
            return ok ? node!.GetValue<int>() : throw Bad(path, key, raw, string.Create(CultureInfo.InvariantCulture, $"a whole number from {min} to {int.MaxValue}"));
        }

        IReadOnlyList<double> Numbers()
        {
            if (node is JsonArray array && array.Count > 0 && array.All(a => a is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d) && d >= 0))
            {
                return [.. array.Select(a => a!.GetValue<double>())];
            }

            // Manifest parameters are scalars: a grid is written as a string of comma-separated numbers, "0.5, 1, 2".
            if (node is JsonValue text && text.TryGetValue<string>(out var list))
            {
                // Empty entries ("0.1,,0.2") are refused, not skipped: they are more likely a lost value than a style.
                var values = list.Split(',', StringSplitOptions.TrimEntries)
                    .Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) && d >= 0 ? d : double.NaN)
                    .ToList();
                if (values.Count > 0 && values.All(double.IsFinite))
                {
                    return values;
                }
            }

            throw Bad(path, key, raw, "a non-empty list of numbers >= 0 (\"0.5, 1, 2\")");
        }

        return key switch
        {
            "importance" => this with { Importance = Text("own", "roots") },
            "estimator" => this with { Estimator = FisherEstimators.TryParse(Text(), out var e) ? e : throw Bad(path, key, raw, string.Join(", ", FisherEstimators.Names)) },
            "temperature" => this with { Temperature = node is JsonValue t && t.TryGetValue<double>(out var temperature) && double.IsFinite(temperature) && temperature >= MinTemperature && temperature <= MaxTemperature
                ? temperature
                : throw Bad(path, key, raw, $"a temperature from {MinTemperature.ToString(CultureInfo.InvariantCulture)} to {MaxTemperature.ToString(CultureInfo.InvariantCulture)} (1 = the exact Fisher)") },
            "estimatorFallback" => this with { EstimatorFallback = Text(FallbackTempered, FallbackNone) },
            "layers" => this with { Layers = Text("all", "last") },
            "alpha" => this with { Alpha = Number(0), Calibrate = false },
            "lambda" => this with { Lambda = Number(0), Calibrate = false },
            "calibrate" => this with { Calibrate = Flag() },
            "alphas" => this with { Alphas = Numbers() },
            "lambdas" => this with { Lambdas = Numbers() },
            "target" => this with { Target = Number(0) <= 1 ? node!.GetValue<double>() : throw Bad(path, key, raw, "a forget accuracy between 0 and 1 (0.01 = 1%)") },
            "headCorrection" => this with { HeadCorrection = Text("auto", "off", "always") },
            "headTolerance" => this with { HeadTolerance = Number(0, 1) }, // A difference of accuracies.
            "headMargin" => this with { HeadMargin = Number(0, MaxHeadMargin) },
            "headTailMargin" => this with { HeadTailMargin = Number(0, MaxTailMargin) },
            "sampleTolerance" => this with { SampleTolerance = Number(0, MaxSampleTolerance) },
            "sampleProbe" => this with { SampleProbe = Flag() },
            "sampleBaseline" => this with { SampleBaseline = Text(BaselineRepaired, BaselineOriginal) },
            "calibrationForget" => this with { CalibrationForget = Integer(1) },
            "calibrationRetain" => this with { CalibrationRetain = Integer(1) },
            "calibrationMargin" => this with { CalibrationMargin = Number(0) <= 1 ? node!.GetValue<double>() : throw Bad(path, key, raw, "a number between 0 and 1") },
            "maxSamplesPerLabel" => this with { MaxSamplesPerLabel = Integer(1) },
            "seed" => this with { Seed = Integer(int.MinValue) },
            "repairEpochs" => this with { RepairEpochs = Integer(0) },
            "repairLearningRate" => this with { RepairLearningRate = Number(1e-9, 10) },
            "repairSamples" => this with { RepairSamples = Integer(1) },
            "repairCandidates" => this with { RepairCandidates = Integer(1) },
            "repairTolerance" => this with { RepairTolerance = Number(0, 1) },
            "repairAnchor" => this with { RepairAnchor = Number(0, 1000) },
            "repairFit" => this with { RepairFit = Number(0, 1000) },
            "repairMaxEpochs" => this with { RepairMaxEpochs = Integer(0) },
            "rootDivisor" => this with { RootDivisor = Number(1) },
            _ => key.StartsWith("x-", StringComparison.Ordinal) ? this : throw EngineException.At(DiagnosticCatalogue.InvalidMethodParameter, path, null, key, raw,
                $"a known parameter{Lineage.Text.EditDistance.DidYouMean(key, KnownParameters)}; the parameters are {string.Join(", ", KnownParameters)}"),
        };
    }

    /// <summary>The parameters only <c>fiun</c> reads (the roots' importance, the estimator fallback and the repair).</summary>
    private static readonly HashSet<string> FiunOnly = new(StringComparer.Ordinal)
    {
        "importance", "rootDivisor", "estimatorFallback", "sampleBaseline", "repairEpochs", "repairLearningRate", "repairSamples", "repairCandidates", "repairTolerance", "repairAnchor", "repairFit",
        "repairMaxEpochs",
    };

    /// <summary>The parameters only a removal that forgets samples reads (their target, the probe and the repair; the
    /// estimator fallback, for samples alone, is said with the estimator).</summary>
    private static readonly HashSet<string> SampleOnly = new(StringComparer.Ordinal)
    {
        "sampleTolerance", "sampleProbe", "sampleBaseline", "repairEpochs", "repairLearningRate", "repairSamples", "repairCandidates", "repairTolerance",
        "repairAnchor", "repairFit", "repairMaxEpochs",
    };

    /// <summary>Every parameter a method reads, as manifests write them.</summary>
    internal static readonly string[] KnownParameters =
    [
        "importance", "estimator", "temperature", "estimatorFallback", "layers", "alpha", "lambda", "calibrate", "alphas", "lambdas", "target",
        "headCorrection", "headTolerance", "headMargin", "headTailMargin", "sampleTolerance", "sampleProbe", "sampleBaseline", "calibrationForget", "calibrationRetain",
        "calibrationMargin", "maxSamplesPerLabel", "seed", "rootDivisor", "repairEpochs", "repairLearningRate", "repairSamples", "repairCandidates",
        "repairTolerance", "repairAnchor", "repairFit", "repairMaxEpochs",
    ];

    private static EngineException Bad(SourceLocation path, string key, string raw, string expected) =>
        EngineException.At(DiagnosticCatalogue.InvalidMethodParameter, path, null, key, raw, expected);

    /// <summary>The settings as a JSON object for reports (method-relevant fields only), as a label request reads them.</summary>
    public JsonObject Describe() => Describe(forgetsSamples: false);

    /// <summary>The settings as a JSON object for reports (method-relevant fields only). <paramref name="forgetsSamples"/>:
    /// the removal names samples, so <see cref="EstimatorFallback"/> can matter; a label request never reads it, and
    /// leaving it out keeps its outputs' bytes and job keys (and the forget plans' keys) whatever it is set to.</summary>
    public JsonObject Describe(bool forgetsSamples)
    {
        var result = new JsonObject { ["method"] = Method };
        if (Method == Retrain)
        {
            return result;
        }

        if (Method == Fiun)
        {
            result["importance"] = Importance;
            if (Importance == "roots")
            {
                result["rootDivisor"] = RootDivisor; // used only to merge the roots' importance
            }
        }

        result["estimator"] = Estimator.Name();
        if (Estimator.UsesTemperature())
        {
            result["temperature"] = Temperature;
        }

        if (forgetsSamples && Method == Fiun && Estimator == FisherEstimator.Exact && Calibrate)
        {
            result["estimatorFallback"] = EstimatorFallback;
        }

        if (forgetsSamples && Calibrate)
        {
            result["sampleTolerance"] = SampleTolerance; // The sample target's: a label request never reads it.
        }

        if (forgetsSamples && Calibrate && SampleProbe)
        {
            result["sampleProbe"] = true; // Described only when on: the default leaves outputs' bytes and job keys as they were.
        }

        if (forgetsSamples && Method == Fiun && Calibrate)
        {
            result["repairEpochs"] = RepairEpochs;
            if (Repairs)
            {
                result["repairLearningRate"] = RepairLearningRate;
                result["repairSamples"] = RepairSamples;
                result["repairCandidates"] = RepairCandidates;
                result["repairTolerance"] = RepairTolerance;
                result["repairAnchor"] = RepairAnchor;
                result["sampleBaseline"] = SampleBaseline; // what a repaired setting's samples are held to
                // A fit that cannot go past the first passes is no fit: described as off, whichever setting turned it off.
                result["repairFit"] = FitsRepair ? RepairFit : 0;
                if (FitsRepair)
                {
                    result["repairMaxEpochs"] = RepairMaxEpochs;
                }
            }
            else
            {
                result["repairTolerance"] = RepairTolerance; // still the cost under which easy samples are dampened (step 2)
            }
        }

        result["layers"] = Layers;
        result["calibrate"] = Calibrate;
        if (Calibrate)
        {
            result["alphas"] = new JsonArray([.. Alphas.Select(a => (JsonNode)a)]);
            result["lambdas"] = new JsonArray([.. Lambdas.Select(a => (JsonNode)a)]);
            result["headCorrection"] = HeadCorrection;
            result["headTolerance"] = HeadTolerance;
            result["headMargin"] = HeadMargin;
            result["headTailMargin"] = HeadTailMargin;
            result["calibrationMargin"] = CalibrationMargin;
            result["calibrationForget"] = CalibrationForget;
            result["calibrationRetain"] = CalibrationRetain;
        }
        else
        {
            result["alpha"] = Alpha;
            result["lambda"] = Lambda;
        }

        result["target"] = Target;
        result["maxSamplesPerLabel"] = MaxSamplesPerLabel;
        result["seed"] = Seed;
        return result;
    }
}
