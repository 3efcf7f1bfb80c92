using FisherUnlearn.Engine.Models;
using FisherUnlearn.Engine.Tests.Support;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Tests.Models;

[Collection(EngineInputsTorchCollection.Name)]
public sealed class ModelFactoryTests
{
    private static readonly string TestAssembly = typeof(ModelFactoryTests).Assembly.Location;

    /// <summary>The state dict as "name [shape]" lines, in order.</summary>
    private static string[] StateOf(nn.Module module) =>
        [.. module.state_dict().Select(p => $"{p.Key} [{string.Join(", ", p.Value.shape)}]")];

    [Fact]
    public void Mlp_state_dict_equals_the_documented_pytorch_names_and_shapes()
    {
        using var model = ModelFactory.Create(new ArchitectureSpec { Kind = "mlp", Inputs = 784, Hidden = [256, 128], Classes = 10 });

        // PyTorch: Mlp(784, [256, 128], 10).state_dict() in docs/architectures.md
        Assert.Equal(
            ["fc1.weight [256, 784]", "fc1.bias [256]", "fc2.weight [128, 256]", "fc2.bias [128]", "fc3.weight [10, 128]", "fc3.bias [10]"],
            StateOf(model));
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("mlp-deep")]
    [InlineData("cnn")]
    public void The_parameter_names_validate_checks_trainable_against_are_the_modules_own(string kind)
    {
        var spec = kind switch
        {
            "mlp" => new ArchitectureSpec { Kind = "mlp", Inputs = 4, Classes = 3 },
            "mlp-deep" => new ArchitectureSpec { Kind = "mlp", Inputs = 784, Hidden = [32, 16, 8], Classes = 10 },
            _ => new ArchitectureSpec { Kind = "cnn", InputShape = [1, 28, 28], Classes = 10 },
        };
        using var model = ModelFactory.Create(spec);

        Assert.Equal(model.named_parameters().Select(p => p.name), spec.ParameterNames());
        // and the shapes validate sizes them by (docs/architectures.md)
        Assert.Equal(model.named_parameters().Select(p => $"{p.name} [{string.Join(", ", p.parameter.shape)}]"),
            spec.ParameterShapes()!.Select(p => $"{p.Name} [{string.Join(", ", p.Shape)}]"));
    }

