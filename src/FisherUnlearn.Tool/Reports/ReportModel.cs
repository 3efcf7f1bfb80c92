using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Engine.Verification;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Lineage.Rendering;
using FisherUnlearn.Lineage.Text;
using FisherUnlearn.Tool.Cli;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Reports;

/// <summary>Accuracies and membership-inference rate of one model state, fractions 0..1 (null: no sample to measure),
/// and the attack's accuracy on its own training pairs (below <see cref="MembershipInference.InformativeAccuracy"/> the
/// rate is not evidence either way).</summary>
internal sealed record ReportMetrics(double? ForgetAccuracy, double? RetainAccuracy, double? TestAccuracy, double? Mia, double? MiaAttackAccuracy = null)
{
    /// <summary>False when the MIA rate comes from an attack at chance; null when unknown.</summary>
    public bool? MiaInformative => MembershipInference.IsInformative(Mia, MiaAttackAccuracy);

    /// <summary>The measured values at the precision report.json keeps (4 decimals), so report.md and report.html show
    /// the same numbers whether made from the measurement or from report.json alone.</summary>
    public static ReportMetrics? From(ModelMetrics? metrics)
    {
        if (metrics is null)
        {
            return null;
        }

        // The sample check's inputs only where there are forgotten samples: null, not zero, for a label request.
        var samples = metrics.ForgottenSampleAccuracy is not null;
        return new(Round(metrics.ForgetAccuracy), Round(metrics.RetainAccuracy), Round(metrics.TestAccuracy), Round(metrics.Mia), Round(metrics.MiaAttackAccuracy))
        {
            HeldOutForgetAccuracy = Round(metrics.HeldOutForgetAccuracy),
            ForgottenSampleAccuracy = Round(metrics.ForgottenSampleAccuracy),
            ForgottenSamples = samples ? metrics.ForgottenSamples : null,
            ForgottenLabelsHeldOutAccuracy = samples ? Round(metrics.ForgottenLabelsHeldOutAccuracy) : null,
            ForgottenLabelsHeldOutError = samples ? Round(metrics.ForgottenLabelsHeldOutError) : null,
        };
    }

    /// <summary>The two parts of <see cref="ForgetAccuracy"/> that verify's forget checks read (docs/methods.md,
    /// Verification): the forgotten labels' held-out accuracy (FUL5002) and the forgotten samples' (FUL5012).</summary>
    public double? HeldOutForgetAccuracy { get; init; }

    public double? ForgottenSampleAccuracy { get; init; }

    /// <summary>What verify's sample check (FUL5012) compares with, so a pass can be audited (QA: only the job records had
    /// it): how many forgotten samples were scored, and the model's accuracy on unseen samples of their labels with its
    /// standard error. Null for a request without samples.</summary>
    public int? ForgottenSamples { get; init; }

    public double? ForgottenLabelsHeldOutAccuracy { get; init; }

    public double? ForgottenLabelsHeldOutError { get; init; }

    public static double? Round(double? value) => value is { } v ? Math.Round(v, 4) : null;
}

/// <summary>One affected model in a report: what was done to it, with which inputs and outputs, and how it measures.</summary>
internal sealed record ReportEntry
{
    public required string Id { get; init; }

    /// <summary><c>root</c> or <c>descendant</c>.</summary>
    public required string Role { get; init; }

    public required string Method { get; init; }

    /// <summary><c>done</c>, <c>failed</c>, <c>missing</c> (no current output yet: a shard or <c>--only</c> run that
    /// has not run, or whose result is out of date) or <c>stale</c> (an output <c>verify</c> measured, made before an
    /// input changed).</summary>
    public string Status { get; init; } = "done";

    public const string MissingStatus = "missing";

    /// <summary>An output made before an input changed (<c>verify</c> measures it as it is).</summary>
    public const string StaleStatus = "stale";

    /// <summary><c>FULnnnn: message</c> when the model failed.</summary>
    public string? Error { get; init; }

    /// <summary>The settings used, with the calibrated alpha, lambda and head shift (as in report.json).</summary>
    public JObject? Parameters { get; init; }

    public string? InputSha256 { get; init; }

    /// <summary>The output's file name (in the removal's output folder).</summary>
    public string? Output { get; init; }

    public string? OutputSha256 { get; init; }

    public double Seconds { get; init; }

    public IReadOnlyList<string> UpstreamRoots { get; init; } = [];

    public ReportMetrics? Before { get; init; }

    public ReportMetrics? After { get; init; }

    /// <summary>The retrained reference's metrics (after <c>verify --reference retrain</c>).</summary>
    public ReportMetrics? Reference { get; init; }

