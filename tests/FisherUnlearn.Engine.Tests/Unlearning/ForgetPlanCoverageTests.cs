using FisherUnlearn.Engine.Unlearning;

namespace FisherUnlearn.Engine.Tests.Unlearning;

public sealed class ForgetPlanCoverageTests
{
    private static int Choose(int n, int k) => k == 0 ? 1 : Choose(n - 1, k - 1) * n / k;

    [Fact]
    public void A_ten_class_model_gets_every_label_and_every_pair_in_order()
    {
        var sets = new ForgetPlanCoverage().SetsOf(Enumerable.Range(0, 10).Reverse());

        Assert.Equal(55, sets.Count);
        Assert.Equal(Enumerable.Range(0, 10).Select(l => new[] { l }), sets.Take(10));
        Assert.Equal([0, 1], sets[10]);
        Assert.Equal([8, 9], sets[^1]);
        Assert.All(sets.Skip(10), s => Assert.True(s.Length == 2 && s[0] < s[1]));
        Assert.Equal(45, sets.Skip(10).Select(ForgetPlan.KeyOf).Distinct().Count());
    }

    [Theory]
    [InlineData(13, 2, 100, 91)] // 13 + 78 pairs fit
    [InlineData(14, 2, 100, 14)] // 14 + 91 do not: single labels only
    [InlineData(100, 2, 100, 100)]
    [InlineData(150, 2, 100, 150)] // single labels even beyond the budget
    [InlineData(6, 3, 100, 41)] // 6 + 15 + 20
    [InlineData(6, 3, 30, 21)] // the triples do not fit: pairs only
    [InlineData(6, 1, 100, 6)]
    [InlineData(1, 2, 100, 1)]
    [InlineData(0, 2, 100, 0)]
    public void Sets_of_a_size_are_planned_only_when_all_of_them_fit_the_budget(int labels, int maxLabels, int maxPlans, int expected)
    {
        var sets = new ForgetPlanCoverage { MaxLabels = maxLabels, MaxPlans = maxPlans }.SetsOf(Enumerable.Range(0, labels));

        Assert.Equal(expected, sets.Count);
        Assert.Equal(sets.Count, sets.Select(ForgetPlan.KeyOf).Distinct().Count());
        foreach (var size in sets.Select(s => s.Length).Distinct().Where(s => s > 1))
        {
            Assert.Equal(Choose(labels, size), sets.Count(s => s.Length == size));
        }
    }

    [Fact]
    public void A_plan_table_finds_a_label_set_in_any_order_and_repeated_labels_alike()
    {
        var result = new CalibrationResult(new CalibrationPoint(1, 0.1, 0, 3, 0, 1), 0.01, true, 4, 0.002);
        var table = new ForgetPlanTable([new ForgetPlan([1, 4], result, 10, 20), new ForgetPlan([4], result, 10, 20)]);

        Assert.Same(table.Find([1, 4]), table.Find([4, 1, 4]));
        Assert.Null(table.Find([1]));
        Assert.Equal((1, 1), (table.SingleLabels, table.LabelSets));
        Assert.Equal([[4], [1, 4]], table.All.Select(p => p.Labels));
    }
}
