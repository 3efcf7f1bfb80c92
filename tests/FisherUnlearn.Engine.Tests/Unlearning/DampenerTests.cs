using FisherUnlearn.Engine.Fisher;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Engine.Unlearning;
using TorchSharp;

namespace FisherUnlearn.Engine.Tests.Unlearning;

[Collection(UnlearningCollection.Name)]
public sealed class DampenerTests
{
    private static FisherDiagonal RandomFisher(Mlp model, int seed, double zeroFraction)
    {
        var random = new Random(seed);
        return new FisherDiagonal(model.named_parameters().Select(p => KeyValuePair.Create(p.name, new FisherParameter(p.parameter.shape,
            [.. Enumerable.Range(0, (int)p.parameter.numel()).Select(_ => random.NextDouble() < zeroFraction ? 0f : (float)random.NextDouble())]))), FisherEstimator.Exact, 10);
    }

    [Theory]
    [InlineData(0.0, 0.01)]
    [InlineData(0.5, 0.1)]
    [InlineData(1.0, 1.0)]
    [InlineData(3.0, 10.0)]
    public void Dampening_never_increases_a_magnitude_and_leaves_unselected_weights_bit_identical(double alpha, double lambda)
    {
        TorchRuntime.Configure(1);
        torch.manual_seed(3);
        using var model = new Mlp(20, [8], 4);
        var forget = RandomFisher(model, 1, 0.3);
        var full = RandomFisher(model, 2, 0.3);
        var before = StateDicts.Copy(model);

        var stats = Dampener.Apply(model, forget, full, alpha, lambda);

        Assert.True(stats.Selected > 0);
        foreach (var (name, parameter) in model.named_parameters())
        {
            var old = before[name].data<float>().ToArray();
            var now = parameter.detach().data<float>().ToArray();
            var ff = forget[name].Values;
            var fd = full[name].Values;
            for (var i = 0; i < old.Length; i++)
            {
                Assert.True(float.IsFinite(now[i]));
                Assert.True(Math.Abs(now[i]) <= Math.Abs(old[i]), $"{name}[{i}] grew from {old[i]} to {now[i]}");
                if (!(ff[i] > alpha * fd[i]))
                {
                    Assert.Equal(BitConverter.SingleToInt32Bits(old[i]), BitConverter.SingleToInt32Bits(now[i]));
                }
                else
                {
                    var beta = Math.Min(lambda * fd[i] / ff[i], 1.0);
                    Assert.Equal(old[i] * beta, now[i], 1e-5);
                }
            }
        }

        foreach (var tensor in before.Values)
        {
            tensor.Dispose();
        }
    }

    [Theory]
    [InlineData(0.0, 0.01, 0.3)]
    [InlineData(0.1, 0.3, 0.0)]
    [InlineData(0.7, 1.0 / 3, 0.5)]
    [InlineData(2.0, 0.5, 0.1)]
    [InlineData(13.0, 7.0, 0.9)]
    public void The_one_pass_float32_dampening_equals_the_tensor_formulation_bit_for_bit(double alpha, double lambda, double zeroFraction)
    {
        TorchRuntime.Configure(1);
        torch.manual_seed(11);
        using var fast = new Mlp(30, [16], 5);
        using var reference = new Mlp(30, [16], 5);
        foreach (var ((_, a), (_, b)) in fast.named_parameters().Zip(reference.named_parameters()))
        {
            using var noGrad = torch.no_grad();
            b.copy_(a);
        }

        var forget = RandomFisher(fast, 5, zeroFraction);
        var full = RandomFisher(fast, 6, zeroFraction);
        foreach (var ((name, a), (_, b)) in fast.named_parameters().Zip(reference.named_parameters()))
        {
            using var noGrad = torch.no_grad();
            var selectedFast = Dampener.ApplyFloat32(a, forget[name], full[name], (float)alpha, (float)lambda);
            var selectedReference = Dampener.ApplyWithTensors(b, forget[name], full[name], alpha, lambda);

            Assert.Equal(selectedReference, selectedFast);
            var x = a.detach().data<float>().ToArray();
            var y = b.detach().data<float>().ToArray();
            Assert.Equal(y.Select(BitConverter.SingleToInt32Bits), x.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void A_non_contiguous_weight_is_dampened_like_the_tensor_formulation_and_a_contiguous_one_in_place()
    {
        TorchRuntime.Configure(1);
        torch.manual_seed(21);
        using var storage = torch.randn(6, 4);
        using var transposed = storage.t(); // [4, 6] over [6, 4] memory: the copying path
        using var reference = transposed.contiguous().clone();
        using var contiguous = reference.clone(); // the in-place path
        var random = new Random(8);
        FisherParameter Random01() => new([4, 6], [.. Enumerable.Range(0, 24).Select(_ => (float)random.NextDouble())]);
        var (forget, full) = (Random01(), Random01());
        using var noGrad = torch.no_grad();
        using var alias = contiguous.view(-1); // shares the memory: sees the dampening only if it was done in place

        var selectedTransposed = Dampener.ApplyFloat32(transposed, forget, full, 0.8f, 0.5f);
        var selectedContiguous = Dampener.ApplyFloat32(contiguous, forget, full, 0.8f, 0.5f);
        var selectedReference = Dampener.ApplyWithTensors(reference, forget, full, 0.8, 0.5);

        Assert.InRange(selectedReference, 1, 23); // some weights selected, not all: both branches of the kernel ran
        Assert.Equal(selectedReference, selectedTransposed);
        Assert.Equal(selectedReference, selectedContiguous);
        var expected = reference.data<float>().ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();
        Assert.Equal(expected, transposed.contiguous().data<float>().ToArray().Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(expected, contiguous.data<float>().ToArray().Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(expected, alias.data<float>().ToArray().Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Zero_importances_select_nothing_and_produce_no_NaN()
    {
        TorchRuntime.Configure(1);
        torch.manual_seed(4);
        using var model = new Mlp(6, [], 3);
        var zeros = FisherDiagonal.Zeros(model.named_parameters().Select(p => KeyValuePair.Create(p.name, (IReadOnlyList<long>)p.parameter.shape)), FisherEstimator.Exact);
        var before = StateDicts.Copy(model);

        var stats = Dampener.Apply(model, zeros, zeros, 0, 1);

        Assert.Equal(0, stats.Selected);
        foreach (var (name, parameter) in model.named_parameters())
        {
            Assert.Equal(before[name].data<float>().ToArray(), parameter.detach().data<float>().ToArray());
        }
    }

    [Fact]
    public void Negative_settings_are_refused()
    {
        TorchRuntime.Configure(1);
        using var model = new Mlp(6, [], 3);
        var f = RandomFisher(model, 1, 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => Dampener.Apply(model, f, f, -1, 1));
    }
}
