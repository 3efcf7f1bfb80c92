namespace FisherUnlearn.Engine.Verification;

/// <summary>
/// The membership-inference attack of SSD (Foster et al., <c>get_membership_attack_prob</c>): a logistic regression on
/// per-sample features (here the cross-entropy loss and the entropy of the prediction), trained with retained TRAIN
/// samples as members (1) and held-out TEST samples as non-members (0), class-balanced by truncating the larger set
/// (seeded), then applied to the forget set: the rate is the fraction of forget samples predicted "member". Features are
/// standardised on the training pairs; the fit is Newton's method with a small L2 penalty, so it is deterministic.
/// </summary>
public static class MembershipInference
{
    /// <summary>Below this attack accuracy (on its own balanced training pairs) the attack cannot tell members from
    /// non-members, and its rate on the forget set is not evidence either way.</summary>
    public const double InformativeAccuracy = 0.6;

    /// <summary>Whether an MIA rate measured by an attack of this accuracy means something; null when either is unknown.</summary>
    public static bool? IsInformative(double? rate, double? attackAccuracy) =>
        rate is null || attackAccuracy is not { } accuracy ? null : accuracy >= InformativeAccuracy;

    /// <summary>The fraction (0..1) of forget samples predicted member; null when any set is empty.</summary>
    public static double? Rate(SampleOutputs members, SampleOutputs nonMembers, SampleOutputs forget, int seed = 0) =>
        Attack(members, nonMembers, forget, seed)?.Rate;

    /// <summary>
    /// The attack's rate on the forget set and its accuracy on the balanced pairs it was trained on (0.5 = chance: the
    /// model's losses and entropies do not tell its train samples from unseen ones, so the rate on the forget set says
    /// little). Null when any set is empty.
    /// </summary>
    public static MembershipAttack? Attack(SampleOutputs members, SampleOutputs nonMembers, SampleOutputs forget, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(nonMembers);
        ArgumentNullException.ThrowIfNull(forget);
        if (members.Count == 0 || nonMembers.Count == 0 || forget.Count == 0)
        {
            return null;
        }

        var n = Math.Min(members.Count, nonMembers.Count);
        var memberRows = Take(members, n, seed);
        var nonMemberRows = Take(nonMembers, n, seed + 1);
        var x = memberRows.Concat(nonMemberRows).ToArray();
        var y = Enumerable.Repeat(1.0, n).Concat(Enumerable.Repeat(0.0, n)).ToArray();
        var model = Fit(x, y);
        var correct = 0;
        for (var i = 0; i < x.Length; i++)
        {
            if (model.Probability(x[i]) > 0.5 == y[i] > 0.5)
            {
                correct++;
            }
        }

        var predictedMembers = 0;
        for (var i = 0; i < forget.Count; i++)
        {
            if (model.Probability(Features(forget, i)) > 0.5)
            {
                predictedMembers++;
            }
        }

        return new MembershipAttack(predictedMembers / (double)forget.Count, correct / (double)x.Length);
    }

    private static double[] Features(SampleOutputs outputs, int i) => [Clean(outputs.Losses[i]), Clean(outputs.Entropies[i])];

    // A loss can be +inf when a class is switched off entirely: cap it so the standardisation stays finite.
    private static double Clean(float value) => float.IsFinite(value) ? Math.Min(value, 100.0) : 100.0;

    private static List<double[]> Take(SampleOutputs outputs, int count, int seed)
    {
        var order = Enumerable.Range(0, outputs.Count).ToArray();
        if (count < order.Length)
        {
            new Random(seed).Shuffle(order);
            order = [.. order.Take(count).Order()];
        }

        return [.. order.Select(i => Features(outputs, i))];
    }

    internal sealed class Logistic(double[] mean, double[] scale, double[] weights)
    {
        public double Probability(double[] features)
        {
            var z = weights[0];
            for (var j = 0; j < features.Length; j++)
            {
                z += weights[j + 1] * ((features[j] - mean[j]) / scale[j]);
            }

            return 1.0 / (1.0 + Math.Exp(-z));
        }
    }

    internal static Logistic Fit(double[][] x, double[] y, double l2 = 1e-3, int iterations = 50)
    {
        var d = x[0].Length;
        var mean = new double[d];
        var scale = new double[d];
        for (var j = 0; j < d; j++)
        {
            mean[j] = x.Average(r => r[j]);
            var variance = x.Average(r => (r[j] - mean[j]) * (r[j] - mean[j]));
            scale[j] = variance > 1e-12 ? Math.Sqrt(variance) : 1.0;
        }

        var rows = x.Select(r => new[] { 1.0 }.Concat(r.Select((v, j) => (v - mean[j]) / scale[j])).ToArray()).ToArray();
        var p = d + 1;
        var w = new double[p];
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            var gradient = new double[p];
            var hessian = new double[p, p];
            for (var i = 0; i < rows.Length; i++)
            {
                var z = 0.0;
                for (var j = 0; j < p; j++)
                {
                    z += w[j] * rows[i][j];
                }

                var mu = 1.0 / (1.0 + Math.Exp(-z));
                var s = Math.Max(mu * (1 - mu), 1e-9);
                for (var j = 0; j < p; j++)
                {
                    gradient[j] += (mu - y[i]) * rows[i][j];
                    for (var k = 0; k < p; k++)
                    {
                        hessian[j, k] += s * rows[i][j] * rows[i][k];
                    }
                }
            }

            for (var j = 1; j < p; j++)
            {
                gradient[j] += l2 * rows.Length * w[j];
                hessian[j, j] += l2 * rows.Length;
            }

            var step = Solve(hessian, gradient);
            var change = 0.0;
            for (var j = 0; j < p; j++)
            {
                w[j] -= step[j];
                change = Math.Max(change, Math.Abs(step[j]));
            }

            if (change < 1e-8)
            {
                break;
            }
        }

        return new Logistic(mean, scale, w);
    }

    // Gaussian elimination with partial pivoting on a small dense system.
    private static double[] Solve(double[,] a, double[] b)
    {
        var n = b.Length;
        var m = (double[,])a.Clone();
        var v = (double[])b.Clone();
        for (var c = 0; c < n; c++)
        {
            var pivot = c;
            for (var r = c + 1; r < n; r++)
            {
                if (Math.Abs(m[r, c]) > Math.Abs(m[pivot, c]))
                {
                    pivot = r;
                }
            }

            if (Math.Abs(m[pivot, c]) < 1e-12)
            {
                m[pivot, c] = 1e-12;
            }

            if (pivot != c)
            {
                for (var k = 0; k < n; k++)
                {
                    (m[c, k], m[pivot, k]) = (m[pivot, k], m[c, k]);
                }

                (v[c], v[pivot]) = (v[pivot], v[c]);
            }

            for (var r = c + 1; r < n; r++)
            {
                var f = m[r, c] / m[c, c];
                for (var k = c; k < n; k++)
                {
                    m[r, k] -= f * m[c, k];
                }

                v[r] -= f * v[c];
            }
        }

        var result = new double[n];
        for (var r = n - 1; r >= 0; r--)
        {
            var sum = v[r];
            for (var k = r + 1; k < n; k++)
            {
                sum -= m[r, k] * result[k];
            }

            result[r] = sum / m[r, r];
        }

        return result;
    }
}

/// <summary>The outcome of <see cref="MembershipInference.Attack"/>.</summary>
/// <param name="Rate">Fraction of forget samples the attack calls members.</param>
/// <param name="Accuracy">The attack's accuracy on its own balanced member / non-member pairs (0.5 = chance).</param>
public sealed record MembershipAttack(double Rate, double Accuracy);
