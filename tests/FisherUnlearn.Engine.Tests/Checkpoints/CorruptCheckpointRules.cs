using System.Globalization;
using CsCheck;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Tests.Support;
using TorchSharp;
using static FisherUnlearn.Engine.Tests.Support.PtBuilder;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Tests.Checkpoints;

/// <summary>
/// Damaged checkpoints of every format, made at random from small valid ones (seeded: a failure prints the seed and
/// the shrunk damage, as the C# that rebuilds it): each loads whole (every tensor on the CPU, as many elements as its
/// shape, float values finite, no more tensor bytes than the allocation bound) or is refused with a FUL4xxx located at
/// the file, never another exception, never a hang, and never allocating more than the file's bytes justify.
/// </summary>
[Collection(EngineInputsTorchCollection.Name)]
public sealed class CorruptCheckpointRules : IDisposable
{
    private const int Iterations = 500;

    private readonly TestFolder folder = new();

    public void Dispose() => folder.Dispose();

    private static Mlp Model()
    {
        torch.manual_seed(1);
        return new Mlp(3, [2], 2);
    }

    private byte[] Saved(string extension)
    {
        using var model = Model();
        var path = folder.PathOf($"model{extension}");
        CheckpointStore.Save(path, model);
        return File.ReadAllBytes(path);
    }

    private static readonly Dictionary<string, SafetensorsTensor> MixedWeights = new(StringComparer.Ordinal)
    {
        ["fc1.weight"] = SafetensorsTensor.FromFloats([2, 3], [1, -2, 3.5f, 0, 1e-3f, -7]),
        ["fc1.bias"] = SafetensorsTensor.FromFloats([2], [0.5f, -1]),
        ["wide"] = new SafetensorsTensor(SafetensorsDType.F64, [2], [.. BitConverter.GetBytes(1.5), .. BitConverter.GetBytes(-2.0)]),
        ["half"] = new SafetensorsTensor(SafetensorsDType.F16, [2], [0x00, 0x3C, 0x00, 0xC0]),
        ["brain"] = new SafetensorsTensor(SafetensorsDType.BF16, [1], [0x80, 0x3F]),
        ["step"] = new SafetensorsTensor(SafetensorsDType.I64, [], BitConverter.GetBytes(42L)),
        ["mask"] = new SafetensorsTensor(SafetensorsDType.BOOL, [3], [1, 0, 1]),
    };

