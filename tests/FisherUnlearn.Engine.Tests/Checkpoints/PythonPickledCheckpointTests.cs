using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Tests.Support;
using TorchSharp;

namespace FisherUnlearn.Engine.Tests.Checkpoints;

/// <summary>
/// <c>.pt</c> state_dicts whose pickle CPython's own pickler wrote, in torch.save's zip layout
/// (<c>Fixtures/make_torch_save_fixtures.py</c>: stand-ins under torch's names, since PyTorch is not installed here):
/// the memo puts and gets, LONG_BINPUT past 256 entries, the storages' classes fetched from the memo, 64-byte aligned
/// records and the <c>.data/serialization_id</c> entry are what a real <c>torch.save(model.state_dict(), path)</c>
/// holds, not what <see cref="PtBuilder"/> chose to write. Values are index-derived, so every element is checked.
/// </summary>
[Collection(EngineInputsTorchCollection.Name)]
public sealed class PythonPickledCheckpointTests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Checkpoints", "Fixtures");

    private readonly TestFolder folder = new();

    public void Dispose() => folder.Dispose();

    // What the script stores: fcL.weight[o, i] = L + o / 100 + i / 10000 and fcL.bias[o] = -(L + o / 100).
    private static float[] Weight(int layer, int fanOut, int fanIn) =>
        [.. Enumerable.Range(0, fanOut).SelectMany(o => Enumerable.Range(0, fanIn).Select(i => (float)(layer + (o / 100.0) + (i / 10000.0))))];

    private static float[] Bias(int layer, int fanOut) => [.. Enumerable.Range(0, fanOut).Select(o => (float)-(layer + (o / 100.0)))];

    private static void AssertMlp(IReadOnlyDictionary<string, torch.Tensor> state, int[] sizes, float tolerance)
    {
        Assert.Equal(2 * (sizes.Length - 1), state.Count);
        for (var layer = 1; layer < sizes.Length; layer++)
        {
            var weight = state[$"fc{layer}.weight"];
            Assert.Equal(new long[] { sizes[layer], sizes[layer - 1] }, weight.shape);
            AssertClose(Weight(layer, sizes[layer], sizes[layer - 1]), weight, tolerance);
            AssertClose(Bias(layer, sizes[layer]), state[$"fc{layer}.bias"], tolerance);
        }
    }

    private static void AssertClose(float[] expected, torch.Tensor actual, float tolerance)
    {
        using var values = actual.to_type(torch.ScalarType.Float32);
        var got = values.data<float>().ToArray();
        Assert.Equal(expected.Length, got.Length);
        for (var i = 0; i < got.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - got[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"element {i}: expected {expected[i]}, got {got[i]}");
        }
    }

    private static void DisposeAll(Dictionary<string, torch.Tensor> state)
    {
        foreach (var tensor in state.Values)
        {
            tensor.Dispose();
        }
    }

    [Fact]
    public void A_state_dict_pickled_by_Python_loads_with_every_value_in_place()
    {
        var state = CheckpointStore.Load(Path.Combine(Fixtures, "mlp-4-3-2.pt"));

        Assert.All(state.Values, t => Assert.Equal(torch.ScalarType.Float32, t.dtype));
        AssertMlp(state, [4, 3, 2], 0f);
        DisposeAll(state);
    }

    [Fact]
    public void It_loads_into_the_mlp_the_manifest_declares_and_computes_what_the_weights_say()
    {
        using var model = new Mlp(4, [3], 2);
        CheckpointStore.LoadInto(model, Path.Combine(Fixtures, "mlp-4-3-2.pt"), "mlp 4-3-2");

        // x = 1s: hidden = relu(W1 x + b1) (all positive here), logits = W2 hidden + b2; computed in double here.
        var w1 = Weight(1, 3, 4);
        var b1 = Bias(1, 3);
        var hidden = Enumerable.Range(0, 3).Select(o => Math.Max(0, Enumerable.Range(0, 4).Sum(i => (double)w1[(o * 4) + i]) + b1[o])).ToArray();
        var w2 = Weight(2, 2, 3);
        var b2 = Bias(2, 2);
        var expected = Enumerable.Range(0, 2).Select(o => Enumerable.Range(0, 3).Sum(i => w2[(o * 3) + i] * hidden[i]) + b2[o]).ToArray();
        using var input = torch.ones(1, 4);
        using var logits = model.call(input);

        var got = logits.data<float>().ToArray();
        Assert.Equal(expected.Length, got.Length);
        for (var o = 0; o < expected.Length; o++)
        {
            Assert.Equal(expected[o], got[o], 1e-5);
        }
    }

    [Fact]
    public void A_deep_state_dict_past_256_memo_entries_loads()
    {
        // 21 Linear layers: the pickle's memo passes 256 entries, so CPython switches to LONG_BINPUT / LONG_BINGET.
        var state = CheckpointStore.Load(Path.Combine(Fixtures, "mlp-deep.pth"));

        AssertMlp(state, [4, .. Enumerable.Repeat(3, 20), 2], 0f);
        DisposeAll(state);
    }

    [Fact]
    public void A_half_precision_state_dict_loads_as_float16_and_converts_into_a_float32_module()
    {
        var path = Path.Combine(Fixtures, "mlp-4-3-2-half.pt");
        var state = CheckpointStore.Load(path);

        Assert.All(state.Values, t => Assert.Equal(torch.ScalarType.Float16, t.dtype));
        AssertMlp(state, [4, 3, 2], 1e-3f); // float16 keeps about 3 significant digits.
        DisposeAll(state);

        using var model = new Mlp(4, [3], 2);
        CheckpointStore.LoadInto(model, path, "mlp 4-3-2");
        AssertMlp(model.state_dict(), [4, 3, 2], 1e-3f);
    }

    [Fact]
    public void A_renamed_file_loads_although_its_folder_inside_keeps_the_old_name()
    {
        // torch.save names the zip's folder after the file it writes; users rename checkpoints afterwards.
        var path = folder.PathOf("renamed.pt");
        File.Copy(Path.Combine(Fixtures, "mlp-4-3-2.pt"), path);

        var state = CheckpointStore.Load(path);

        AssertMlp(state, [4, 3, 2], 0f);
        DisposeAll(state);
    }
}
