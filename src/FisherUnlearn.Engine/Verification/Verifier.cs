using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Lineage.Text;

namespace FisherUnlearn.Engine.Verification;

/// <summary>Settings of <see cref="Verifier.Verify"/>.</summary>
public sealed record VerifyOptions
{
    /// <summary>The output root <c>run</c> wrote to (default: the workspace's output folder).</summary>
    public string? OutputDirectory { get; init; }

    /// <summary><see cref="OutputDirectory"/> as the user gave it (<c>--out</c>), for the <c>run</c> command a message
    /// suggests; null when not given.</summary>
    public string? OutputArgument { get; init; }

    /// <summary>Also retrain the exact reference (cached under <c>&lt;out&gt;/&lt;removal-id&gt;/reference/</c>).</summary>
    public bool Reference { get; init; }

    public int? Threads { get; init; }

    /// <summary>Models measured at once, each on its own thread (<see cref="ParallelJobs"/>; default 1). The reference
    /// is retrained before, parents first.</summary>
    public int Parallelism { get; init; } = 1;

    public MetricsOptions Metrics { get; init; } = new();

    public Func<DatasetManifest, string, DataSplit>? LoadData { get; init; }

    /// <summary>Splits the caller has already read (verify's check of a sample request's indices), so they are not decoded
    /// again; null: a cache of its own, reading through <see cref="LoadData"/>. Given, the measurements read through it
    /// (its own loader), and <see cref="LoadData"/> serves the reference's retraining only.</summary>
    public SplitCache? Splits { get; init; }

    public Action<string>? Log { get; init; }

    /// <summary>The method that made the outputs (<c>run --method</c>, as verify certifies them): a missed target of
    /// <c>retrain</c>'s outputs is not met by other parameters, so the advice says so. Null: an unlearning method.</summary>
    public string? OutputMethod { get; init; }

    /// <summary>Told (model id, what is being done) as each model's reference is retrained (per epoch) and each model is
    /// measured, for a progress display.</summary>
    public Action<string, string>? Phase { get; init; }

    /// <summary>Told (model id, whether an earlier one was reused) as each model's retrained reference is ready.</summary>
    public Action<string, bool>? ReferenceReady { get; init; }

    /// <summary>Told each model's verification as it is done (from the thread that measured it), for a line or a table row
    /// per model as each finishes.</summary>
    public Action<ModelVerification>? Measured { get; init; }
}

/// <summary>One model's verification: metrics of the original, the unlearned output and the retrained reference, and
/// which targets it missed.</summary>
public sealed record ModelVerification(string Id, ModelRole Role, ModelMetrics Before, ModelMetrics After, ModelMetrics? Reference, IReadOnlyList<Diagnostic> Missed);

public sealed record VerificationResult(string RemovalId, IReadOnlyList<ModelVerification> Models, double? ReferenceSeconds, double Seconds)
{
    public bool TargetsMet => MissingOutputs.Count == 0 && UnreadableOutputs.Count == 0 && Models.All(m => m.Missed.Count == 0);

    /// <summary>Affected models whose output is there but cannot be read (damaged since the run), with the read error: not
    /// measured, and not in <see cref="Models"/>; each misses the targets, as a missing output does.</summary>
    public IReadOnlyDictionary<string, Diagnostic> UnreadableOutputs { get; init; } = new Dictionary<string, Diagnostic>();

    /// <summary>Affected models without an output of <c>run</c> (deleted since, or a partial run): not measured, and not
    /// in <see cref="Models"/>; each misses the targets, since nothing shows it forgot.</summary>
    public IReadOnlyList<string> MissingOutputs { get; init; } = [];

    /// <summary>True when every model of the retrained reference was reused from an earlier verify (nothing retrained
    /// now). <see cref="ReferenceSeconds"/> is what retraining took all the same: measured when a model was retrained
    /// now, else as recorded in the reused file.</summary>
    public bool ReferenceReused { get; init; }

    /// <summary>Warnings about the retrained reference: FUL4072 for each model the removal left no training sample (its
    /// reference is then what its training starts from), also when the reference was reused.</summary>
    public IReadOnlyList<Diagnostic> ReferenceWarnings { get; init; } = [];

