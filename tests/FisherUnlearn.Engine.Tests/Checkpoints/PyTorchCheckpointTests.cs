using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Tests.Support;
using static FisherUnlearn.Engine.Tests.Support.PtBuilder;

namespace FisherUnlearn.Engine.Tests.Checkpoints;

/// <summary>PyTorch <c>.pt</c> state_dicts crafted byte by byte: every view torch.load accepts loads, and every
/// broken or unsafe file is one FUL4027 line naming the file, without libtorch's stack frames.</summary>
[Collection(EngineInputsTorchCollection.Name)]
public sealed class PyTorchCheckpointTests : IDisposable
{
    private readonly TestFolder folder = new();

    public void Dispose() => folder.Dispose();

    private static float[] Range(int count) => [.. Enumerable.Range(0, count).Select(i => (float)i)];

    private static EngineException FailsInOneLine(string path)
    {
        var ex = EngineAssert.Fails("FUL4027", () => CheckpointStore.Load(path));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Diagnostic.Message);
        Assert.DoesNotContain("frame #", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception raised from", ex.Message, StringComparison.Ordinal);
        return ex;
    }

    private static void DisposeAll(Dictionary<string, TorchSharp.torch.Tensor> state)
    {
        foreach (var tensor in state.Values)
        {
            tensor.Dispose();
        }
    }

    [Fact]
    public void Tensors_sharing_one_storage_at_different_offsets_load_as_torch_load_gives_them()
    {
        // One 266-float storage: fc1.bias views elements 0..9, fc3.bias elements 256..265.
        var path = folder.Write("m.pt", StateDict([new FloatStorage("0", Range(266))], Contiguous("fc1.bias", "0", 0, 10), Contiguous("fc3.bias", "0", 256, 10)));

        var state = CheckpointStore.Load(path);

        Assert.Equal(Range(10), state["fc1.bias"].data<float>().ToArray());
        Assert.Equal(Range(266)[256..], state["fc3.bias"].data<float>().ToArray());
        DisposeAll(state);
    }

    [Fact]
    public void A_transposed_weight_loads_with_its_values_in_place_and_fits_a_module()
    {
        // A [3, 2] weight saved as the transpose of a [2, 3] one: stride (1, 3), as after weight.t().
        var weight = new TensorView("fc1.weight", "0", 0, [3, 2], [1, 3]);
        var path = folder.Write("m.pt", StateDict([new FloatStorage("0", Range(6)), new FloatStorage("1", [7f, 8f, 9f])], weight, Contiguous("fc1.bias", "1", 0, 3)));

        var state = CheckpointStore.Load(path);

        Assert.True(state["fc1.weight"].is_contiguous());
        Assert.Equal([0f, 3f, 1f, 4f, 2f, 5f], state["fc1.weight"].data<float>().ToArray());
        DisposeAll(state);
        using var model = new Mlp(2, [], 3);
        CheckpointStore.LoadInto(model, path, "mlp 2-3");
        Assert.Equal([0f, 3f, 1f, 4f, 2f, 5f], model.state_dict()["fc1.weight"].data<float>().ToArray());
    }

