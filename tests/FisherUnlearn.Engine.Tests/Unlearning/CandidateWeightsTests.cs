using System.Runtime.InteropServices;
using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Unlearning;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Tests.Unlearning;

/// <summary>The weights the calibration evaluates a setting on are the weights the dampening makes, bit for bit.</summary>
[Collection(UnlearningCollection.Name)]
public sealed class CandidateWeightsTests
{
    private static Mlp SeededMlp()
    {
        torch.random.manual_seed(11);
        var mlp = new Mlp(20, [12, 8], 5);
        mlp.eval();
        return mlp;
    }

    private static float[] Values(Tensor t)
    {
        var values = new float[t.numel()];
        using var contiguous = t.detach().contiguous();
        MemoryMarshal.Cast<byte, float>(contiguous.bytes).CopyTo(values);
        return values;
    }

    [Theory]
    [InlineData(0.5, 0.1)]
    [InlineData(2, 1)]
    [InlineData(8, 0.01)]
    public void Candidate_weights_are_the_dampened_weights_bit_for_bit_and_count_what_they_select(double alpha, double lambda)
    {
        using var mlp = SeededMlp();
        using var reference = SeededMlp();
        var random = new Random(5);
        FisherDiagonal Diagonal() => new(mlp.named_parameters().ToDictionary(
            p => p.name,
            p => new FisherParameter([.. p.parameter.shape], [.. Enumerable.Range(0, (int)p.parameter.numel()).Select(_ => (float)random.NextDouble())]),
            StringComparer.Ordinal), FisherEstimator.Exact, 100);
        var (forget, full) = (Diagonal(), Diagonal());
        using var weights = new CandidateWeights(mlp, forget, full, include: null);

        var selected = weights.Write((alpha, lambda));
        var expected = Dampener.Apply(reference, forget, full, alpha, lambda);

        Assert.Equal(expected.Selected, selected);
        Assert.Equal(selected, weights.CountSelected(alpha));
        Assert.True(selected > 0);
        foreach (var ((name, mine), (_, theirs)) in mlp.named_parameters().Zip(reference.named_parameters()))
        {
            Assert.Equal(Values(theirs), Values(mine));
            Assert.Equal(Values(theirs), weights.Values(name));
        }

        weights.Write(null);
        using var fresh = SeededMlp();
        Assert.All(mlp.named_parameters().Zip(fresh.named_parameters()), pair => Assert.Equal(Values(pair.Second.parameter), Values(pair.First.parameter)));
    }
}