    /// <summary>Targets this model missed: <c>FULnnnn: message</c>.</summary>
    public IReadOnlyList<string> Missed { get; init; } = [];

    public bool Succeeded => Status is not ("failed" or MissingStatus or StaleStatus);

    /// <summary>No current output: none yet, or one made before an input changed.</summary>
    public bool Missing => Status is MissingStatus or StaleStatus;
}

/// <summary>A manifest the report depends on: kind (<c>removal</c>, <c>model</c>, <c>dataset</c>), id, workspace-relative path and canonical hash.</summary>
internal sealed record ReportManifest(string Kind, string Id, string Path, string Sha256);

/// <summary>What <c>verify</c> added: whether the targets were met, and whether (and how long) the reference was retrained.</summary>
internal sealed record ReportVerification(bool TargetsMet, bool Reference, double? ReferenceSeconds, double Seconds);

/// <summary>
/// Everything the human-readable reports show (report.md, report.html, the GitHub step summary), independent of how it was
/// obtained: from a run (<see cref="FromRun"/>), refined by <c>verify</c> (<see cref="WithVerification"/>), or read back
/// from <c>report.json</c> (<c>RunReport.Read</c>), which stores all of it.
/// </summary>
internal sealed record ReportModel
{
    public required string RemovalId { get; init; }

    public string? Reason { get; init; }

    /// <summary>What is forgotten, for people: "label 3", "labels 3, 7; 200 samples of feedback (train)".</summary>
    public string Forget { get; init; } = string.Empty;

    /// <summary>Whether the request names training samples: their forget accuracy is measured on those samples
    /// themselves, not on held-out ones.</summary>
    public bool ForgetsSamples { get; init; }

    /// <summary>Whether the request names labels: <c>maxForgetAccuracy</c> applies to their held-out samples (for the
    /// forgotten samples, verify compares them with unseen ones instead: FUL5012).</summary>
    public bool ForgetsLabels { get; init; }

    public string? RequestedAt { get; init; }

    public required string Method { get; init; }

    public string ToolVersion { get; init; } = CliApp.Version;

    public string? RemovalSha256 { get; init; }

    /// <summary>Seconds the run took (all models).</summary>
    public double Seconds { get; init; }

    public double? MaxForgetAccuracy { get; init; }

    public double? MaxRetainDrop { get; init; }

    public IReadOnlyList<string> Roots { get; init; } = [];

    public IReadOnlyList<ReportEntry> Models { get; init; } = [];

    public IReadOnlyList<string> Unaffected { get; init; } = [];

    public IReadOnlyList<ReportManifest> Manifests { get; init; } = [];

    /// <summary>The lineage with roots and affected models marked.</summary>
    public LineageDiagram Diagram { get; init; } = LineageDiagram.Empty;

    public ReportVerification? Verification { get; init; }

    public bool HasTargets => MaxForgetAccuracy is not null || MaxRetainDrop is not null;

    public bool Succeeded => Models.All(m => m.Succeeded);

    /// <summary>Every model done and no target missed: by <c>verify</c> when it ran, else judged on the run's own
    /// after metrics (forget accuracy against maxForgetAccuracy, retain drop against the original model's). A request
    /// that forgets samples has its forget accuracy judged by <c>verify</c> alone: the run's figure pools the samples,
    /// which a model that never saw them still classifies about as well as unseen ones, with the labels' test samples.</summary>
    public bool TargetsMet => Succeeded && (Verification?.TargetsMet ?? (!AwaitsVerify && Models.All(m => RunMisses(m).Count == 0)));

    /// <summary><see cref="TargetsMet"/> as report.json and the Actions outputs give it: null while it is not known
    /// (<see cref="Undetermined"/>), so a pipeline can tell "not judged yet" from "missed" (found in QA: report.json said
    /// false where report.md said "not known yet", after verify's samples and after a merge that lacked a shard).</summary>
    public bool? TargetsVerdict => TargetsMet ? true : Undetermined ? null : false;

    /// <summary>Not met, not verified, and no model with an output missed a target: the verdict waits on <c>verify</c>
    /// (<see cref="Pending"/>) or on models without a current output (failed, or not made yet: a merge without every
    /// shard). Once <c>verify</c> has judged the request, its verdict stands: an output missing or out of date then is a
    /// missed target (verify exits 1).</summary>
    public bool Undetermined => HasTargets && !TargetsMet && Verification is null && !Models.Any(m => m.Succeeded && MissedBy(m).Count > 0);

