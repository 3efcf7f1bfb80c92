using System.Globalization;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Reports;

/// <summary>How numbers, hashes and parameters read in the reports (invariant culture throughout).</summary>
internal static class ReportText
{
    /// <summary>Text quoted from a manifest or a report.json with the characters a reader cannot see shown as JSON writes
    /// them (<c>\u0007</c>): control characters other than tab and line breaks (which are layout: each format turns them
    /// into what it can show), the Unicode line and paragraph separators, and the bidirectional controls, which reorder
    /// the text shown around them. A reason written with a bell or a NUL in it then reads as such in every report.</summary>
    public static string Visible(string text) => Lineage.Text.HiddenCharacters.Visible(text);

    /// <summary>How <see cref="Visible"/> shows a <see cref="Hidden"/> character: <c>\u0007</c>.</summary>
    public static string Shown(char c) => Lineage.Text.HiddenCharacters.Shown(c);

    /// <summary>Whether <see cref="Visible"/> shows the character escaped.</summary>
    public static bool Hidden(char c) => Lineage.Text.HiddenCharacters.IsHidden(c);

    /// <summary>A fraction 0..1 as a percentage with one decimal ("97.3"), or "–" when unknown.</summary>
    public static string Percent(double? value) => value is { } v ? (v * 100).ToString("0.0", CultureInfo.InvariantCulture) : "–";

    /// <summary>A model's time in the reports' tables: "–" for a model without an output yet (nothing was timed), else
    /// <see cref="Seconds"/>.</summary>
    public static string ModelSeconds(ReportEntry entry) =>
        entry.Status == ReportEntry.MissingStatus || (entry.Status == ReportEntry.StaleStatus && entry.Output is null) ? "–" : Seconds(entry.Seconds);

    public static string Seconds(double seconds) =>
        seconds >= 100 ? seconds.ToString("0", CultureInfo.InvariantCulture) + " s"
        : seconds >= 10 ? seconds.ToString("0.0", CultureInfo.InvariantCulture) + " s"
        : seconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";

    /// <summary>The first 12 hex digits of a SHA-256, enough to tell files apart at a glance; "–" when unknown.</summary>
    public static string ShortHash(string? sha256) => string.IsNullOrEmpty(sha256) ? "–" : sha256.Length > 12 ? sha256[..12] : sha256;

    /// <summary>Why a model's output is its original weights (report.json's <c>parameters.unchanged</c>), or null when it
    /// was unlearned. Shown on its own, apart from <see cref="Parameters"/> (QA: run into the parameter list, a reason
    /// full of commas and semicolons had no visible end).</summary>
    public static string? Unchanged(JObject? parameters) =>
        parameters?[Engine.Unlearning.ModelOutcome.UnchangedKey] is { Type: JTokenType.String } unchanged ? (string)unchanged! : null;

    /// <summary>What a kept repair held the forgotten samples to (docs/methods.md, step 5, <c>sampleBaseline</c>), as the
    /// parameter line says it: nothing for outputs made before the setting existed.</summary>
    private static string HeldTo(JObject repair, JObject parameters) =>
        (string?)repair["keptTarget"] switch
        {
            Engine.Unlearning.UnlearnSettings.BaselineRepaired => ", samples held to its own held-out accuracy",
            Engine.Unlearning.UnlearnSettings.BaselineOriginal when repair["ownTargetTried"] is not null =>
                ", samples held to the original's held-out accuracy (the setting held to its own scored unseen samples lower)",
            Engine.Unlearning.UnlearnSettings.BaselineOriginal => ", samples held to the original's held-out accuracy (no setting met its own)",
            _ => (string?)parameters["sampleBaseline"] == Engine.Unlearning.UnlearnSettings.BaselineOriginal
                ? ", samples held to the original's held-out accuracy (sampleBaseline original)"
                : string.Empty,
        };