    /// <summary>False when a reused reference file did not record its training time (made by an older version): its
    /// share of <see cref="ReferenceSeconds"/> is then only the time to load it.</summary>
    public bool ReferenceSecondsComplete { get; init; } = true;
}

/// <summary>
/// Measures every affected model of a removal before (original checkpoint), after (the output of <c>run</c>) and,
/// optionally, against the retrained reference, and checks the removal's targets: <c>maxForgetAccuracy</c> on the
/// after forget accuracy; <c>maxRetainDrop</c> on reference (else before) retain accuracy minus after retain accuracy.
/// </summary>
public static class Verifier
{
    /// <summary>Where <c>verify --reference retrain</c> keeps the retrained reference models of a removal:
    /// <c>&lt;removal folder&gt;/reference</c>, one checkpoint per model, reused while their inputs are unchanged.</summary>
    public static string ReferenceDirectory(string removalDirectory) => Path.Combine(removalDirectory, "reference");

    /// <summary>Outputs missing for some affected models are listed in <see cref="VerificationResult.MissingOutputs"/> and the
    /// others measured; when every output is missing there is nothing to verify.</summary>
    /// <exception cref="EngineException">FUL5001 when no affected model has an output of <c>run</c>; FUL4104 when a checkpoint is missing.</exception>
    public static VerificationResult Verify(WorkspaceAnalysis analysis, RemovalManifest removal, VerifyOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentNullException.ThrowIfNull(removal);
        options ??= new VerifyOptions();
        TorchRuntime.Prepare(options.Threads);

        var started = Stopwatch.GetTimestamp();
        var workspace = analysis.Workspace;
        var plan = Planner.Plan(workspace, analysis.Graph, removal);
        var directory = RemovalRunner.RemovalOutputDirectory(workspace, removal.Id, options.OutputDirectory);
        foreach (var affected in plan.Affected)
        {
            var manifest = workspace.Models[affected.Id];
            if (CheckpointPresence.Absence(manifest.CheckpointPath) is { } absence)
            {
                throw EngineException.At(DiagnosticCatalogue.UnlearningCheckpointMissing, manifest.CheckpointLocation ?? manifest.Location, null, affected.Id, workspace.Relative(manifest.CheckpointPath), absence, DiagnosticCatalogue.AffectedModel, DiagnosticCatalogue.CheckpointMissingAdvice(manifest));
            }

        }

        // Every missing output named at once, so one run fixes them all. Verify before any run is a precondition not met
        // (FUL5001); an output missing beside others (deleted since, a partial run) is a model that misses its targets.
        var missing = plan.Affected.Where(a => !File.Exists(UnlearningJob.OutputPathOf(directory, a.Id))).Select(a => a.Id).ToList();
        if (missing.Count == plan.Affected.Count)
        {
            throw new EngineException(OutputsMissing(removal, missing, missing.Count == 1 ? UnlearningJob.OutputPathOf(directory, missing[0]) : directory,
                options.OutputArgument));
        }

        // The tolerance and probe a sample request's calibration used (the removal's, else unlearn.json's parameters): the
        // same "no better than unseen, within chance" judges its forgotten samples here. Settings run could not read fall
        // back to the defaults.
        UnlearnSettings settings;
        try
        {
            settings = UnlearnSettings.From(removal, workspace.Settings);
        }
        catch (EngineException)
        {
            settings = new UnlearnSettings();
        }

        var sampleTolerance = settings.SampleTolerance;

        // The data every measurement (and the reference's retraining) reads, read before any of them: a damaged split is one
        // FUL error before anything is said measured (QA: "verified root-a" was printed, then FUL4008 for a later model's
        // test split), as run does (RunDataCheck). A train file gone is left to the measurements (FUL5008).
        var splits = options.Splits ?? new SplitCache(options.LoadData);
        var measured = plan.Affected.Where(a => !missing.Contains(a.Id, StringComparer.Ordinal)).ToList();
        // The reference retrains every affected model, those without an output too.
        RunDataCheck.Check(workspace, analysis.Graph, removal, (options.Reference ? plan.Affected : measured).Select(a => a.Id), splits, cancellationToken);

        RetrainResult? reference = null;
        if (options.Reference)
        {
            reference = ReferenceRetrainer.Retrain(analysis, plan, removal, new RetrainOptions
            {
                OutputDirectory = ReferenceDirectory(directory),
                RecordTrainingTime = true,
                Threads = options.Threads ?? Math.Max(1, TorchRuntime.Threads),
                LoadData = options.LoadData,
                Log = options.Log,
                EpochDone = options.Phase is { } phase
                    ? (id, epoch, epochs) => phase(id, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"retraining, epoch {epoch}/{epochs}"))
                    : null,
                ModelReady = options.Phase is null && options.ReferenceReady is null ? null : (id, reused) =>
                {
                    options.Phase?.Invoke(id, reused ? "reference up to date; waiting" : "reference retrained; waiting");
                    options.ReferenceReady?.Invoke(id, reused);
                },
            }, cancellationToken);
        }