    private void LoadsWholeOrRefuses(string extension, byte[] bytes)
    {
        var path = folder.Write($"{Guid.NewGuid():N}{extension}", bytes);
        try
        {
            InputContract.LoadsWholeOrRefuses(() => CheckpointStore.Load(path), bytes.Length, [path], state => AssertWhole(state, bytes.Length));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertWhole(Dictionary<string, Tensor> state, long fileBytes)
    {
        try
        {
            long bytes = 0;
            foreach (var (name, tensor) in state)
            {
                Assert.Equal(DeviceType.CPU, tensor.device_type);
                Assert.Equal(tensor.shape.Aggregate(1L, (product, d) => product * d), tensor.numel());
                if (tensor.is_floating_point())
                {
                    using var finite = torch.isfinite(tensor);
                    using var all = finite.all();
                    Assert.True(all.item<bool>(), $"'{name}' was loaded with NaN or infinite values");
                }

                bytes += tensor.numel() * tensor.element_size();
            }

            Assert.True(bytes <= InputContract.AllocationBound(fileBytes), $"the tensors loaded hold {bytes} bytes, from a {fileBytes}-byte file");
        }
        finally
        {
            foreach (var tensor in state.Values)
            {
                tensor.Dispose();
            }
        }
    }

    private static Gen<(int Base, Mutation[] Damage)> Damage(params byte[][] bases) =>
        Gen.Int[0, bases.Length - 1].SelectMany(b => Corruption.Some(bases[b].Length, FieldsOf(bases[b])).Select(damage => (b, damage)));

    // The size fields of each format's header: safetensors' 8-byte header length, a zip's sizes and offsets, a .dat's entry count.
    private static IReadOnlyList<Field> FieldsOf(byte[] file) => file switch
    {
        [(byte)'P', (byte)'K', ..] => Corruption.ZipFields(file),
        [_, _, _, _, _, 0, 0, 0, (byte)'{', ..] => [new Field(0, 8)],
        _ => [new Field(0, 1)],
    };

    private static string Print((int Base, Mutation[] Damage) input) => $"base {input.Base}: {string.Join(", ", input.Damage.Select(m => m.ToString()))}";

    [Fact]
    public void Damaged_safetensors_load_whole_or_are_refused_with_FUL4()
    {
        var bases = new[] { SafetensorsFile.Serialize(MixedWeights, CheckpointStore.DefaultMetadata), Saved(".safetensors") };
        Damage(bases).Sample(input => LoadsWholeOrRefuses(".safetensors", Mutation.ApplyAll(bases[input.Base], input.Damage)), iter: Iterations, print: Print);
    }

    [Fact]
    public void Safetensors_headers_of_any_well_formed_JSON_load_whole_or_are_refused_with_FUL4() =>
        RawSafetensors.Headers(new("fc1.weight", ["F32"], 2), new("fc1.bias", ["F32", "F16", "BF16", "F64"], 1), new("step", ["I64", "BOOL", "U8"], 0))
            .Sample(file => LoadsWholeOrRefuses(".safetensors", file.ToBytes()), iter: Iterations);

    [Fact]
    public void Damaged_safetensors_go_into_a_module_whole_or_are_refused_with_FUL4()
    {
        var bases = new[] { Saved(".safetensors") };
        Damage(bases).Sample(input =>
        {
            var bytes = Mutation.ApplyAll(bases[input.Base], input.Damage);
            var path = folder.Write($"{Guid.NewGuid():N}.safetensors", bytes);
            using var module = new Mlp(3, [2], 2, initialize: false);
            try
            {
                InputContract.LoadsWholeOrRefuses(() => Loaded(() => CheckpointStore.LoadInto(module, path, "mlp 3-2-2")), bytes.Length, [path], _ =>
                {
                    foreach (var (name, tensor) in module.state_dict())
                    {
                        using var finite = torch.isfinite(tensor);
                        using var all = finite.all();
                        Assert.True(all.item<bool>(), $"'{name}' was loaded with NaN or infinite values");
                    }
                });
            }
            finally
            {
                File.Delete(path);
            }
        }, iter: Iterations, print: Print);
    }

    private static bool Loaded(Action load)
    {
        load();
        return true;
    }

    private static byte[] CraftedPt() => StateDict(
        [new FloatStorage("0", [1, 2, 3, 4, 5, 6]), new FloatStorage("1", [7, 8])],
        Contiguous("fc1.weight", "0", 0, 2, 3), new TensorView("fc1.weight_t", "0", 0, [3, 2], [1, 3]), Contiguous("fc1.bias", "1", 0, 2));

    [Fact]
    public void Damaged_pt_files_load_whole_or_are_refused_with_FUL4()
    {
        var bases = new[] { CraftedPt(), Saved(".pt") };
        Damage(bases).Sample(input => LoadsWholeOrRefuses(".pt", Mutation.ApplyAll(bases[input.Base], input.Damage)), iter: Iterations, print: Print);
    }

    // A .pt file's pickle, storages (by key) and folder, to zip again with a damaged pickle.
    private static (byte[] Pickle, Dictionary<string, byte[]> Storages, string Folder) Unzip(byte[] pt)
    {
        using var zip = new System.IO.Compression.ZipArchive(new MemoryStream(pt));
        byte[] Read(System.IO.Compression.ZipArchiveEntry entry)
        {
            using var stream = entry.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }

        var pickle = zip.Entries.Single(e => e.Name == "data.pkl");
        var folder = pickle.FullName[..^"/data.pkl".Length];
        var storages = zip.Entries.Where(e => e.FullName.StartsWith($"{folder}/data/", StringComparison.Ordinal))
            .ToDictionary(e => e.Name, Read, StringComparer.Ordinal);
        return (Read(pickle), storages, folder);
    }

    [Fact]
    public void Damaged_pickles_in_a_sound_zip_load_whole_or_are_refused_with_FUL4()
    {
        var bases = new[] { Unzip(CraftedPt()), Unzip(Saved(".pt")) };
        Gen.Int[0, bases.Length - 1].SelectMany(b => Corruption.Some(bases[b].Pickle.Length, []).Select(damage => (b, damage))).Sample(input =>
        {
            var (pickle, storages, zipFolder) = bases[input.b];
            LoadsWholeOrRefuses(".pt", Zip(Mutation.ApplyAll(pickle, input.damage), storages, zipFolder));
        }, iter: Iterations, print: Print);
    }

    /// <summary>A state_dict pickle over float storages, as <see cref="PtBuilder"/> writes it.</summary>
    private sealed record PtCase(FloatStorage[] Storages, TensorView[] Views)
    {
        public byte[] ToBytes() => StateDict(Storages, Views);

        public override string ToString() =>
            $"StateDict([{string.Join(", ", Storages.Select(s => $"new FloatStorage(\"{s.Key}\", [{string.Join(", ", s.Values.Select(Literal))}])"))}], "
            + string.Join(", ", Views.Select(v => $"new TensorView(\"{v.Name}\", \"{v.Storage}\", {v.Offset}, [{string.Join(", ", v.Shape)}], [{string.Join(", ", v.Stride)}])"));