    /// <summary>The parameters that matter to a reader: the calibrated alpha, lambda and head shift, the importance
    /// source, how many parameters were dampened and whether a repair followed; for retrain, whether the reference was
    /// reused.</summary>
    public static string Parameters(JObject? parameters)
    {
        if (parameters is null)
        {
            return "–";
        }

        var parts = new List<string>();
        var leftAsItWas = Unchanged(parameters) is not null;

        void Add(string key, string? label = null)
        {
            if (parameters[key] is { Type: not JTokenType.Null } token)
            {
                parts.Add($"{label ?? key}={Value(token)}");
            }
        }

        Add("alpha", "α");
        Add("lambda", "λ");
        Add("headShift", "head shift");
        if (parameters["selected"] is { Type: JTokenType.Integer } selected && parameters["considered"] is { Type: JTokenType.Integer } considered)
        {
            // No setting chosen ("none"), or the output is the original weights: "0/0" or "0/n" would not say it.
            parts.Add((long)considered == 0 || (long)selected == 0
                ? HeadShifted(parameters) ? "no dampening: output bias only" : "no dampening"
                : $"dampened {(long)selected}/{(long)considered}");
        }

        Add("importanceSource", "importance");
        Add("estimator");
        Add("temperature");
        if (parameters["fallback"] is JObject fallback && fallback["kept"] is { Type: JTokenType.Boolean } kept)
        {
            // A sample request whose exact calibration missed its target was calibrated again with the tempered Fisher.
            parts.Add((bool)kept! ? "fell back from the exact Fisher (its calibration missed the target)" : "the tempered fallback did no better (exact kept)");
        }

        if (parameters["repair"] is JObject repair && repair["ran"] is { Type: JTokenType.Boolean } ran && (bool)ran!)
        {
            // A sample request's dampening repaired on retained samples (docs/methods.md, step 5): the passes say how long
            // the fit took, when it was on.
            var repaired = repair["kept"] is { Type: JTokenType.Boolean } keptRepair && (bool)keptRepair!;
            // The kept setting is the last tried, unless the record names it (sampleBaseline "repaired", with its target).
            var keptIndex = repair["keptTried"] is { Type: JTokenType.Integer } index ? (int)index : -1;
            var tried = repair["tried"] as JArray;
            var keptEntry = tried is { Count: > 0 } ? tried[keptIndex >= 0 && keptIndex < tried.Count ? keptIndex : tried.Count - 1] : null;
            var passes = keptEntry?["epochs"] is { Type: JTokenType.Integer } epochs ? $" ({(long)epochs} passes)" : string.Empty;
            var held = HeldTo(repair, parameters);
            parts.Add(repaired ? $"repaired on retained samples{passes}{held}" : "repair tried, none met the target (unrepaired)");
        }

        Add("layers");
        Add("reused");
        if (!leftAsItWas && parameters["calibration"] is JObject calibration && calibration["targetMet"] is { Type: JTokenType.Boolean } met)
        {
            // Left as it was, the reason says what calibration found (QA: "target met" beside "unchanged" contradicted it).
            parts.Add($"calibration target {((bool)met ? "met" : "missed")}");
        }

        if (parameters["calibrationPlanned"] is { Type: JTokenType.Boolean } planned && (bool)planned)
        {
            parts.Add("from the harvest's forget plan");
        }

        return parts.Count == 0 ? "–" : string.Join(", ", parts);
    }

    /// <summary>Whether the output lowered the forgotten labels' output biases (a head shift above 0).</summary>
    public static bool HeadShifted(JObject? parameters) =>
        parameters?["headShift"] is { Type: JTokenType.Float or JTokenType.Integer } shift && (double)shift! > 0;

    private static string Value(JToken token) => token.Type switch
    {
        JTokenType.Float => ((double)token).ToString("0.######", CultureInfo.InvariantCulture),
        JTokenType.Boolean => (bool)token ? "yes" : "no",
        _ => token.ToString(Newtonsoft.Json.Formatting.None).Trim('"'),
    };
}