        try
        {
            var results = new ModelVerification?[measured.Count];
            var unreadable = new System.Collections.Concurrent.ConcurrentDictionary<string, Diagnostic>(StringComparer.Ordinal);
            void Measure(int index)
            {
                var affected = measured[index];
                options.Phase?.Invoke(affected.Id, "measuring");
                var manifest = workspace.Models[affected.Id];
                var scope = RemovalScope.For(workspace, analysis.Graph, removal, affected.Id);
                var metrics = new MetricsEvaluator(scope, splits, options.Metrics);
                using var module = ModelFactory.Load(manifest);
                foreach (var knowledge in scope.Knowledge)
                {
                    ArchitectureFit.CheckSplits(module, manifest, knowledge.Dataset, splits); // FUL4068, not a libtorch error mid-pass
                }

                var architecture = manifest.Architecture.ToString();
                var before = metrics.Measure(module);
                try
                {
                    CheckpointStore.LoadInto(module, UnlearningJob.OutputPathOf(directory, affected.Id), architecture);
                }
                catch (EngineException ex)
                {
                    // An output damaged since the run: this model has nothing to measure, the others are measured.
                    unreadable[affected.Id] = ex.Diagnostic;
                    return;
                }

                var after = metrics.Measure(module);
                var recorded = RecordedParameters(UnlearningJob.OutputPathOf(directory, affected.Id));
                var ease = recorded is null ? null : SampleEase.FromParameters(recorded);
                ModelMetrics? referenceMetrics = null;
                if (reference is not null)
                {
                    StateDicts.LoadInto(module, reference[affected.Id].State, affected.Id, architecture);
                    referenceMetrics = metrics.Measure(module);
                }

                // Without a reference, what an unseen model scores on the forgotten samples is their held-out accuracy moved
                // by the probe's measure of their difficulty, as run's calibration aimed at (SampleDifficulty).
                var difficulty = referenceMetrics is null && settings.ProbesSamples && after.ForgottenSamples > 0
                    ? SampleDifficulty.Measure(scope, splits, settings, cancellationToken)
                    : null;
                results[index] = new ModelVerification(affected.Id, affected.Role, before, after, referenceMetrics,
                    Check(removal, manifest, scope, before, after, referenceMetrics, sampleTolerance, options.OutputMethod, ease, difficulty,
                        RepairedByOriginalTarget(recorded)));
                options.Measured?.Invoke(results[index]!);
            }

            ParallelJobs.For(measured.Count, options.Parallelism, Measure, cancellationToken);
            var referenceSeconds = reference?.Models.Sum(m => m.TrainingSeconds ?? m.Seconds);
            return new VerificationResult(removal.Id, [.. results.OfType<ModelVerification>()], referenceSeconds, Stopwatch.GetElapsedTime(started).TotalSeconds)
            {
                MissingOutputs = missing,
                UnreadableOutputs = unreadable.ToDictionary(StringComparer.Ordinal),
                ReferenceWarnings = reference is null ? []
                    : [.. reference.Models.Select(m => m.NothingLeftWarning(workspace.Models[m.Id], removal.Id)).OfType<Diagnostic>()],
                ReferenceReused = reference is not null && reference.Models.All(m => m.Reused),
                ReferenceSecondsComplete = reference is null || reference.Models.All(m => m.TrainingSeconds is not null),
            };
        }
        finally
        {
            reference?.Dispose();
        }
    }

    /// <summary>
    /// The most a model may score on <paramref name="n"/> forgotten samples and still count as not knowing them: what a
    /// model that never saw them scores (<paramref name="unseen"/>), plus <paramref name="tolerance"/> standard errors of
    /// the difference between two such accuracies. The rate is smoothed as (k + 1) / (n + 2), so a reference that scored
    /// 0 or all of 20 samples still leaves room for chance (one sample of 20 right where the reference got none is what
    /// an unseen model scores at 4% held-out: found in QA); against the retrained reference, which is measured on the same
    /// n samples, both sides are that noisy (twice the variance). <paramref name="unseenError"/> is the standard error of
    /// <paramref name="unseen"/> itself where it comes from held-out samples (the model's accuracy on unseen samples of
    /// their labels, or the reference's score moved by the two models' held-out accuracies), added in variance. It is the
    /// smaller part: on the demo (about 200 test samples a label) 0.5-0.8 points against 2.3 for 300 forgotten samples,
    /// widening the bound by 0.11 points on average (QA, 294 retrained models: 14 flagged without it, 13 with it).
    /// </summary>
    internal static double ForgottenSampleBound(double unseen, int n, double tolerance, bool againstReference, double unseenError = 0)
    {
        if (SampleChance.AllRightByChance(unseen, n, tolerance))
        {
            return 1; // Even all n right is what an unseen model scores often enough (SampleChance).
        }

        var smoothed = ((unseen * n) + 1) / (n + 2.0);
        var variance = (smoothed * (1 - smoothed) / n * (againstReference ? 2 : 1)) + (unseenError * unseenError);
        return Math.Min(1, unseen + (tolerance * Math.Sqrt(variance)));
    }

    private static double Square(double? value) => (value ?? 0) * (value ?? 0);

    /// <summary>A score and the bound it exceeds as percentages with two decimals, or three when two would print them
    /// equal (QA: "still classifies 77.57% ... at most 77.57% means forgotten").</summary>
    internal static (string Score, string Bound) Distinct(double score, double bound)
    {
        var format = score.ToString("0.00%", CultureInfo.InvariantCulture) == bound.ToString("0.00%", CultureInfo.InvariantCulture) ? "0.000%" : "0.00%";
        return (score.ToString(format, CultureInfo.InvariantCulture), bound.ToString(format, CultureInfo.InvariantCulture));
    }

    /// <summary>The reference's score on the forgotten samples, moved by the difference between this model's and the
    /// reference's held-out accuracy on their labels: what the reference would score at this model's general level.</summary>
    internal static double? ReferenceScoreAtThisModelsLevel(ModelMetrics after, ModelMetrics reference) =>
        reference.ForgottenSampleAccuracy is { } score && after.ForgottenLabelsHeldOutAccuracy is { } mine && reference.ForgottenLabelsHeldOutAccuracy is { } theirs
            ? Math.Clamp(score + (mine - theirs), 0, 1)
            : null;

    /// <summary>FUL5001: the affected models of <paramref name="removal"/> without an output, all named at once so one run
    /// makes them all; <paramref name="shown"/> is the one output's path, or the folder's, as the message should show it,
    /// and <paramref name="outputArgument"/> the <c>--out</c> the user gave, repeated in the advice.</summary>
    public static Diagnostic OutputsMissing(RemovalManifest removal, IReadOnlyList<string> missing, string shown, string? outputArgument)
    {
        ArgumentNullException.ThrowIfNull(removal);
        return Diagnostic.Create(DiagnosticCatalogue.UnlearnedOutputMissing, removal.Location, removal.Id, NameList.Quoted(missing), shown,
            outputArgument is { } given ? $" --out {ShellWord.Quote(given)}" : string.Empty);
    }

    /// <summary>How many points <paramref name="higher"/> lies above <paramref name="lower"/> (accuracies, 0..1), as the
    /// tables show them: the difference of the two rounded to 0.1 points (QA: a message said 0.3 and 0.9 beside a table of
    /// 96.0, 95.8 and 95.2). When that rounding would not exceed <paramref name="allowed"/> although the exact difference
    /// does, the exact one with two decimals, so a miss never reads as within the target.</summary>
    internal static string PointsApart(double higher, double lower, double allowed)
    {
        static double Shown(double accuracy) => Math.Round(accuracy * 100, 1, MidpointRounding.AwayFromZero);
        var shown = Shown(higher) - Shown(lower);
        return shown > (allowed * 100) + 1e-9 || higher - lower <= allowed + 1e-12
            ? shown.ToString("0.0", CultureInfo.InvariantCulture)
            : ((higher - lower) * 100).ToString("0.00", CultureInfo.InvariantCulture);
    }

    private static double? MaxOf(double? a, double? b) => a is { } x && b is { } y ? Math.Max(x, y) : a ?? b;

    /// <summary>FUL5012's advice on an output 'retrain' made: trained without the samples, it cannot know them, so its lead
    /// over unseen samples is chance (QA: without a reference, about 4% of retrained models were flagged on random requests
    /// of the demo's digits, one request in four).</summary>
    internal const string RetrainedSamplesAdvice = "'retrain' trained this output without them, so this lead is chance, not memory: 'verify --reference retrain' judges the samples against a retrained model's score on them, or raise 'sampleTolerance' (docs/methods.md, Verification).";

    /// <summary>What to do about a missed target of outputs that <c>retrain</c> made: they are the retrained models
    /// themselves, which no parameter changes.</summary>
    internal const string RetrainAdvice = "'retrain' made this output by training the model again from its recipe without the forgotten data, so no other parameters change it: what it still knows comes from what its training starts from (its parents' weights, or, with no data left to train on, nothing else: FUL4072) or what its kept data teaches it. Check its lineage, its data and the removal's targets.";

    /// <summary>What an unlearning output records of how it was made (its parameters), or null.</summary>
    private static JsonObject? RecordedParameters(string output) =>
        TrainingInputs.ReadMetadata(output) is { } metadata && metadata.TryGetValue(UnlearningJob.ParametersKey, out var text)
            ? ParsedObject(text)
            : null;

    /// <summary>Whether an output's repair was kept under <c>sampleBaseline</c> "original" (not the default): its samples
    /// were held to the original model's held-out accuracy, not the repaired model's. (Under "repaired" a setting kept by
    /// the original's target is one no setting held to its own could replace: the advice would name what is in use.)</summary>
    internal static bool RepairedByOriginalTarget(JsonObject? parameters) =>
        parameters?["repair"] is JsonObject repair && repair["kept"] is JsonValue kept && kept.TryGetValue<bool>(out var k) && k
        && (parameters["sampleBaseline"] as JsonValue)?.TryGetValue<string>(out var baseline) == true && baseline == UnlearnSettings.BaselineOriginal;

    /// <summary>FUL5012's advice where something particular explains the lead, else null: a retrained output judged
    /// without a reference (chance), a model left as it was with samples judged easy (without a reference: an easy record
    /// of another output says nothing), or a repair held to the original model's held-out accuracy where the output's fell
    /// below it.</summary>
    private static string? SampleAdvice(ModelMetrics before, ModelMetrics after, double scored, bool retrainedWithoutReference, SampleEase? ease,
        bool repairedByOriginal) =>
        retrainedWithoutReference ? RetrainedSamplesAdvice
        : ease is { Easy: true } && before.ForgottenSampleAccuracy is { } original && Math.Abs(scored - original) < 1e-9 ? EasyAdvice(ease)
        : repairedByOriginal && before.ForgottenLabelsHeldOutAccuracy is { } heldOutBefore && after.ForgottenLabelsHeldOutAccuracy is { } heldOutAfter
            && heldOutAfter < heldOutBefore - 1e-9 ? RepairBaselineAdvice(heldOutBefore, heldOutAfter)
        : null;

    /// <summary>The advice of FUL5012 for an output whose repair was kept by the original model's held-out accuracy on the
    /// samples' labels while it scores unseen samples of them lower: its samples are ahead of its own unseen ones.</summary>
    internal static string RepairBaselineAdvice(double original, double output) => string.Create(CultureInfo.InvariantCulture,
        $"Its repair was held to the original model's accuracy on unseen samples of their labels ({original:0.0%}), above this output's ({output:0.0%}): \"sampleBaseline\": \"repaired\" (the default) holds each repaired setting to its own instead, which may keep another setting, or the same when none meets its own (docs/methods.md, step 5).");

    private static JsonObject? ParsedObject(string text)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>The advice of FUL5012 for a model that <c>run</c> left as it was because its forgotten samples are easy
    /// rather than remembered (<see cref="SampleEase"/>): held to unseen samples of their labels, easy samples miss even
    /// for a model that never saw them, which only the retrained reference shows.</summary>
    internal static string EasyAdvice(SampleEase ease) => string.Create(CultureInfo.InvariantCulture,
        $"'run' left this model as it was, the samples judged easy, not remembered: it scores its other training samples of their labels {ease.KeptTrain:0.0%}, as unseen ones ({ease.HeldOutBefore:0.0%}), and the dampening that brought the forgotten ones to {ease.SamplesAfter:0.0%} {ease.NoMoreThanUnseen("took")}. A model that never saw easy samples scores them above unseen ones too: run 'verify --reference retrain', which compares them with the retrained model.");

    internal static List<Diagnostic> Check(RemovalManifest removal, ModelManifest model, RemovalScope scope, ModelMetrics before, ModelMetrics after, ModelMetrics? reference,
        double sampleTolerance = 1, string? method = null, SampleEase? ease = null, SampleDifficulty? difficulty = null, bool repairedByOriginal = false)
    {
        var retrained = method == UnlearnSettings.Retrain;
        var tryOther = retrained ? RetrainAdvice : "Try another method or parameters (docs/methods.md).";
        var missed = new List<Diagnostic>();
        var at = removal.TargetsLocation ?? removal.Location;
        // A target that cannot be measured is not met: without held-out samples (a dataset with no test split) the
        // accuracies are unknown. A sample request's model that never saw the samples has no forget set, by design.
        if (removal.Targets?.MaxForgetAccuracy is not null && (after.HeldOutForgetAccuracy ?? after.ForgetAccuracy) is null && scope.HasForgetLabels)
        {
            missed.Add(Diagnostic.Create(DiagnosticCatalogue.TargetNotMeasurable, at, model.Id, "forget-accuracy"));
        }

        if (removal.Targets?.MaxRetainDrop is not null && after.RetainAccuracy is null && scope.Knowledge.Any(k => scope.RetainLabels(k).Count > 0))
        {
            missed.Add(Diagnostic.Create(DiagnosticCatalogue.TargetNotMeasurable, at, model.Id, "retain-accuracy"));
        }

        // maxForgetAccuracy is the held-out accuracy of the forgotten labels. Forgotten samples of labels the model keeps are
        // not held to it: a model that never saw them still classifies them about as well as unseen ones (the retrained
        // reference scored 85-94% on them in QA), so they are forgotten when scored no better than that, within
        // sampleTolerance standard errors: than the retrained reference when there is one, else than the model itself
        // on unseen samples of their labels (the goal calibration aims at, docs/methods.md step 2).
        if (removal.Targets?.MaxForgetAccuracy is { } maxForget)
        {
            if (scope.HasForgetLabels && (after.HeldOutForgetAccuracy ?? after.ForgetAccuracy) is { } forget && forget > maxForget + 1e-12)
            {
                // In points, as the tables show it (100 x the fraction, then rounded: 0.9175 reads 91.8 in both).
                missed.Add(Diagnostic.Create(DiagnosticCatalogue.ForgetTargetMissed, at, model.Id, forget * 100, maxForget * 100, tryOther));
            }

            // Without a reference, "unseen" is what the model scores on unseen samples of their labels before unlearning, or
            // after when that is higher: forgetting a request's labels can lower the kept labels' held-out accuracy by a few
            // points (QA: 81.2% -> 77.6%), which says nothing of the samples, and calibration aims at the model before it
            // (docs/methods.md, step 2). Against the unlearned model alone, even the retrained reference failed the check.
            if (after.ForgottenSampleAccuracy is { } scored && after.ForgottenSamples > 0
                && (reference?.ForgottenSampleAccuracy ?? MaxOf(before.ForgottenLabelsHeldOutAccuracy, after.ForgottenLabelsHeldOutAccuracy)) is { } unseen)
            {
                // The held-out score's own standard error (that of the state it was taken from), where it is the measure.
                var unseenError = reference?.ForgottenSampleAccuracy is not null ? 0
                    : (unseen == after.ForgottenLabelsHeldOutAccuracy ? after.ForgottenLabelsHeldOutError : before.ForgottenLabelsHeldOutError) ?? 0;
                var against = reference?.ForgottenSampleAccuracy is not null ? "the retrained reference's score on them" : "its score on unseen samples of their labels";
                if (reference?.ForgottenSampleAccuracy is null && difficulty is not null && Math.Abs(difficulty.ShiftOf(unseen)) >= 5e-4)
                {
                    against = string.Create(CultureInfo.InvariantCulture,
                        $"its score on unseen samples of their labels, {unseen:0.0%}, {SampleDifficulty.Points(difficulty.ShiftOf(unseen))} ({difficulty})");
                    unseen = difficulty.Expected(unseen);
                }

                if (reference?.ForgottenSampleAccuracy is { } referenceScore && ReferenceScoreAtThisModelsLevel(after, reference) is { } level && level > referenceScore)
                {
                    // A model that classifies unseen samples of their labels better than the retrained one does scores the
                    // forgotten samples better too, without knowing them: what counts is how far above unseen ones it scores
                    // them, against how far the reference does (QA: chain descendants 4-7 points above a reference that was
                    // 3-6 points weaker on everything, each as far above its own held-out accuracy as the reference).
                    unseen = level;
                    unseenError = Math.Sqrt(Square(after.ForgottenLabelsHeldOutError) + Square(reference.ForgottenLabelsHeldOutError));
                    against = string.Create(CultureInfo.InvariantCulture,
                        $"the retrained reference's score on them, {referenceScore:0.0%}, moved up by how much better this model classifies unseen samples of their labels ({after.ForgottenLabelsHeldOutAccuracy:0.0%} against {reference.ForgottenLabelsHeldOutAccuracy:0.0%})");
                }

                var bound = ForgottenSampleBound(unseen, after.ForgottenSamples, sampleTolerance, againstReference: reference?.ForgottenSampleAccuracy is not null, unseenError);
                if (scored > bound + 1e-12)
                {
                    var advice = SampleAdvice(before, after, scored, retrained && reference is null, reference is null ? ease : null, repairedByOriginal) ?? tryOther;
                    var (shownScore, shownBound) = Distinct(scored, bound);
                    missed.Add(Diagnostic.Create(DiagnosticCatalogue.ForgottenSamplesRecognised, at, model.Id, shownScore, after.ForgottenSamples, against, unseen, shownBound, advice,
                        sampleTolerance.ToString("0.##", CultureInfo.InvariantCulture)));
                }
            }
        }

        if (removal.Targets?.MaxRetainDrop is { } maxDrop && after.RetainAccuracy is { } retained)
        {
            var baseline = reference?.RetainAccuracy ?? before.RetainAccuracy;
            if (baseline is { } b && b - retained > maxDrop + 1e-12)
            {
                // A model whose original already scored below the retrained reference by more than the target allows
                // (retraining without the data ended better): no gentler setting can close that gap.
                var hint = retrained ? RetrainAdvice
                    : reference is not null && before.RetainAccuracy is { } original && b - original > maxDrop + 1e-12
                    ? $"The original model was already {PointsApart(b, original, maxDrop)} points below it, so gentler parameters cannot close the gap: retrain the model ('--method retrain') if the target must be met."
                    : "Try gentler parameters (docs/methods.md).";
                missed.Add(Diagnostic.Create(DiagnosticCatalogue.RetainTargetMissed, at, model.Id, PointsApart(b, retained, maxDrop),
                    reference is null ? "original model" : "retrained reference", maxDrop * 100, hint));
            }
        }

        return missed;
    }
}