        private static string Literal(float value) => float.IsNaN(value) ? "float.NaN" : $"{value.ToString("R", CultureInfo.InvariantCulture)}f";
    }

    // Offsets, sizes and strides: mostly small, sometimes an edge of the integer types.
    private static readonly Gen<long> ViewNumber = Gen.Frequency(
        (8, Gen.Long[0, 6]),
        (2, Gen.OneOf(-1L, 255L, 256L, int.MaxValue, 1L << 31, 1L << 40, long.MaxValue, long.MinValue)));

    [Fact]
    public void Pt_pickles_of_any_views_load_whole_or_are_refused_with_FUL4()
    {
        var values = Gen.Frequency((9, Gen.Float[-4, 4]), (1, Gen.OneOf(float.NaN, float.PositiveInfinity))).Array[0, 12];
        var storages = Gen.Select(values, values, (a, b) => new[] { new FloatStorage("0", a), new FloatStorage("1", b) });
        var name = Gen.OneOf("fc1.weight", "fc1.bias", "w");
        var storage = Gen.OneOf("0", "1", "0", "1", "2");
        var contiguous = Gen.Select(name, storage, Gen.Long[0, 7], Gen.Long[0, 7].Array[0, 3], (n, s, offset, shape) => Contiguous(n, s, offset, shape));
        var strided = Gen.Select(name, storage, ViewNumber, ViewNumber.Array[0, 3], ViewNumber.Array[0, 3], (n, s, offset, shape, stride) => new TensorView(n, s, offset, shape, stride));
        var expanded = Gen.Select(name, storage, Gen.OneOf(1L, 16L, 256L, 4096L, 65536L).Array[1, 3], (n, s, shape) => new TensorView(n, s, 0, shape, new long[shape.Length]));
        var deep = Gen.Select(name, storage, Gen.Int[60, 70], Gen.Long[0, 1], (n, s, rank, d) => new TensorView(n, s, 0, [d, .. Enumerable.Repeat(1L, rank - 1)], [.. Enumerable.Repeat(1L, rank)]));
        var view = Gen.Frequency((4, contiguous), (3, strided), (1, expanded), (1, deep));
        Gen.Select(storages, view.Array[1, 3], (s, v) => new PtCase(s, v))
            .Sample(pt => LoadsWholeOrRefuses(".pt", pt.ToBytes()), iter: Iterations);
    }

    private static byte[] CraftedDat() => DatBuilder.StateDict(
        DatBuilder.Floats("fc1.weight", [2, 3], 1, 2, 3, 4, 5, 6), DatBuilder.Floats("fc1.bias", [2], 7, 8), new DatBuilder.Entry("step", 4, [], BitConverter.GetBytes(42L)));

    [Fact]
    public void Damaged_dat_files_load_whole_or_are_refused_with_FUL4()
    {
        var bases = new[] { CraftedDat(), Saved(".dat") };
        Damage(bases).Sample(input => LoadsWholeOrRefuses(".dat", Mutation.ApplyAll(bases[input.Base], input.Damage)), iter: Iterations, print: Print);
    }

    /// <summary>Entries of a .dat state dict, as <see cref="DatBuilder"/> writes them.</summary>
    private sealed record DatCase(DatBuilder.Entry[] Entries)
    {
        public byte[] ToBytes() => DatBuilder.StateDict(Entries);

        public override string ToString() => "DatBuilder.StateDict(" + string.Join(", ", Entries.Select(e =>
            $"new DatBuilder.Entry(\"{e.Name}\", {e.ElementType}, [{string.Join(", ", e.Shape)}], Convert.FromHexString(\"{Convert.ToHexString(e.Data)}\"))")) + ")";
    }

    [Fact]
    public void Dat_entries_declaring_any_type_and_shape_load_whole_or_are_refused_with_FUL4()
    {
        // TorchSharp's element type codes and their sizes; the others are not types a .dat may hold.
        var sizes = new Dictionary<long, int> { [0] = 1, [1] = 1, [2] = 2, [3] = 4, [4] = 8, [5] = 2, [6] = 4, [7] = 8, [11] = 1, [15] = 2 };
        var type = Gen.Frequency((8, Gen.OneOf([.. sizes.Keys])), (1, Gen.OneOf(8L, 9L, 10L, 12L, 99L, 1L << 40, -1L)));
        var shapes = Gen.Frequency((8, ViewNumber.Array[0, 3]), (1, Gen.Int[4, 70].Select(rank => Enumerable.Repeat(1L, rank).ToArray())));
        var entry = Gen.Select(Gen.OneOf("w", "b", "w", "step", string.Empty), type, shapes, Gen.OneOf(0, 0, 0, -1, 1, 4), Gen.Int,
            (name, code, shape, delta, seed) =>
            {
                var bytes = Corruption.TensorBytes(sizes.GetValueOrDefault(code, 4), shape);
                var data = new byte[Math.Clamp(bytes + delta, 0, 4096)];
                new Random(seed).NextBytes(data);
                return new DatBuilder.Entry(name, code, shape, data);
            });
        entry.Array[0, 3].Select(entries => new DatCase(entries)).Sample(dat => LoadsWholeOrRefuses(".dat", dat.ToBytes()), iter: Iterations);
    }

    // The cases the properties found, as CsCheck shrank them.

    private EngineException Refused(string code, string extension, byte[] bytes)
    {
        var path = folder.Write($"found{extension}", bytes);
        return EngineAssert.Fails(code, () => CheckpointStore.Load(path));
    }

    [Fact]
    public void A_safetensors_shape_of_more_dimensions_than_libtorch_supports_is_FUL4023()
    {
        // It loaded, as a tensor libtorch's reductions (the check that weights are finite) fail on with an ExternalException.
        var file = new RawSafetensors("{\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},\"fc1.bias\":{\"dtype\":\"BF16\",\"shape\":[2,"
            + string.Join(",", Enumerable.Repeat(1, 69)) + "],\"data_offsets\":[24,28]},\"step\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[28,36]}}",
            Convert.FromHexString("7193C69524B9E36F7C3898B7DD200BC1161EEC2EF0BD1646F2A9E6936C626933EF855AB9"));

        var ex = Refused("FUL4023", ".safetensors", file.ToBytes());

        Assert.Contains("tensor 'fc1.bias' is invalid: its shape has 70 dimensions, more than the 64 libtorch supports", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_safetensors_tensor_whose_other_dimensions_overflow_libtorchs_strides_is_FUL4023()
    {
        // A zero made it empty, so its data fit; libtorch's torch.empty threw ExternalException (stride calculation overflowed).
        var file = new RawSafetensors("{\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[3,0,2,9223372036854775807],\"data_offsets\":[0,0]},\"fc1.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},\"step\":{\"dtype\":\"BOOL\",\"shape\":[],\"data_offsets\":[12,13]}}  ",
            Convert.FromHexString("00000000000000000000000000"));

        var ex = Refused("FUL4023", ".safetensors", file.ToBytes());

        Assert.Contains("tensor 'fc1.weight' is invalid: the shape [3,0,2,9223372036854775807] is too large", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pt_view_of_more_dimensions_than_libtorch_supports_is_FUL4027()
    {
        var ones = Enumerable.Repeat(1L, 66).ToArray();
        var ex = Refused("FUL4027", ".pt", StateDict([new FloatStorage("0", [-9.241E-08f, -1f]), new FloatStorage("1", [0f, -1f])], new TensorView("w", "0", 0, ones, ones)));

        Assert.Contains("tensor 'w' has 66 dimensions, more than the 64 libtorch supports", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pt_view_repeating_its_storage_into_more_bytes_than_the_file_holds_is_FUL4027_before_allocating()
    {
        // One float repeated 65536 x 16 times by strides of 0: 4 MB of tensor from an 882-byte file.
        var ex = Refused("FUL4027", ".pt", StateDict([new FloatStorage("0", []), new FloatStorage("1", [-3.9890842f])],
            new TensorView("fc1.bias", "1", 0, [65536, 16], [0, 0]), new TensorView("w", "1", 3, [0, 2, 0], [0, 0, 1])));

        Assert.Contains("tensor 'fc1.bias' has offset 0, shape [65536, 16], stride [0, 0], which repeats the 1 elements of storage '1' into 4194304 bytes, "
            + "more than the whole 882-byte file holds", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pt_views_that_each_repeat_within_the_file_size_but_together_exceed_it_are_FUL4027()
    {
        // Each 64 x 16 floats (4 KB) repeats one value within a file of about 5 KB; 40 of them would make 160 KB.
        var views = Enumerable.Range(0, 40).Select(i => new TensorView($"t{i}", "0", 0, [64, 16], [0, 0])).ToArray();
        var ex = Refused("FUL4027", ".pt", StateDict([new FloatStorage("0", [1f])], views));

        Assert.Contains("with the views before it that repeat theirs", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_tensor_with_a_dimension_libtorch_cannot_lay_out_is_FUL4027_in_the_tools_words()
    {
        // No element (a 0 dimension), yet strides past a long: torch.empty would fail with "Stride calculation overflowed".
        long[] shape = [0, 1L << 40, 1L << 40];
        var pt = Refused("FUL4027", ".pt", StateDict([new FloatStorage("0", [1f])], new TensorView("w", "0", 0, shape, [0, 0, 0])));
        var dat = Refused("FUL4027", ".dat", DatBuilder.StateDict(new DatBuilder.Entry("w", 6, shape, [])));

        Assert.Contains("too large to lay out even with no elements", pt.Message, StringComparison.Ordinal);
        Assert.Contains("too large to lay out even with no elements", dat.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Stride calculation", pt.Message + dat.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pt_view_repeating_its_storage_within_the_file_size_loads_as_torch_load_gives_it()
    {
        // An expanded buffer, as torch.save writes x.expand(3, 2) for a 2-element x: its values, repeated by a stride of 0.
        var path = folder.Write("expanded.pt", StateDict([new FloatStorage("0", [1f, 2f])], new TensorView("mask", "0", 0, [3, 2], [0, 1])));

        var state = CheckpointStore.Load(path);

        Assert.Equal([1f, 2f, 1f, 2f, 1f, 2f], state["mask"].data<float>().ToArray());
        state["mask"].Dispose();
    }
}
