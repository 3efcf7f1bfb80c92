using FisherUnlearn.Engine.Unlearning;
using static FisherUnlearn.Engine.Tests.Support.ParameterSettings;

namespace FisherUnlearn.Engine.Tests.Unlearning;

/// <summary>The names a removal's or unlearn.json's <c>parameters</c> may use, and what a misspelt one is told.</summary>
public sealed class MethodParameterNames
{
    [Fact]
    public void A_misspelt_parameter_is_FUL4102_with_the_name_it_is_close_to()
    {
        var ex = Assert.Throws<EngineException>(() => Read(("alpah", "2")));

        Assert.Equal("FUL4102", ex.Code);
        Assert.Contains("it must be a known parameter (did you mean 'alpha'?); the parameters are importance, ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_parameter_the_message_lists_is_one_a_method_reads()
    {
        // A value of the wrong kind for each: refused as that parameter's value, never as an unknown name.
        foreach (var name in UnlearnSettings.KnownParameters)
        {
            var ex = Assert.Throws<EngineException>(() => Read((name, "{}")));
            Assert.DoesNotContain("a known parameter", ex.Message, StringComparison.Ordinal);
        }
    }
}
