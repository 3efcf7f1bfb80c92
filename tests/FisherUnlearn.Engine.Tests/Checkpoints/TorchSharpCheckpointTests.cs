using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Tests.Support;

namespace FisherUnlearn.Engine.Tests.Checkpoints;

/// <summary>TorchSharp <c>.dat</c> checkpoints crafted byte by byte: a corrupt header is refused in one line naming the
/// file, before libtorch sees it.</summary>
[Collection(EngineInputsTorchCollection.Name)]
public sealed class TorchSharpCheckpointTests : IDisposable
{
    private readonly TestFolder folder = new();

    public void Dispose() => folder.Dispose();

    private static void AssertOneLine(EngineException ex, string path)
    {
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Diagnostic.Message);
        Assert.DoesNotContain("frame #", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception raised from", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_crafted_state_dict_loads()
    {
        var path = folder.Write("m.dat", DatBuilder.StateDict(DatBuilder.Floats("w", [2, 2], 1, 2, 3, 4), DatBuilder.Floats("b", [], 5)));

        var state = CheckpointStore.Load(path);

        Assert.Equal([2L, 2L], state["w"].shape);
        Assert.Equal([1f, 2f, 3f, 4f], state["w"].data<float>().ToArray());
        Assert.Equal(5f, state["b"].item<float>());
        foreach (var tensor in state.Values)
        {
            tensor.Dispose();
        }
    }

    [Fact]
    public void An_unknown_element_type_is_FUL4027_in_one_line()
    {
        var path = folder.Write("m.dat", DatBuilder.StateDict(new DatBuilder.Entry("fc1.bias", 99, [2], new byte[8])));

        var ex = EngineAssert.Fails("FUL4027", () => CheckpointStore.Load(path));

        AssertOneLine(ex, path);
        Assert.Contains("'fc1.bias' has element type 99", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1L << 20, 1L << 20)] // 4 TiB of float32: more than the file holds
    [InlineData(1L << 40, 1L << 40)] // the product overflows a long
    [InlineData(1L << 62, 4)]
    public void A_shape_larger_than_the_file_is_FUL4027_before_allocating(long rows, long cols)
    {
        var path = folder.Write("m.dat", DatBuilder.StateDict(new DatBuilder.Entry("fc1.weight", 6, [rows, cols], new byte[16])));

        var ex = EngineAssert.Fails("FUL4027", () => CheckpointStore.Load(path));

        AssertOneLine(ex, path);
        Assert.Contains($"'fc1.weight' declares shape [{rows}, {cols}]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("the file has 16 left", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("allocate", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Data_shorter_than_the_shape_is_FUL4027()
    {
        var path = folder.Write("m.dat", DatBuilder.StateDict(new DatBuilder.Entry("w", 6, [3], new byte[8])));

        var ex = EngineAssert.Fails("FUL4027", () => CheckpointStore.Load(path));

        AssertOneLine(ex, path);
        Assert.Contains("12 bytes, but the file has 8 left", ex.Message, StringComparison.Ordinal);
    }
}
