namespace FisherUnlearn.Engine.Verification;

/// <summary>
/// What chance explains on a handful of forgotten samples. The sample targets of calibration and of <c>verify</c> are an
/// accuracy plus <c>sampleTolerance</c> standard errors, a normal approximation that fails on a few samples: a model that
/// never saw 3 digits it classifies 69% of the time gets all 3 right one time in three, yet 3 of 3 lay 1.1 standard
/// errors above 69% and were "still recognised", so calibration dampened a model that scored them as the retrained one did
/// and cost it 5.4 retain points (QA). When an unseen model would score every one of the n samples right at least as
/// often as the tolerance's one-sided tail (about 16% at 1 standard error), no score on them is evidence of memory.
/// </summary>
public static class SampleChance
{
    /// <summary>True when a model that scores <paramref name="unseen"/> on samples it never saw gets all <paramref name="n"/>
    /// right with probability unseen^n at least the upper tail of <paramref name="tolerance"/> standard errors. A tolerance
    /// of 0 allows nothing for chance, this rule included.</summary>
    public static bool AllRightByChance(double unseen, int n, double tolerance) =>
        tolerance > 0 && n > 0 && unseen > 0 && Math.Pow(Math.Min(1, unseen), n) >= UpperTail(tolerance);

    /// <summary>P(Z &gt; z) for a standard normal Z (Abramowitz and Stegun 26.2.17; absolute error below 7.5e-8).</summary>
    public static double UpperTail(double z)
    {
        if (z < 0)
        {
            return 1 - UpperTail(-z);
        }

        var t = 1 / (1 + (0.2316419 * z));
        var polynomial = t * (0.319381530 + (t * (-0.356563782 + (t * (1.781477937 + (t * (-1.821255978 + (t * 1.330274429))))))));
        return Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI) * polynomial;
    }
}
