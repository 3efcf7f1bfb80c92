using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Tests.Native;

[Collection(EngineInputsTorchCollection.Name)]
public sealed class TensorMemoryTests
{
    [Fact]
    public void Block_copies_hold_the_same_values_in_the_same_order_as_the_element_accessor()
    {
        using var scope = torch.NewDisposeScope();
        var values = torch.randn(37, 13, generator: new Generator(5));
        var labels = torch.randint(0, 10, [41], generator: new Generator(6));

        Assert.Equal(values.data<float>().ToArray(), TensorMemory.ToArray<float>(values));
        Assert.Equal(labels.data<long>().ToArray(), TensorMemory.ToArray<long>(labels));
    }

    [Fact]
    public void A_transposed_view_is_copied_in_its_own_row_major_order()
    {
        using var scope = torch.NewDisposeScope();
        var values = torch.tensor(new float[] { 0, 1, 2, 3, 4, 5 }).reshape(2, 3);
        var transposed = values.t();

        Assert.False(transposed.is_contiguous());
        Assert.Equal([0f, 3f, 1f, 4f, 2f, 5f], TensorMemory.ToArray<float>(transposed));
    }

    [Fact]
    public void Asking_for_another_element_type_is_refused()
    {
        using var values = torch.zeros(3, ScalarType.Float64);
        Assert.Throws<ArgumentException>(() => TensorMemory.ToArray<float>(values));
    }
}