    // Found in QA: libtorch's "[enforce fail at alloc_cpu.cpp:127] ... tried to allocate 4000000000000 bytes" reached the
    // user as a training failure. Through the engine's API (no validate), the size is told before anything is allocated.
    [Fact]
    public void Weights_too_large_to_hold_are_FUL4040_at_the_architecture_before_anything_is_allocated()
    {
        var spec = new ArchitectureSpec { Kind = "mlp", Inputs = 8, Hidden = [1_000_000, 1_000_000], Classes = 3 };
        var manifest = new ModelManifest
        {
            Id = "big", ManifestPath = "/w/big.lineage.json", CheckpointPath = "/w/big.safetensors", Architecture = spec,
            Location = new SourceLocation("/w/big.lineage.json", 1, 1), ArchitectureLocation = new SourceLocation("/w/big.lineage.json", 4, 19),
        };

        var ex = EngineAssert.Fails("FUL4040", () => ModelFactory.Create(manifest));

        Assert.Contains("Model 'big': cannot build mlp 8-1000000-1000000-3: mlp 8-1000000-1000000-3 has 1,000,013,000,003 parameters (4 TB", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'fc2.weight' alone would hold 1,000,000,000,000 values", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("alloc_cpu", ex.Message, StringComparison.Ordinal);
        Assert.Equal((4, 19), (ex.Diagnostic.Location.Line, ex.Diagnostic.Location.Column));
    }

    // Found in QA: a model of 62 GB, every parameter within what a checkpoint tensor holds, allocated and initialised
    // 11 GB of layers for 33 s before libtorch refused one (and without a memory limit the system may kill the process).
    [Fact]
    public void Weights_larger_than_the_machines_memory_are_FUL4040_before_anything_is_allocated()
    {
        // 64 layers of 23,000 units: each parameter 529,000,000 values, under the checkpoint tensor limit; 135 GB in all.
        var spec = new ArchitectureSpec { Kind = "mlp", Inputs = 8, Hidden = [.. Enumerable.Repeat(23_000, 64)], Classes = 3 };
        var weights = spec.ParameterShapes()!.Sum(p => p.Shape.Aggregate(1.0, (product, d) => product * d)) * sizeof(float);
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        Assert.Null(spec.WeightsTooLarge());
        if (memory >= weights)
        {
            Assert.Skip($"this machine has {memory / 1e9:0} GB, enough for the model's {weights / 1e9:0} GB of weights");
        }

        var ex = EngineAssert.Fails("FUL4040", () => ModelFactory.Create(spec));

        Assert.Contains("GB of float32 weights alone", ex.Message, StringComparison.Ordinal);
        Assert.Contains("more than this machine's", ex.Message, StringComparison.Ordinal);
        // The check before allocating, not a failed allocation ("more memory than could be allocated").
        Assert.DoesNotContain("alloc_cpu", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("could be allocated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Libtorch_running_out_of_memory_is_told_apart_from_other_failures()
    {
        Assert.True(ModelFactory.IsAllocationFailure(new System.Runtime.InteropServices.ExternalException(
            "[enforce fail at alloc_cpu.cpp:127] data. DefaultCPUAllocator: not enough memory: you tried to allocate 1600000000 bytes.")));
        Assert.True(ModelFactory.IsAllocationFailure(new OutOfMemoryException()));
        Assert.False(ModelFactory.IsAllocationFailure(new System.Runtime.InteropServices.ExternalException("mat1 and mat2 shapes cannot be multiplied")));
    }

    [Fact]
    public void Cnn_state_dict_equals_the_documented_pytorch_names_and_shapes()
    {
        using var model = ModelFactory.Create(new ArchitectureSpec { Kind = "cnn", InputShape = [1, 28, 28], Classes = 10 });

        // PyTorch: LeNet((1, 28, 28), 10).state_dict() in docs/architectures.md
        Assert.Equal(
            [
                "conv1.weight [6, 1, 5, 5]", "conv1.bias [6]", "conv2.weight [16, 6, 5, 5]", "conv2.bias [16]",
                "fc1.weight [120, 400]", "fc1.bias [120]", "fc2.weight [84, 120]", "fc2.bias [84]", "fc3.weight [10, 84]", "fc3.bias [10]",
            ],
            StateOf(model));
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    public void Models_map_a_batch_of_28x28_images_to_class_scores(string kind)
    {
        using var scope = torch.NewDisposeScope();
        using var model = ModelFactory.Create(new ArchitectureSpec { Kind = kind, Inputs = 784, Hidden = [16], InputShape = [1, 28, 28], Classes = 10 });
        var output = model.call(torch.rand(5, 28, 28));
        Assert.Equal([5L, 10L], output.shape);
    }

    private static string SavedModel(TestFolder folder, ArchitectureSpec spec)
    {
        var path = folder.PathOf("m.safetensors");
        torch.manual_seed(7);
        using var trained = ModelFactory.Create(spec);
        Engine.Checkpoints.CheckpointStore.Save(path, trained);
        return path;
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    public void Loading_a_checkpoint_gives_exactly_its_weights(string kind)
    {
        var spec = new ArchitectureSpec { Kind = kind, Inputs = 784, Hidden = [16], InputShape = [1, 28, 28], Classes = 10 };
        using var folder = new TestFolder();
        var path = SavedModel(folder, spec);

        using var loaded = ModelFactory.Load(spec, null, path);

        var saved = Engine.Checkpoints.CheckpointStore.Load(path);
        foreach (var (name, tensor) in loaded.state_dict())
        {
            Assert.True(tensor.allclose(saved[name], 0, 0), $"'{name}' differs from the checkpoint");
        }
    }

    [Fact]
    public void Loading_an_mlp_skips_the_initialisation_so_the_seeded_generator_is_not_moved()
    {
        // The random initialisation that the checkpoint overwrites is skipped: it neither costs its time nor moves the
        // generator that a seeded training run draws from.
        var spec = new ArchitectureSpec { Kind = "mlp", Inputs = 784, Hidden = [16], Classes = 10 };
        using var folder = new TestFolder();
        var path = SavedModel(folder, spec);
        torch.manual_seed(11);
        using var expectedDraw = torch.rand(4);

        torch.manual_seed(11);
        using var loaded = ModelFactory.Load(spec, null, path);
        using var draw = torch.rand(4);

        Assert.True(draw.allclose(expectedDraw, 0, 0), "loading drew from the generator");
    }

    [Fact]
    public void Loading_a_checkpoint_of_another_architecture_is_FUL4025()
    {
        using var folder = new TestFolder();
        var path = folder.PathOf("m.safetensors");
        using (var small = ModelFactory.Create(new ArchitectureSpec { Kind = "mlp", Inputs = 4, Hidden = [3], Classes = 2 }))
        {
            Engine.Checkpoints.CheckpointStore.Save(path, small);
        }

        EngineAssert.Fails("FUL4025", () => ModelFactory.Load(new ArchitectureSpec { Kind = "mlp", Inputs = 4, Hidden = [5], Classes = 2 }, null, path));
    }

    [Fact]
    public void Mlp_without_hidden_layers_is_one_linear_layer()
    {
        using var model = ModelFactory.Create(new ArchitectureSpec { Kind = "mlp", Inputs = 4, Classes = 2 });
        Assert.Equal(["fc1.weight [2, 4]", "fc1.bias [2]"], StateOf(model));
    }

    [Theory]
    [InlineData("mlp", null, new int[0], 10)]
    [InlineData("mlp", 784, new[] { 0 }, 10)]
    [InlineData("cnn", null, new[] { 1, 8, 8 }, 10)]
    [InlineData("cnn", null, new[] { 28, 28 }, 10)]
    [InlineData("mlp", 784, new int[0], 0)]
    [InlineData("transformer", 784, new int[0], 10)]
    public void Invalid_specs_are_FUL4040(string kind, int? inputs, int[] dims, int classes)
    {
        var spec = new ArchitectureSpec { Kind = kind, Inputs = inputs, Hidden = kind == "mlp" ? dims : [], InputShape = kind == "cnn" ? dims : [], Classes = classes };
        EngineAssert.Fails("FUL4040", () => ModelFactory.Create(spec));
    }

    [Fact]
    public void Custom_module_is_loaded_from_its_assembly_relative_to_the_manifest()
    {
        var folder = Path.GetDirectoryName(TestAssembly)!;
        var spec = new ArchitectureSpec
        {
            Kind = "custom",
            Classes = 3,
            Assembly = Path.Combine("..", Path.GetFileName(folder), Path.GetFileName(TestAssembly)),
            Type = typeof(TinyCustomModule).FullName,
        };

        using var model = ModelFactory.Create(spec, folder);

        Assert.Equal(nameof(TinyCustomModule), model.GetType().Name);
        Assert.Equal(["head.weight [3, 4]", "head.bias [3]"], StateOf(model));
        using var scope = torch.NewDisposeScope();
        Assert.Equal([2L, 3L], model.call(torch.rand(2, 4)).shape);
    }

    [Theory]
    [InlineData("mlp-inputs")]
    [InlineData("cnn-shape")]
    [InlineData("custom-classes")]
    [InlineData("custom-batch")]
    [InlineData("fits")]
    public void Data_that_do_not_fit_the_architecture_are_FUL4068_naming_what_does_not_fit(string case_)
    {
        // TinyCustomModule takes 4 features and gives 'classes' outputs; the custom case builds it for 3 and declares 10.
        var (spec, module) = case_ switch
        {
            "mlp-inputs" => (new ArchitectureSpec { Kind = "mlp", Inputs = 100, Classes = 3 }, ModelFactory.Create(new ArchitectureSpec { Kind = "mlp", Inputs = 100, Classes = 3 })),
            "cnn-shape" => (new ArchitectureSpec { Kind = "cnn", InputShape = [1, 12, 12], Classes = 3 }, ModelFactory.Create(new ArchitectureSpec { Kind = "cnn", InputShape = [1, 12, 12], Classes = 3 })),
            "custom-classes" => (new ArchitectureSpec { Kind = "custom", Classes = 10 }, (nn.Module<Tensor, Tensor>)new TinyCustomModule(3)),
            "custom-batch" => (new ArchitectureSpec { Kind = "custom", Classes = 3 }, (nn.Module<Tensor, Tensor>)new BatchBlindModule(3)),
            _ => (new ArchitectureSpec { Kind = "mlp", Inputs = 4, Classes = 3 }, ModelFactory.Create(new ArchitectureSpec { Kind = "mlp", Inputs = 4, Classes = 3 })),
        };
        using var _ = module;
        var model = new ModelManifest { Id = "m", ManifestPath = "/w/m/m.lineage.json", CheckpointPath = "/w/m/m.safetensors", Architecture = spec, Location = new("/w/m/m.lineage.json", 1, 1) };
        var data = Fisher.FisherTestData.Split(3, [4], 3, seed: 1);
        module.train();

        if (case_ == "fits")
        {
            Engine.Models.ArchitectureFit.Check(module, model, data);
            Assert.True(module.training); // its mode is given back
            return;
        }

        var error = EngineAssert.Fails("FUL4068", () => Engine.Models.ArchitectureFit.Check(module, model, data));
        Assert.Contains("samples of shape [4]", error.Message, StringComparison.Ordinal);
        Assert.Contains(case_ switch
        {
            "mlp-inputs" => "its 'inputs' 100 takes 100 values per sample, and these have 4", // in words, not libtorch's (QA)
            "cnn-shape" => "its 'inputShape' [1, 12, 12] takes 144 values per sample, and these have 4",
            "custom-batch" => "it gives outputs of shape [1, 3] for 2 samples, not [2, 3] (one row per sample",
            _ => "not [2, 10]",
        }, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("frame #", error.Message, StringComparison.Ordinal);
        Assert.True(module.training);
    }

    [Theory]
    [InlineData(new[] { 28, 28 }, new[] { 1, 28, 28 }, null)]
    [InlineData(new[] { 1, 28, 28 }, new[] { 1, 28, 28 }, null)]
    [InlineData(new[] { 3, 16, 16 }, new[] { 3, 16, 16 }, null)]
    [InlineData(new[] { 784 }, new[] { 4, 14, 14 }, null)] // flat CSV features: any layout of 784 values is the user's
    [InlineData(new[] { 28, 28 }, new[] { 4, 14, 14 }, "set 'inputShape' to [1, 28, 28]")]
    [InlineData(new[] { 16, 16, 3 }, new[] { 3, 16, 16 }, "a cnn takes [C, H, W]: set 'inputShape' to the samples' layout when it is that, or store them channels first")]
    public void A_cnn_takes_image_samples_in_their_own_layout_and_is_FUL4068_for_another_of_as_many_values(int[] sampleShape, int[] inputShape, string? fix)
    {
        var spec = new ArchitectureSpec { Kind = "cnn", InputShape = inputShape, Classes = 3 };
        using var module = ModelFactory.Create(spec);
        var model = new ModelManifest { Id = "m", ManifestPath = "/w/m/m.lineage.json", CheckpointPath = "/w/m/m.safetensors", Architecture = spec, Location = new("/w/m/m.lineage.json", 1, 1) };
        var data = Fisher.FisherTestData.Split(3, sampleShape, 3, seed: 1);

        if (fix is null)
        {
            Engine.Models.ArchitectureFit.Check(module, model, data);
            return;
        }

        var error = EngineAssert.Fails("FUL4068", () => Engine.Models.ArchitectureFit.Check(module, model, data));
        Assert.Contains($"would rearrange the values of each sample into another layout; {fix}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing.dll", "X", "FUL4041")]
    [InlineData(null, "No.Such.Type", "FUL4042")]
    [InlineData(null, "FisherUnlearn.Engine.Tests.Models.NotAModule", "FUL4043")]
    [InlineData(null, "FisherUnlearn.Engine.Tests.Models.CustomModuleWithoutUsableConstructor", "FUL4043")]
    [InlineData(null, "FisherUnlearn.Engine.Tests.Models.ThrowingModule", "FUL4044")]
    [InlineData(null, "FisherUnlearn.Engine.Tests.Models.UnregisteredLayerModule", "FUL4043")]
    public void Unusable_custom_modules_have_clear_codes(string? assembly, string type, string code)
    {
        var spec = new ArchitectureSpec { Kind = "custom", Classes = 3, Assembly = assembly ?? TestAssembly, Type = type };
        EngineAssert.Fails(code, () => ModelFactory.Create(spec, Path.GetDirectoryName(TestAssembly)));

        // Through a model's manifest: reported at that manifest, naming the model.
        var location = new SourceLocation(Path.Combine(Path.GetDirectoryName(TestAssembly)!, "tiny.lineage.json"), 1, 1);
        var manifest = new ModelManifest
        {
            Id = "tiny",
            ManifestPath = location.File,
            CheckpointPath = "tiny.safetensors",
            Architecture = spec,
            Location = location,
        };
        var error = Assert.Throws<EngineException>(() => ModelFactory.Create(manifest));
        Assert.Equal(code, error.Code);
        Assert.Equal(location, error.Diagnostic.Location);
        Assert.StartsWith("Model 'tiny': ", error.Diagnostic.Message, StringComparison.Ordinal);
        Assert.True(char.IsLower(error.Diagnostic.Message["Model 'tiny': ".Length]), error.Diagnostic.Message); // one sentence
        if (assembly is not null)
        {
            // The assembly as the manifest writes it, not resolved to an absolute path (QA).
            Assert.Contains($"'{assembly}'", error.Diagnostic.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(Path.GetDirectoryName(TestAssembly)!, error.Diagnostic.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("FisherUnlearn.Engine.Tests.Models.StaticallyThrowingModule", "FUL4044", "InvalidOperationException: boom in the static constructor. Fix the module's constructor.")]
    [InlineData("FisherUnlearn.Engine.Tests.Models.ModuleMissingALibrary", "FUL4041",
        "a library it uses could not be loaded (Could not load file or assembly 'Helper, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null'. The system cannot find the file specified.): its folder must hold every library it references, and a class library's build output leaves out the NuGet packages it uses unless its project sets <CopyLocalLockFileAssemblies>true</CopyLocalLockFileAssemblies>")]
    [InlineData("FisherUnlearn.Engine.Tests.Models.UnregisteredLayerModule", "FUL4043", "it has no parameters, so there is nothing to train or unlearn: create its layers in the constructor and call RegisterComponents()")]
    [InlineData("FisherUnlearn.Engine.Tests.Models.OuterOfNested.NestedModule", "FUL4043", "which .NET names 'FisherUnlearn.Engine.Tests.Models.OuterOfNested+NestedModule': write that in 'architecture.type'")]
    public void A_custom_module_that_fails_to_load_says_what_the_cause_is_not_what_wrapped_it(string type, string code, string says)
    {
        var spec = new ArchitectureSpec { Kind = "custom", Classes = 3, Assembly = TestAssembly, Type = type };

        var error = EngineAssert.Fails(code, () => ModelFactory.Create(spec, Path.GetDirectoryName(TestAssembly)));

        Assert.Contains(says, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("TypeInitializationException", error.Message, StringComparison.Ordinal);
    }

    // The manifest reader resolves 'assembly' against the manifest's folder: messages give it back relative to that folder,
    // as written (QA: '/tmp/.../custom-a/lib/Nope.dll' for "../custom-a/lib/Nope.dll").
    [Theory]
    [InlineData("../lib/Nope.dll", "X", "FUL4041", "'../lib/Nope.dll'")]
    [InlineData(null, "No.Such.Type", "FUL4042", "is not in 'FisherUnlearn.Engine.Tests.dll'")]
    public void Assembly_errors_name_the_assembly_relative_to_the_manifest(string? written, string type, string code, string says)
    {
        var folder = Path.GetDirectoryName(TestAssembly)!;
        var resolved = written is null ? TestAssembly : Path.GetFullPath(Path.Combine(folder, written));
        var spec = new ArchitectureSpec { Kind = "custom", Classes = 3, Assembly = resolved, Type = type };

        var error = EngineAssert.Fails(code, () => ModelFactory.Create(spec, folder));

        Assert.Contains(says, error.Diagnostic.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.GetDirectoryName(folder)!, error.Diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_named_as_the_assembly_is_FUL4041_that_says_it_is_a_folder()
    {
        var spec = new ArchitectureSpec { Kind = "custom", Classes = 3, Assembly = ".", Type = "X" };

        var error = EngineAssert.Fails("FUL4041", () => ModelFactory.Create(spec, Path.GetDirectoryName(TestAssembly)));

        Assert.Contains("it is a folder, not a file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Custom_without_assembly_or_type_is_FUL4040()
    {
        EngineAssert.Fails("FUL4040", () => ModelFactory.Create(new ArchitectureSpec { Kind = "custom", Classes = 3 }));
    }
}