    /// <summary>Every model done, none missing a target the run can judge, and the forget target left to <c>verify</c>.</summary>
    public bool Pending => !TargetsMet && Succeeded && AwaitsVerify && Models.All(m => MissedBy(m).Count == 0);

    /// <summary>A request with samples and a forget target that only <c>verify</c> can judge (it compares the forgotten
    /// samples with unseen ones): until it has, the targets are not known to be met. A request that affects no model awaits
    /// nothing (FUL2012: no model can miss them; QA found targets-met=unknown there).</summary>
    public bool AwaitsVerify => Verification is null && ForgetsSamples && MaxForgetAccuracy is not null && Models.Count > 0;

    /// <summary>The codes of the targets a model missed, as report.json's <c>missed</c> gives them: verify's when it ran, else
    /// those of the run's own check (FUL5002 forget accuracy, FUL5003 retain drop; QA: report.json said none where report.md
    /// listed the run's misses).</summary>
    public IReadOnlyList<string> MissedCodes(ReportEntry entry) => Verification is not null ? [.. entry.Missed.Select(CodeOf)] : [.. RunMisses(entry).Select(m => m.Code)];

    // "FUL5002: Model 'a' still has …" → "FUL5002" (QA: report.json's 'missed' held verify's whole messages, where the
    // docs and verify --json give codes).
    private static string CodeOf(string missed) =>
        missed.StartsWith("FUL", StringComparison.Ordinal) && missed.IndexOf(':', StringComparison.Ordinal) is > 3 and var colon ? missed[..colon] : missed;

    /// <summary>The targets a model missed: verify's verdict when it ran, else the run's own check.</summary>
    public IReadOnlyList<string> MissedBy(ReportEntry entry) => Verification is not null ? entry.Missed : [.. RunMisses(entry).Select(m => m.Text)];

    // The run's own check of its after metrics: each miss's code and words.
    private List<(string Code, string Text)> RunMisses(ReportEntry entry)
    {
        var forgetMissed = DiagnosticCatalogue.ForgetTargetMissed.Code;
        var missed = new List<(string Code, string Text)>();
        if (MaxForgetAccuracy is { } maxForget && !ForgetsSamples && entry.After?.ForgetAccuracy is { } forget && forget > maxForget + 1e-12)
        {
            missed.Add((forgetMissed, $"forget accuracy {ReportText.Percent(forget)}% > {ReportText.Percent(maxForget)}%"));
        }
        else if (MaxForgetAccuracy is { } maxHeldOut && ForgetsSamples && ForgetsLabels && entry.After?.HeldOutForgetAccuracy is { } heldOut && heldOut > maxHeldOut + 1e-12)
        {
            // A request for labels and samples: the labels' held-out part is the run's to judge, as for labels alone (QA:
            // a measured miss read "not known yet"); the samples' part stays verify's.
            missed.Add((forgetMissed, $"held-out forget accuracy of the forgotten labels {ReportText.Percent(heldOut)}% > {ReportText.Percent(maxHeldOut)}%"));
        }

        if (MaxRetainDrop is { } maxDrop && entry.Before?.RetainAccuracy is { } before && entry.After?.RetainAccuracy is { } after && before - after > maxDrop + 1e-12)
        {
            missed.Add((DiagnosticCatalogue.RetainTargetMissed.Code, $"retain accuracy dropped {ReportText.Percent(before - after)} points > {ReportText.Percent(maxDrop)}"));
        }

        return missed;
    }