    [Theory]
    [InlineData(60L, new long[] { 10 }, new long[] { 1 }, "reaches element 69 of storage '0', but that storage holds 64 elements")]
    [InlineData(0L, new long[] { 4, 4 }, new long[] { -4, 1 }, "must not be negative")]
    [InlineData(0L, new long[] { -4, 4 }, new long[] { 4, 1 }, "must not be negative")]
    [InlineData(0L, new long[] { 2147483648L }, new long[] { 1 }, "is too large")]
    [InlineData(0L, new long[] { 1L << 40, 1L << 40 }, new long[] { 1L << 40, 1 }, "is too large")]
    [InlineData(0L, new long[] { 4, 4 }, new long[] { 4 }, "as many dimensions")]
    public void A_view_outside_its_storage_is_FUL4027_in_one_line(long offset, long[] shape, long[] stride, string reason)
    {
        var path = folder.Write("m.pt", StateDict([new FloatStorage("0", Range(64))], new TensorView("fc1.weight", "0", offset, shape, stride)));

        var ex = FailsInOneLine(path);

        Assert.Contains("tensor 'fc1.weight' has offset", ex.Message, StringComparison.Ordinal);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "the file is empty, so it is not a PyTorch zip checkpoint")]
    [InlineData("weights: [1, 2, 3]\n", "it does not start with the zip signature 'PK', so it is not a PyTorch zip checkpoint")]
    [InlineData("\u0080\u0002\u008a\u000al\u00fc\u009cF\u00f9 j\u00a8P\u0019.", "legacy format")]
    public void A_file_that_is_not_a_torch_save_zip_says_so(string content, string reason)
    {
        var path = folder.Write("m.pt", [.. content.Select(c => (byte)c)]);

        var ex = FailsInOneLine(path);

        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("old PyTorch format", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_zip_without_data_pkl_names_what_is_missing()
    {
        var path = folder.Write("m.pt", Zip(null, new Dictionary<string, byte[]> { ["0"] = new byte[4] }));

        var ex = FailsInOneLine(path);

        Assert.Contains("no '<folder>/data.pkl' entry", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_storage_entry_is_named()
    {
        var pickle = StateDictPickle([new FloatStorage("0", Range(4))], Contiguous("fc1.bias", "0", 0, 4));
        var path = folder.Write("m.pt", Zip(pickle, new Dictionary<string, byte[]>()));

        var ex = FailsInOneLine(path);

        Assert.Contains("the storage '0' of tensor 'fc1.bias' is missing: the zip file has no entry 'archive/data/0'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_storage_shorter_than_it_declares_is_refused()
    {
        var pickle = StateDictPickle([new FloatStorage("0", Range(4))], Contiguous("fc1.bias", "0", 0, 4));
        var path = folder.Write("m.pt", Zip(pickle, new Dictionary<string, byte[]> { ["0"] = new byte[8] }));

        var ex = FailsInOneLine(path);

        Assert.Contains("declares 4 F32 elements (16 bytes), but its entry 'archive/data/0' holds 8 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_storage_longer_than_it_declares_is_refused()
    {
        // torch.save writes exactly numel x element size; padding (here 1 MB of zeros) is not read.
        var pickle = StateDictPickle([new FloatStorage("0", Range(4))], Contiguous("fc1.bias", "0", 0, 4));
        var path = folder.Write("m.pt", Zip(pickle, new Dictionary<string, byte[]> { ["0"] = new byte[16 + (1 << 20)] }));

        var ex = FailsInOneLine(path);

        Assert.Contains("declares 4 F32 elements (16 bytes), but its entry 'archive/data/0' holds 1048592 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_zip_entries_of_one_name_are_refused()
    {
        // This reader would take the first 'archive/data/0', Python's zipfile the last: refused, whoever reads it.
        var bytes = StateDict([new FloatStorage("0", Range(4))], Contiguous("fc1.bias", "0", 0, 4));
        using var stream = new MemoryStream();
        stream.Write(bytes);
        using (var zip = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Update, leaveOpen: true))
        {
            using var second = zip.CreateEntry("archive/data/0").Open();
            second.Write(new byte[16]);
        }

        var path = folder.Write("m.pt", stream.ToArray());

        var ex = FailsInOneLine(path);

        Assert.Contains("2 entries named 'archive/data/0'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pickle_that_would_run_code_is_refused_without_running_it()
    {
        var pickle = new Pickle().Proto().Global("posix", "system").Str("touch pwned").Op(0x85).Reduce().Stop().ToArray();
        var path = folder.Write("m.pt", Zip(pickle, new Dictionary<string, byte[]>()));

        var ex = FailsInOneLine(path);

        Assert.Contains("refers to 'posix.system', which a state_dict does not hold", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pickle_that_copies_one_remembered_list_again_and_again_is_refused_before_it_runs_away()
    {
        // A list of 1,000 (key, value) pairs, then OrderedDict(list) 1,000 times: 7 bytes a call, 1,000 items copied by
        // each, a million in all from a 12 KB pickle (a 1 MB one could ask for 10^11).
        var pickle = new Pickle().Proto().Op((byte)']').Mark();
        for (var i = 0; i < 1000; i++)
        {
            pickle.Int(0).Int(0).Op(0x86);
        }

        pickle.Op((byte)'e').Put(0).Global("collections", "OrderedDict").Put(1);
        for (var i = 0; i < 1000; i++)
        {
            pickle.Get(1).Get(0).Op(0x85).Reduce().Op((byte)'0');
        }

        var path = folder.Write("m.pt", Zip(pickle.EmptyDict().Stop().ToArray(), new Dictionary<string, byte[]>()));

        var ex = FailsInOneLine(path);

        Assert.Contains("copies more dict items than it has bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dict_built_from_its_items_once_still_loads()
    {
        // OrderedDict([(name, tensor), ...]) instead of SETITEMS: one copy of as many items as the pickle holds.
        var pickle = new Pickle().Proto().Global("collections", "OrderedDict").Op((byte)']').Str("fc1.bias")
            .Global("torch._utils", "_rebuild_tensor_v2").Mark()
            .Mark().Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int(4).Tuple().PersistentId()
            .Int(0).Ints([4]).Ints([1]).False().Global("collections", "OrderedDict").EmptyTuple().Reduce().Tuple().Reduce()
            .Op(0x86).Op((byte)'a').Op(0x85).Reduce().Stop().ToArray();
        var path = folder.Write("m.pt", Zip(pickle, new Dictionary<string, byte[]> { ["0"] = Range(4).SelectMany(BitConverter.GetBytes).ToArray() }));

        var state = CheckpointStore.Load(path);

        Assert.Equal(Range(4), state["fc1.bias"].data<float>().ToArray());
        DisposeAll(state);
    }

    [Fact]
    public void A_whole_pickled_model_is_refused()
    {
        var pickle = new Pickle().Proto().Global("__main__", "Net").EmptyTuple().Op(0x81).EmptyDict().Build().Stop().ToArray();
        var path = folder.Write("m.pt", Zip(pickle, new Dictionary<string, byte[]>()));

        var ex = FailsInOneLine(path);

        Assert.Contains("'__main__.Net'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Save a state_dict (not a whole model)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parameters_instead_of_tensors_are_refused_as_a_whole_model()
    {
        var pickle = new Pickle().Proto().Global("torch._utils", "_rebuild_parameter").Stop().ToArray();
        var path = folder.Write("m.pt", Zip(pickle, new Dictionary<string, byte[]>()));

        var ex = FailsInOneLine(path);

        Assert.Contains("nn.Parameter", ex.Message, StringComparison.Ordinal);
    }
}
