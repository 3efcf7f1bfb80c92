using FisherUnlearn.Testing;
using FisherUnlearn.Lineage;
using FisherUnlearn.Tool.Reports;
using FisherUnlearn.Tool.Tests.Support;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Tests.Reports;

/// <summary>A report of removal forget-3 on samples/digits (6 affected models) with made-up but plausible numbers, built
/// without running anything.</summary>
internal static class ReportSamples
{
    public static ReportModel Digits(bool reference = true, bool missed = false)
    {
        var analysis = WorkspaceAnalysis.Analyze(RepoPaths.DigitsSample);
        var removal = analysis.Workspace.Removals["forget-3"];
        var planned = ReportModel.FromPlan(analysis, removal, "fiun");
        var i = 0;
        var model = planned with
        {
            Reason = "Erasure request 42: every image of the digit 3",
            MaxForgetAccuracy = 0.01,
            MaxRetainDrop = 0.02,
            Seconds = 4.2,
            Models = [.. planned.Models.Select(m =>
            {
                var k = i++ * 0.01;
                return m with
                {
                    Parameters = JObject.Parse($$"""{ "method": "fiun", "alpha": {{1 + i}}, "lambda": 0.5, "headShift": 0.25, "selected": {{120 + i}}, "considered": 235146, "importanceSource": "own" }"""),
                    InputSha256 = new string((char)('a' + i), 64),
                    OutputSha256 = new string((char)('0' + i), 64),
                    Seconds = 0.5 + k,
                    Before = new ReportMetrics(0.97 - k, 0.96 - k, 0.965 - k, 0.62),
                    After = new ReportMetrics(missed && i == 2 ? 0.2 : 0.004 + (k / 10), 0.95 - k, 0.86 - k, 0.31),
                    Reference = reference ? new ReportMetrics(0, 0.955 - k, 0.87 - k, 0.3) : null,
                };
            })],
        };
        return reference
            ? model with { Verification = new ReportVerification(!missed, true, 61.5, 70.1) }
            : model;
    }
}
