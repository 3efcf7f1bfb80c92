using FisherUnlearn.Lineage.Text;

namespace FisherUnlearn.Lineage.Tests.Text;

/// <summary>What an unknown id's message adds: the close one it was probably meant to be, else the ids there are.</summary>
public sealed class DidYouMeanRules
{
    private static readonly string[] Models = ["digits-base", "clinic-north", "digits-plus-5"];

    [Fact]
    public void A_misspelt_id_gets_the_close_one()
    {
        Assert.Equal(" (did you mean 'digits-base'?)", EditDistance.DidYouMeanOrKnown("digit-base", Models));
        Assert.Equal(" (did you mean 'digits-base'?)", EditDistance.DidYouMean("digit-base", Models));
    }

    [Fact]
    public void An_id_with_nothing_close_gets_the_known_ones_in_order_at_most_ten()
    {
        Assert.Equal("; known: 'clinic-north', 'digits-base', 'digits-plus-5'", EditDistance.DidYouMeanOrKnown("nosuch", Models));
        Assert.Equal(string.Empty, EditDistance.DidYouMean("nosuch", Models));

        var many = Enumerable.Range(0, 12).Select(i => $"model-{i:00}").ToList();
        Assert.Equal("; known: " + string.Join(", ", many.Take(10).Select(m => $"'{m}'")) + " and 2 more", EditDistance.DidYouMeanOrKnown("zzzzzzzzzzzzzzzzzzzz", many));
        Assert.Equal("; known: none", EditDistance.DidYouMeanOrKnown("a", []));
    }
}
