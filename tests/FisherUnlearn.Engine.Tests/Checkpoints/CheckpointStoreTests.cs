using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Tests.Checkpoints;

[Collection(EngineInputsTorchCollection.Name)]
public sealed class CheckpointStoreTests : IDisposable
{
    private readonly TestFolder folder = new();

    public void Dispose() => folder.Dispose();

    private static Mlp Model(int seed = 1)
    {
        torch.manual_seed(seed);
        return new Mlp(6, [5], 3);
    }

    private static void AssertSameState(nn.Module expected, nn.Module actual)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        Assert.Equal(a.Keys, b.Keys);
        foreach (var (name, tensor) in a)
        {
            Assert.True(tensor.allclose(b[name], 0, 0), $"'{name}' differs");
        }
    }

    [Theory]
    [InlineData("m.safetensors")]
    [InlineData("m.pt")]
    [InlineData("m.dat")]
    public void Every_format_round_trips_exactly(string file)
    {
        using var original = Model(1);
        using var restored = Model(2);
        var path = folder.PathOf(file);

        CheckpointStore.Save(path, original, new Dictionary<string, string> { ["architecture"] = "mlp 6-5-3" });
        var before = File.ReadAllBytes(path);
        CheckpointStore.LoadInto(restored, path, "mlp 6-5-3");

        AssertSameState(original, restored);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(folder.Root));
    }

    [Fact]
    public void Load_returns_cpu_tensors_by_name()
    {
        using var model = Model();
        var path = folder.PathOf("m.pt");
        CheckpointStore.Save(path, model);
        var state = CheckpointStore.Load(path);
        Assert.Equal(["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"], state.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([5L, 6L], state["fc1.weight"].shape);
        foreach (var tensor in state.Values)
        {
            tensor.Dispose();
        }
    }

    [Fact]
    public void Same_weights_saved_twice_give_identical_safetensors_bytes()
    {
        using var a = Model(3);
        using var b = Model(3);
        CheckpointStore.Save(folder.PathOf("a.safetensors"), a, new Dictionary<string, string> { ["architecture"] = "mlp" });
        CheckpointStore.Save(folder.PathOf("b.safetensors"), b, new Dictionary<string, string> { ["architecture"] = "mlp" });
        Assert.Equal(File.ReadAllBytes(folder.PathOf("a.safetensors")), File.ReadAllBytes(folder.PathOf("b.safetensors")));
        var metadata = SafetensorsFile.Read(folder.PathOf("a.safetensors")).Metadata;
        Assert.Equal("pt", metadata["format"]);
        Assert.Equal("mlp", metadata["architecture"]);
    }

    [Fact]
    public void Checkpoint_of_another_architecture_lists_every_difference_FUL4025()
    {
        using var small = new Mlp(6, [5], 3);
        var path = folder.PathOf("m.safetensors");
        CheckpointStore.Save(path, small);
        using var other = new Mlp(6, [4, 4], 3);

        var ex = EngineAssert.Fails("FUL4025", () => CheckpointStore.LoadInto(other, path, "mlp 6-4-4-3"));

        Assert.Contains("'fc1.weight' has shape [5, 6], expected [4, 6]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'fc2.weight' has shape [3, 5], expected [4, 4]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing 'fc3.weight' [3, 4]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing 'fc3.bias' [3]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("mlp 6-4-4-3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unexpected_tensor_is_listed()
    {
        using var model = Model();
        var state = model.state_dict().ToDictionary(s => s.Key, s => s.Value);
        using var extra = torch.zeros(2);
        state["fc9.weight"] = extra;
        Assert.Equal(["unexpected 'fc9.weight' [2]"], CheckpointValidator.FindMismatches(model, state));
    }

    [Fact]
    public void A_state_dict_saved_from_DataParallel_is_named_as_such_in_one_line()
    {
        using var model = Model();
        var wrapped = model.state_dict().ToDictionary(s => "module." + s.Key, s => (IReadOnlyList<long>)s.Value.shape);

        var problems = CheckpointValidator.FindMismatches(model, wrapped);

        var problem = Assert.Single(problems);
        Assert.Contains("'module.' prefix of torch.nn.DataParallel", problem, StringComparison.Ordinal);
        Assert.Contains("model.module.state_dict()", problem, StringComparison.Ordinal);
        // A prefix on some names only is an ordinary mismatch, listed name by name.
        var mixed = model.state_dict().ToDictionary(s => s.Key == "fc1.bias" ? "module." + s.Key : s.Key, s => (IReadOnlyList<long>)s.Value.shape);
        Assert.Equal(["missing 'fc1.bias' [5]", "unexpected 'module.fc1.bias' [5]"], CheckpointValidator.FindMismatches(model, mixed).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Non_finite_weights_in_safetensors_are_refused_while_loading_FUL4024()
    {
        using var model = Model();
        using (torch.no_grad())
        {
            using var infinity = double.PositiveInfinity.ToScalar();
            model.Layers[1].bias!.fill_(infinity);
        }

        var path = folder.PathOf("m.safetensors");
        CheckpointStore.SaveSafetensors(path, model.state_dict());
        using var target = Model(2);

        var ex = EngineAssert.Fails("FUL4024", () => CheckpointStore.LoadInto(target, path, "mlp 6-5-3"));
        Assert.Contains("'fc2.bias'", ex.Message, StringComparison.Ordinal);
        // A file train did not write cannot be trained again: the user's to write from finite weights (QA: the hint said
        // to retrain a model without a recipe, with a literal '<id>').
        Assert.Contains("save the model's weights again from finite values ('dotnet unlearn train' did not write this file", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("<id>", ex.Message, StringComparison.Ordinal);

        // One that train wrote (its inputs recorded) is retrained.
        CheckpointStore.SaveSafetensors(path, model.state_dict(), new Dictionary<string, string> { [Engine.Training.TrainingInputs.InputsKey] = "abc" });
        var trained = EngineAssert.Fails("FUL4024", () => CheckpointStore.LoadInto(target, path, "mlp 6-5-3"));
        Assert.Contains("retrain its model ('dotnet unlearn train --force --model' with the model's id", trained.Message, StringComparison.Ordinal);
        Assert.Contains("retrain its model", EngineAssert.Fails("FUL4024", () => CheckpointStore.Load(path)).Message, StringComparison.Ordinal);
        // With the model's id recorded, the command is complete.
        CheckpointStore.SaveSafetensors(path, model.state_dict(), new Dictionary<string, string>
        {
            [Engine.Training.TrainingInputs.InputsKey] = "abc",
            [Engine.Training.TrainingInputs.ModelKey] = "digits-base",
        });
        Assert.Contains("'dotnet unlearn train --force --model digits-base'", EngineAssert.Fails("FUL4024", () => CheckpointStore.LoadInto(target, path, "mlp 6-5-3")).Message, StringComparison.Ordinal);

        // An unlearned output (its removal recorded) is made again by 'run', not 'train' (found in QA).
        CheckpointStore.SaveSafetensors(path, model.state_dict(), Engine.Training.TrainingInputs.Metadata(
            new FisherUnlearn.Testing.WorkspaceBuilder().Dataset("d").Model("digits-base", data: ["d"]).Build().Models["digits-base"], "abc", "forget-3"));
        var output = EngineAssert.Fails("FUL4024", () => CheckpointStore.LoadInto(target, path, "mlp 6-5-3"));
        Assert.Contains("make the output again ('dotnet unlearn run forget-3 --force')", output.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("unlearn train", output.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_mismatched_checkpoint_leaves_the_module_untouched()
    {
        // Names and shapes are checked against the header before any weight is read into the module.
        using var small = Model(1);
        var path = folder.PathOf("m.safetensors");
        CheckpointStore.Save(path, small);
        using var other = new Mlp(6, [4], 3);
        var before = other.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());

        EngineAssert.Fails("FUL4025", () => CheckpointStore.LoadInto(other, path, "mlp 6-4-3"));

        foreach (var (name, tensor) in other.state_dict())
        {
            Assert.True(tensor.allclose(before[name], 0, 0), $"'{name}' changed");
        }
    }

    [Fact]
    public void A_module_of_another_dtype_loads_float32_checkpoints_converted()
    {
        using var original = Model(1);
        var path = folder.PathOf("m.safetensors");
        CheckpointStore.Save(path, original);
        using var wide = Model(2);
        wide.to(ScalarType.Float64);

        CheckpointStore.LoadInto(wide, path, "mlp 6-5-3");

        foreach (var (name, tensor) in original.state_dict())
        {
            Assert.Equal(ScalarType.Float64, wide.state_dict()[name].dtype);
            Assert.True(tensor.to(ScalarType.Float64).allclose(wide.state_dict()[name], 0, 0), $"'{name}' differs");
        }
    }

    [Theory]
    [InlineData("m.dat")]
    [InlineData("m.pt")]
    public void Non_finite_weights_in_torch_formats_are_FUL4024_and_say_to_save_the_weights_again(string file)
    {
        using var model = Model();
        using (torch.no_grad())
        {
            using var nan = double.NaN.ToScalar();
            model.Layers[1].bias!.fill_(nan);
        }

        var path = folder.PathOf(file);
        CheckpointStore.Save(path, model);
        var ex = EngineAssert.Fails("FUL4024", () => CheckpointStore.Load(path));
        Assert.Contains("'fc2.bias'", ex.Message, StringComparison.Ordinal);
        // 'train' never writes these formats (FUL4064), so retraining with it is no way out.
        Assert.Contains("save the model's weights again from finite values ('dotnet unlearn train' never writes " + Path.GetExtension(path) + " checkpoints", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--force", ex.Message, StringComparison.Ordinal);
    }

    // Found in QA: float64 weights beyond float32's range loaded from .dat and .pt as infinity (safetensors refused them),
    // and 'run' wrote an output holding inf.
    [Theory]
    [InlineData("m.dat")]
    [InlineData("m.pt")]
    public void Float64_weights_beyond_float32s_range_in_torch_formats_are_FUL4024(string file)
    {
        using var model = Model();
        model.to(ScalarType.Float64);
        using (torch.no_grad())
        {
            model.Layers[1].bias![0] = 1e300; // a finite double
        }

        var path = folder.PathOf(file);
        CheckpointStore.Save(path, model);
        var ex = EngineAssert.Fails("FUL4024", () => CheckpointStore.Load(path));
        Assert.Contains("'fc2.bias' holds 1 NaN or infinite value(s) (or values beyond float32's range", ex.Message, StringComparison.Ordinal);

        using (torch.no_grad())
        {
            model.Layers[1].bias![0] = 1e30; // within float32's range: loads
        }

        CheckpointStore.Save(path, model);
        foreach (var tensor in CheckpointStore.Load(path).Values)
        {
            tensor.Dispose();
        }
    }

    [Theory]
    [InlineData("m.dat")]
    [InlineData("m.pt")]
    public void Truncated_torch_formats_are_FUL4027(string file)
    {
        using var model = Model();
        var path = folder.PathOf(file);
        CheckpointStore.Save(path, model);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^40]);
        EngineAssert.Fails("FUL4027", () => CheckpointStore.Load(path));
    }

    [Fact]
    public void Unknown_extension_is_FUL4026()
    {
        EngineAssert.Fails("FUL4026", () => CheckpointStore.Load(folder.PathOf("m.onnx")));
    }

    [Fact]
    public void Missing_checkpoint_is_FUL4020()
    {
        EngineAssert.Fails("FUL4020", () => CheckpointStore.Load(folder.PathOf("m.pt")));
    }
}