    /// <summary>The report of a run: its outcomes, the plan (roots, unaffected, upstream roots), the manifests' hashes
    /// and the lineage picture.</summary>
    public static ReportModel FromRun(WorkspaceAnalysis analysis, RemovalManifest removal, RunResult result)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentNullException.ThrowIfNull(removal);
        ArgumentNullException.ThrowIfNull(result);
        var plan = Planner.Plan(analysis.Workspace, analysis.Graph, removal);
        var outcomes = result.Models.ToDictionary(m => m.Id, StringComparer.Ordinal);
        return Describe(analysis.Workspace, removal, plan, result.Settings.Method) with
        {
            RemovalSha256 = result.ManifestSha256,
            Seconds = result.Seconds,
            // Every affected model, in plan order: one without a current output is listed as missing, or as out of date
            // when an output made for other inputs (or another method) is there (QA: after an --only run the others read
            // "no output yet" while their files were there and status called them stale), so a partial report (a merge
            // before every shard ran, an --only run) never reads as a complete one.
            Models = [.. plan.Affected.Select(a => outcomes.TryGetValue(a.Id, out var m) ? Entry(m, plan, analysis.Workspace.Root)
                : Unproduced(a, result.Settings.Method, removal.Id, File.Exists(UnlearningJob.OutputPathOf(result.OutputDirectory, a.Id))))],
        };
    }

    // An affected model without a current output: out of date when an output made for other inputs (or another method) is
    // there, else missing.
    private static ReportEntry Unproduced(AffectedModel a, string method, string removalId, bool outputThere) => new()
    {
        Id = a.Id,
        Role = a.Role == ModelRole.Root ? "root" : "descendant",
        Method = method,
        Status = outputThere ? ReportEntry.StaleStatus : ReportEntry.MissingStatus,
        Error = outputThere
            ? $"out of date: its output was made before an input changed, or with another method; run 'dotnet unlearn run {removalId}' (or its shard, then --merge)"
            : $"no current output yet: run 'dotnet unlearn run {removalId}' (or the missing shard, then --merge)",
        UpstreamRoots = a.UpstreamRoots,
    };

    // Messages name files relative to the workspace: a report is an artifact, read on other machines (QA: FUL4021 in
    // report.md named the runner's '/home/…' path).
    private static ReportEntry Entry(ModelOutcome m, RemovalPlan plan, string root) => new()
    {
        Id = m.Id,
        Role = m.Role == ModelRole.Root ? "root" : "descendant",
        Method = m.Method,
        Status = m.Succeeded ? "done" : "failed",
        Error = m.Error is null ? null : m.Error.Code + ": " + QuotedPaths.RelativeTo(m.Error.Message, root),
        Parameters = m.Parameters is null ? null : JObject.Parse(m.Parameters.ToJsonString()),
        InputSha256 = m.InputSha256,
        Output = m.OutputPath is null ? null : Path.GetFileName(m.OutputPath),
        OutputSha256 = m.OutputSha256,
        Seconds = m.Seconds,
        UpstreamRoots = plan.Find(m.Id)?.UpstreamRoots ?? [],
        Before = ReportMetrics.From(m.Before),
        After = ReportMetrics.From(m.After),
    };

    /// <summary>A report with no run behind it (e.g. <c>verify</c> when report.json is missing): the plan's models, no
    /// hashes or times.</summary>
    public static ReportModel FromPlan(WorkspaceAnalysis analysis, RemovalManifest removal, string method)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentNullException.ThrowIfNull(removal);
        var plan = Planner.Plan(analysis.Workspace, analysis.Graph, removal);
        return Describe(analysis.Workspace, removal, plan, method) with
        {
            RemovalSha256 = analysis.Workspace.ManifestHashes.GetValueOrDefault(removal.ManifestPath),
            Models = [.. plan.Affected.Select(a => new ReportEntry
            {
                Id = a.Id,
                Role = a.Role == ModelRole.Root ? "root" : "descendant",
                Method = method,
                Output = a.Id + ".safetensors",
                UpstreamRoots = a.UpstreamRoots,
            })],
        };
    }

    /// <summary>This report with <c>verify</c>'s metrics: before/after (re-measured), reference and missed targets per model.</summary>
    /// <param name="verification">What verify measured and judged.</param>
    /// <param name="workspaceRoot">The workspace, which the messages' file names are made relative to.</param>
    public ReportModel WithVerification(VerificationResult verification, string workspaceRoot)
    {
        ArgumentNullException.ThrowIfNull(verification);
        var byId = verification.Models.ToDictionary(m => m.Id, StringComparer.Ordinal);
        return this with
        {
            Models = [.. Models.Select(m => byId.TryGetValue(m.Id, out var v)
                ? m with
                {
                    Before = ReportMetrics.From(v.Before),
                    After = ReportMetrics.From(v.After),
                    Reference = ReportMetrics.From(v.Reference),
                    Missed = [.. v.Missed.Select(d => d.Code + ": " + QuotedPaths.RelativeTo(d.Message, workspaceRoot))],
                }
                : m)],
            Verification = new ReportVerification(verification.TargetsMet, verification.Models.Any(m => m.Reference is not null), verification.ReferenceSeconds, verification.Seconds),
        };
    }

    /// <summary>
    /// This report, of outputs <paramref name="earlier"/> already described (the removal manifest changed only in what no
    /// output depends on, such as its reason), with what was known of them: the time of the run that made them and, while
    /// the targets are the ones <c>verify</c> checked, its measurements and verdict.
    /// </summary>
    public ReportModel KeepingMeasurementsOf(ReportModel earlier)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        var verified = earlier.Verification is not null && earlier.MaxForgetAccuracy == MaxForgetAccuracy && earlier.MaxRetainDrop == MaxRetainDrop;
        var byId = earlier.Models.ToDictionary(m => m.Id, StringComparer.Ordinal);
        return this with
        {
            Seconds = earlier.Seconds,
            Verification = verified ? earlier.Verification : null,
            Models = [.. Models.Select(m => verified && byId.TryGetValue(m.Id, out var e)
                ? m with { Before = e.Before, After = e.After, Reference = e.Reference, Missed = e.Missed }
                : m)],
        };
    }

    /// <summary>Several partial reports of one removal (shards of one run) as one: models in the order of the first
    /// report that has each, later reports winning for a model that appears twice; seconds summed.</summary>
    public static ReportModel Merge(IReadOnlyList<ReportModel> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
        {
            throw new ArgumentException("Nothing to merge.", nameof(parts));
        }

        if (parts.Select(p => p.RemovalId).Distinct(StringComparer.Ordinal).Count() > 1)
        {
            throw new ArgumentException("Reports of different removals cannot be merged: " + string.Join(", ", parts.Select(p => p.RemovalId).Distinct()), nameof(parts));
        }

        var models = new List<ReportEntry>();
        foreach (var entry in parts.SelectMany(p => p.Models))
        {
            var at = models.FindIndex(m => m.Id == entry.Id);
            if (at >= 0)
            {
                models[at] = entry;
            }
            else
            {
                models.Add(entry);
            }
        }

        var last = parts[^1];
        return last with
        {
            Seconds = parts.Sum(p => p.Seconds),
            Models = models,
            Verification = parts.All(p => p.Verification is not null) ? last.Verification : null,
        };
    }

    private static ReportModel Describe(Workspace workspace, RemovalManifest removal, RemovalPlan plan, string method)
    {
        var highlight = GraphHighlight.Of(plan);
        return new ReportModel
        {
            RemovalId = removal.Id,
            Reason = removal.Reason,
            Forget = ForgetText(removal),
            ForgetsSamples = removal.Samples.Count > 0,
            ForgetsLabels = removal.Labels.Count > 0,
            RequestedAt = removal.RequestedAt,
            Method = method,
            MaxForgetAccuracy = removal.Targets?.MaxForgetAccuracy,
            MaxRetainDrop = removal.Targets?.MaxRetainDrop,
            Roots = plan.Roots,
            Unaffected = plan.Unaffected,
            Manifests = ManifestsOf(workspace, removal, plan),
            Diagram = LineageDiagram.From(workspace, highlight),
        };
    }

    /// <summary>The removal, the affected models and their ancestors, and the datasets any of them trains on.</summary>
    private static List<ReportManifest> ManifestsOf(Workspace workspace, RemovalManifest removal, RemovalPlan plan)
    {
        string Hash(string path) => workspace.ManifestHashes.GetValueOrDefault(path) ?? string.Empty;
        var result = new List<ReportManifest> { new("removal", removal.Id, workspace.Relative(removal.ManifestPath), Hash(removal.ManifestPath)) };
        var models = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var affected in plan.Affected)
        {
            models.Add(affected.Id);
            var pending = new Stack<string>([affected.Id]);
            while (pending.Count > 0)
            {
                foreach (var parent in workspace.Models.TryGetValue(pending.Pop(), out var m) ? m.Parents : [])
                {
                    if (workspace.Models.ContainsKey(parent.Id) && models.Add(parent.Id))
                    {
                        pending.Push(parent.Id);
                    }
                }
            }
        }

        var datasets = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var id in models)
        {
            var model = workspace.Models[id];
            result.Add(new ReportManifest("model", id, workspace.Relative(model.ManifestPath), Hash(model.ManifestPath)));
            datasets.UnionWith(model.Data.Select(d => d.Dataset).Where(workspace.Datasets.ContainsKey));
        }

        result.AddRange(datasets.Select(id => new ReportManifest("dataset", id, workspace.Relative(workspace.Datasets[id].ManifestPath), Hash(workspace.Datasets[id].ManifestPath))));
        return result;
    }

    internal static string ForgetText(RemovalManifest removal)
    {
        var parts = new List<string>();
        if (removal.Labels.Count > 0)
        {
            parts.Add((removal.Labels.Count == 1 ? "label " : "labels ") + string.Join(", ", removal.Labels.Distinct().Order()));
        }

        parts.AddRange(removal.Samples.Select(s => $"{s.Indices.Count} sample{(s.Indices.Count == 1 ? string.Empty : "s")} of {s.Dataset} ({s.Split})"));
        return string.Join("; ", parts);
    }
}
