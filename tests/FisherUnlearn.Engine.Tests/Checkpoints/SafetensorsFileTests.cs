using System.Buffers.Binary;
using System.Text;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Tests.Support;

namespace FisherUnlearn.Engine.Tests.Checkpoints;

public sealed class SafetensorsFileTests : IDisposable
{
    private readonly TestFolder folder = new();

    public void Dispose() => folder.Dispose();

    private static Dictionary<string, SafetensorsTensor> Weights() => new()
    {
        ["fc2.bias"] = SafetensorsTensor.FromFloats([2], [0.5f, -1f]),
        ["fc1.weight"] = SafetensorsTensor.FromFloats([2, 3], [1, 2, 3, 4, 5, 6]),
        ["step"] = new SafetensorsTensor(SafetensorsDType.I64, [], BitConverter.GetBytes(42L)),
    };

    private static readonly Dictionary<string, string> Metadata = new() { ["producer"] = "test", ["format"] = "pt" };

    /// <summary>A file with the given raw header JSON and data bytes.</summary>
    private string Raw(string header, byte[] data, ulong? claimedLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, claimedLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        return folder.Write("raw.safetensors", bytes);
    }

    [Fact]
    public void Round_trips_names_types_shapes_values_and_metadata()
    {
        var path = folder.PathOf("w.safetensors");
        SafetensorsFile.Write(path, Weights(), Metadata);

        var read = SafetensorsFile.Read(path);

        Assert.Equal(["fc1.weight", "fc2.bias", "step"], read.Tensors.Keys);
        Assert.Equal([2L, 3L], read.Tensors["fc1.weight"].Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6], read.Tensors["fc1.weight"].ToFloats());
        Assert.Equal([42L], read.Tensors["step"].ToInt64s());
        Assert.Empty(read.Tensors["step"].Shape);
        Assert.Equal("test", read.Metadata["producer"]);
    }

    [Fact]
    public void Same_weights_give_identical_bytes_whatever_the_insertion_order()
    {
        var a = folder.PathOf("a.safetensors");
        var b = folder.PathOf("b.safetensors");
        SafetensorsFile.Write(a, Weights(), Metadata);
        SafetensorsFile.Write(b, Weights().Reverse().ToDictionary(), Metadata.Reverse().ToDictionary());
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
    }

    [Fact]
    public void Header_is_compact_sorted_and_padded_to_8_bytes()
    {
        var bytes = SafetensorsFile.Serialize(Weights(), Metadata);
        var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = Encoding.UTF8.GetString(bytes, 8, length);
        Assert.Equal(0, (8 + length) % 8);
        Assert.StartsWith(
            "{\"__metadata__\":{\"format\":\"pt\",\"producer\":\"test\"},\"fc1.weight\":{\"data_offsets\":[0,24],\"dtype\":\"F32\",\"shape\":[2,3]},\"fc2.bias\":{\"data_offsets\":[24,32]",
            header,
            StringComparison.Ordinal);
        Assert.DoesNotContain('\n', header);
    }

    [Fact]
    public void Reading_leaves_the_file_byte_identical()
    {
        var path = folder.PathOf("w.safetensors");
        SafetensorsFile.Write(path, Weights());
        var before = File.ReadAllBytes(path);
        var stamp = File.GetLastWriteTimeUtc(path);
        _ = SafetensorsFile.Read(path);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(path));
    }

    [Fact]
    public void Write_leaves_no_temporary_file()
    {
        var path = folder.PathOf("w.safetensors");
        SafetensorsFile.Write(path, Weights());
        SafetensorsFile.Write(path, Weights());
        Assert.Equal(["w.safetensors"], Directory.GetFiles(folder.Root).Select(Path.GetFileName));
    }

    [Fact]
    public void Missing_file_is_FUL4020()
    {
        EngineAssert.Fails("FUL4020", () => SafetensorsFile.Read(folder.PathOf("none.safetensors")));
    }

    [Fact]
    public void File_shorter_than_8_bytes_is_FUL4021()
    {
        var path = folder.Write("short.safetensors", [1, 2, 3]);
        EngineAssert.Fails("FUL4021", () => SafetensorsFile.Read(path));
    }

    [Fact]
    public void Truncated_data_is_FUL4021()
    {
        var path = folder.PathOf("w.safetensors");
        SafetensorsFile.Write(path, Weights());
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);
        EngineAssert.Fails("FUL4021", () => SafetensorsFile.Read(path));
    }

    [Fact]
    public void Header_claiming_2_pow_40_bytes_is_refused_without_allocating_FUL4022()
    {
        var path = Raw("{}", [], claimedLength: 1UL << 40);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        EngineAssert.Fails("FUL4022", () => SafetensorsFile.Read(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocated < 1_000_000);
    }

    [Fact]
    public void Header_longer_than_the_file_is_FUL4021()
    {
        var path = Raw("{}", [], claimedLength: 5000);
        EngineAssert.Fails("FUL4021", () => SafetensorsFile.Read(path));
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"__metadata__\":{\"n\":1}}")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}")]
    public void Invalid_header_is_FUL4022(string header)
    {
        var path = Raw(header, new byte[4]);
        EngineAssert.Fails("FUL4022", () => SafetensorsFile.Read(path));
    }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F99\",\"shape\":[1],\"data_offsets\":[0,4]}}", "F99")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "needs 8 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "non-negative")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "data_offsets")]
    [InlineData("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", "overlap")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "gap")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", "too large")]
    public void Invalid_tensor_entry_is_FUL4023_naming_the_tensor(string header, string detail)
    {
        var path = Raw(header, new byte[8]);
        var ex = EngineAssert.Fails("FUL4023", () => SafetensorsFile.Read(path));
        Assert.Contains("'a'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(detail, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_valid_dtype_this_tool_does_not_read_is_not_called_corrupt()
    {
        var path = Raw("{\"a\":{\"dtype\":\"U32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);

        var ex = EngineAssert.Fails("FUL4023", () => SafetensorsFile.Read(path));

        Assert.Contains("the dtype 'U32' is not supported", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Save the weights in one of those dtypes", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("corrupt", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("  {\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "does not begin with '{'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}\n\n", "not followed by spaces alone")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}\t ", "not followed by spaces alone")]
    public void A_header_padded_otherwise_than_with_trailing_spaces_is_FUL4022_as_the_format_says(string header, string detail)
    {
        var path = Raw(header, new byte[4]);

        var ex = EngineAssert.Fails("FUL4022", () => SafetensorsFile.Read(path));

        Assert.Contains(detail, ex.Message, StringComparison.Ordinal);
        Assert.Equal(1f, SafetensorsFile.Read(Raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}      ", BitConverter.GetBytes(1f))).Tensors["a"].ToFloats()[0]);
    }

    // Found in QA: these were all called a padding problem ("not followed by spaces alone"), sending the user to look at
    // the bytes after a JSON object that was never there or never ended.
    [Theory]
    [InlineData("", "the header is empty")]
    [InlineData("        ", "the header is empty")]
    [InlineData("{\"a\":1,,", "not valid JSON at byte 7 of the header (")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", "not valid JSON at byte ")]
    [InlineData("{\"a\":[[[[[[[[[[[[", "it nests deeper than a safetensors header does")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}\0\0\0", "not followed by spaces alone")]
    public void An_empty_or_unparsable_header_is_FUL4022_saying_so_not_a_padding_problem(string header, string detail)
    {
        var path = Raw(header, new byte[4]);

        var ex = EngineAssert.Fails("FUL4022", () => SafetensorsFile.Read(path));

        Assert.Contains(detail, ex.Message, StringComparison.Ordinal);
        if (!detail.Contains("spaces", StringComparison.Ordinal))
        {
            Assert.DoesNotContain("spaces alone", ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[1000004,1000008]}}",
        "FUL4021", "tensor 'b' ends at byte 1000008 of the data, which has 4")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[18446744073709551615,18446744073709551615]}}",
        "FUL4023", "'data_offsets' is [18446744073709551615,18446744073709551615]; it must be [begin, end], two whole numbers from 0 to 9223372036854775807")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[1000000,1000004]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
        "FUL4021", "tensor 'a' ends at byte 1000004 of the data, which has 4")]
    [InlineData("{\n  \"a\": {\n    \"dtype\": \"F32\",\n    \"shape\": [1],\n    \"data_offsets\": [0, 4] tru\n  }\n}",
        "FUL4022", "not valid JSON at line 5, byte ")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}",
        "FUL4022", "(a comma before a closing brace or bracket, which JSON does not allow)")]
    public void Offsets_past_the_data_or_past_what_a_file_can_hold_and_json_errors_say_where(string header, string code, string detail)
    {
        // QA: the first was called "a gap of 1000000 unused bytes", the second "must be [begin, end] with 0 <= begin <= end",
        // which those values meet.
        var ex = EngineAssert.Fails(code, () => SafetensorsFile.Read(Raw(header, new byte[4])));

        Assert.Contains(detail, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("gap", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("reader options", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Offsets_beyond_the_data_are_refused()
    {
        var path = Raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[8]);
        var ex = Assert.Throws<EngineException>(() => SafetensorsFile.Read(path));
        Assert.Contains(ex.Code, new[] { "FUL4021", "FUL4023" });
    }

    [Fact]
    public void Unused_trailing_bytes_are_FUL4022()
    {
        var path = Raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[12]);
        EngineAssert.Fails("FUL4022", () => SafetensorsFile.Read(path));
    }

    [Fact]
    public void A_header_that_is_not_UTF8_is_FUL4022_not_an_exception_from_the_JSON_reader()
    {
        var header = Encoding.UTF8.GetBytes("{\"__metadata__\":{\"producer\":\"xxisher\"},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}");
        var at = Encoding.ASCII.GetString(header).IndexOf("xx", StringComparison.Ordinal);
        (header[at], header[at + 1]) = (0xFF, 0xFE);
        var bytes = new byte[8 + header.Length + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        var path = folder.Write("latin.safetensors", bytes);

        var ex = EngineAssert.Fails("FUL4022", () => SafetensorsFile.Read(path));

        Assert.Contains("UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void F64_weights_beyond_float32s_range_are_FUL4024_as_they_would_be_infinite_in_the_engine()
    {
        var path = folder.PathOf("f64.safetensors");
        var data = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(data, 0.5);
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8), 1e39);
        SafetensorsFile.Write(path, new Dictionary<string, SafetensorsTensor> { ["fc2.weight"] = new(SafetensorsDType.F64, [2], data) });

        var ex = EngineAssert.Fails("FUL4024", () => SafetensorsFile.Read(path));

        Assert.Contains("'fc2.weight' holds 1 ", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Non_finite_weights_are_FUL4024_naming_the_tensor(float bad)
    {
        var path = folder.PathOf("nan.safetensors");
        SafetensorsFile.Write(path, new Dictionary<string, SafetensorsTensor>
        {
            ["fc1.weight"] = SafetensorsTensor.FromFloats([2], [1f, bad]),
        });
        var ex = EngineAssert.Fails("FUL4024", () => SafetensorsFile.Read(path));
        Assert.Contains("'fc1.weight'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(path, ex.Diagnostic.Location.File);
    }

    [Fact]
    public void Header_read_once_then_chosen_tensors_give_what_a_whole_read_gives()
    {
        var path = folder.PathOf("w.safetensors");
        SafetensorsFile.Write(path, Weights(), Metadata);

        var header = SafetensorsFile.ReadHeader(path);
        var chosen = SafetensorsFile.ReadTensors(header, checkFinite: true, name => name.StartsWith("fc", StringComparison.Ordinal));
        var whole = SafetensorsFile.Read(path);

        Assert.Equal(["fc1.weight", "fc2.bias", "step"], header.Entries.Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Equal(whole.Metadata, header.Metadata);
        Assert.Equal(["fc1.weight", "fc2.bias"], chosen.Keys);
        foreach (var (name, tensor) in chosen)
        {
            Assert.Equal(whole.Tensors[name].Data, tensor.Data);
            Assert.Equal(whole.Tensors[name].Shape, tensor.Shape);
        }
    }

    [Fact]
    public void Tensors_of_a_file_replaced_after_its_header_was_read_are_refused_FUL4022()
    {
        var path = folder.PathOf("w.safetensors");
        SafetensorsFile.Write(path, Weights(), Metadata);
        var header = SafetensorsFile.ReadHeader(path);
        SafetensorsFile.Write(path, new Dictionary<string, SafetensorsTensor> { ["fc1.weight"] = SafetensorsTensor.FromFloats([1], [1f]) });

        var ex = EngineAssert.Fails("FUL4022", () => SafetensorsFile.ReadTensors(header, checkFinite: true, include: null));
        Assert.Contains("changed after its header was read", ex.Message, StringComparison.Ordinal);
        EngineAssert.Fails("FUL4022", () => SafetensorsFile.ReadEach(header, (_, _) => Assert.Fail("nothing may be read")));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Non_finite_count_and_float_conversion_agree_with_element_by_element_reading(int seed)
    {
        // Long enough for the vectorised paths and an unaligned tail; specials at random places, negative zero included.
        var random = new Random(seed);
        var values = new float[1000 + random.Next(64)];
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, float.Epsilon, float.MaxValue];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = random.Next(10) == 0 ? specials[random.Next(specials.Length)] : (float)((random.NextDouble() * 200) - 100);
        }

        var tensor = SafetensorsTensor.FromFloats([values.Length], values);

        Assert.Equal(values.LongCount(v => !float.IsFinite(v)), tensor.CountNonFinite());
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), tensor.ToFloats().Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Floats_streamed_from_their_arrays_give_the_bytes_of_a_whole_write(bool durable)
    {
        var random = new Random(3);
        var tensors = new Dictionary<string, (IReadOnlyList<long> Shape, float[] Values)>
        {
            ["b/fc1.weight"] = ([3, 5], [.. Enumerable.Range(0, 15).Select(_ => (float)random.NextDouble())]),
            ["a/fc1.bias"] = ([3], [0.5f, -0f, float.Epsilon]),
            ["scalar"] = ([], [42f]),
        };
        var streamed = folder.PathOf("streamed.safetensors");
        var whole = folder.PathOf("whole.safetensors");

        SafetensorsFile.WriteFloats(streamed, tensors, Metadata, durable);
        SafetensorsFile.Write(whole, tensors.ToDictionary(t => t.Key, t => SafetensorsTensor.FromFloats(t.Value.Shape, t.Value.Values)), Metadata);

        Assert.Equal(File.ReadAllBytes(whole), File.ReadAllBytes(streamed));
        Assert.Throws<ArgumentException>(() => SafetensorsFile.WriteFloats(folder.PathOf("bad.safetensors"),
            new Dictionary<string, (IReadOnlyList<long> Shape, float[] Values)> { ["x"] = ([2, 2], [1f, 2f, 3f]) }));
        Assert.False(File.Exists(folder.PathOf("bad.safetensors")));
    }
}
