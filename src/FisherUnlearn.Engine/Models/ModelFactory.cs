using System.Globalization;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Models;

/// <summary>Builds the network an <see cref="ArchitectureSpec"/> declares, with freshly initialised weights
/// (seed TorchSharp first for reproducible ones). The caller owns the module.</summary>
public static class ModelFactory
{
    /// <param name="spec">The architecture.</param>
    /// <param name="manifestDirectory">The lineage manifest's folder: <c>custom</c> assembly paths are relative to it.</param>
    public static nn.Module<Tensor, Tensor> Create(ArchitectureSpec spec, string? manifestDirectory = null) =>
        Create(spec, manifestDirectory, initialize: true);

    /// <summary>
    /// The model a lineage manifest declares, holding its checkpoint's weights (names and shapes checked, FUL4025).
    /// The built-in architectures skip the random initialisation that the load overwrites: drawing the first layer's
    /// 200,000 values took longer than reading the checkpoint (1.3 ms of about 9 per planned <c>fiun</c> model).
    /// </summary>
    public static nn.Module<Tensor, Tensor> Load(ModelManifest manifest) =>
        AtManifest(manifest, () => Load(manifest.Architecture, manifest.ManifestDirectory, manifest.CheckpointPath));

    /// <summary>A freshly initialised module of the model's architecture (for training).</summary>
    public static nn.Module<Tensor, Tensor> Create(ModelManifest manifest) =>
        AtManifest(manifest, () => Create(manifest.Architecture, manifest.ManifestDirectory));

    private static readonly HashSet<string> ArchitectureCodes = new(StringComparer.Ordinal)
    {
        DiagnosticCatalogue.ArchitectureUnsupported.Code, DiagnosticCatalogue.CustomAssemblyNotFound.Code,
        DiagnosticCatalogue.CustomTypeNotFound.Code, DiagnosticCatalogue.CustomTypeInvalid.Code, DiagnosticCatalogue.CustomModelFailed.Code,
    };

    // A module that cannot be made is the model's problem: reported at its lineage manifest and naming it (two models of
    // one broken assembly would otherwise print the same line twice, with no file to go to).
    private static T AtManifest<T>(ModelManifest manifest, Func<T> create)
    {
        try
        {
            return create();
        }
        catch (EngineException ex) when (ArchitectureCodes.Contains(ex.Diagnostic.Code))
        {
            var message = ex.Diagnostic.Message.StartsWith("Model '", StringComparison.Ordinal) ? ex.Diagnostic.Message : $"Model '{manifest.Id}': {MidSentence(ex.Diagnostic.Message)}";
            throw new EngineException(ex.Diagnostic with { Location = manifest.ArchitectureLocation ?? manifest.Location, Message = message }, ex.InnerException ?? ex);
        }
    }

    // A message's first word after "Model 'x': " in lower case ("the type", not "The type"), unless it is an acronym.
    private static string MidSentence(string message) =>
        message.Length > 1 && char.IsUpper(message[0]) && char.IsLower(message[1]) ? char.ToLowerInvariant(message[0]) + message[1..] : message;

    /// <summary>The architecture holding the weights of the checkpoint at <paramref name="checkpointPath"/>.</summary>
    public static nn.Module<Tensor, Tensor> Load(ArchitectureSpec spec, string? manifestDirectory, string checkpointPath)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var module = Create(spec, manifestDirectory, initialize: false);
        try
        {
            CheckpointStore.LoadInto(module, checkpointPath, spec.ToString());
            return module;
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>A Linear layer, with PyTorch's initialisation or (<paramref name="initialize"/> false) with
    /// uninitialised memory that a checkpoint load then overwrites.</summary>
    internal static Linear Linear(int inputs, int outputs, bool initialize) =>
        initialize ? nn.Linear(inputs, outputs) : nn.Linear(new Parameter(empty(outputs, inputs)), new Parameter(empty(outputs)));

    private static nn.Module<Tensor, Tensor> Create(ArchitectureSpec spec, string? manifestDirectory, bool initialize)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Classes < 1)
        {
            throw Unsupported(spec, $"classes is {spec.Classes}; it must be at least 1");
        }

        return spec.Kind switch
        {
            ArchitectureSpec.Mlp => CreateMlp(spec, initialize),
            ArchitectureSpec.Cnn => CreateCnn(spec, initialize),
            ArchitectureSpec.Custom => CustomModelLoader.Create(spec, manifestDirectory),
            _ => throw Unsupported(spec, $"the kind '{spec.Kind}' is unknown (use {string.Join(", ", ArchitectureSpec.Kinds)})"),
        };
    }

    private static Mlp CreateMlp(ArchitectureSpec spec, bool initialize)
    {
        if (spec.Inputs is not { } inputs || inputs < 1)
        {
            throw Unsupported(spec, "an mlp needs 'inputs' of at least 1");
        }

        if (spec.Hidden.Any(h => h < 1))
        {
            throw Unsupported(spec, "every 'hidden' layer needs at least 1 unit");
        }

        return Allocate(spec, () => new Mlp(inputs, spec.Hidden, spec.Classes, initialize));
    }

    private static LeNet CreateCnn(ArchitectureSpec spec, bool initialize)
    {
        var shape = spec.InputShape;
        if (shape.Count != 3 || shape[0] < 1 || shape[1] < LeNet.MinSide || shape[2] < LeNet.MinSide)
        {
            throw Unsupported(spec, $"a cnn needs 'inputShape' [C, H, W] with C >= 1 and H, W >= {LeNet.MinSide}, not [{string.Join(", ", shape)}]");
        }

        return Allocate(spec, () => new LeNet(shape, spec.Classes, initialize));
    }

    // A built-in module whose weights cannot be held is FUL4040 saying how large they are, not libtorch's "[enforce fail at
    // alloc_cpu.cpp:127] ... tried to allocate 4000000000000 bytes" from the middle of training (found in QA): weights
    // larger than a checkpoint tensor may hold are refused before anything is allocated (validate says so too), and an
    // allocation that fails for want of memory is named with the size the whole model needs.
    private static T Allocate<T>(ArchitectureSpec spec, Func<T> create)
    {
        if (spec.WeightsTooLarge() is { } tooLarge)
        {
            throw Unsupported(spec, tooLarge);
        }

        // Weights larger than the machine's whole memory (as the runtime sees it: a container's limit, not the host's) are
        // refused before any is allocated: QA's 62 GB model allocated and initialised 11 GB of layers for 33 s first.
        var parameters = spec.ParameterCount() ?? 0;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (memory > 0 && parameters * sizeof(float) > memory)
        {
            throw Unsupported(spec, string.Create(CultureInfo.InvariantCulture,
                $"its {parameters:N0} parameters need {parameters * sizeof(float) / 1e9:0.##} GB of float32 weights alone (training about four times that: gradients and optimiser state), more than this machine's {memory / 1e9:0.##} GB of memory; use fewer units in its layers, or a machine with more memory"));
        }

        try
        {
            return create();
        }
        catch (Exception ex) when (IsAllocationFailure(ex))
        {
            throw new EngineException(Diagnostic.Create(DiagnosticCatalogue.ArchitectureUnsupported, null, spec.ToString(), string.Create(CultureInfo.InvariantCulture,
                $"its {parameters:N0} parameters need {parameters * sizeof(float) / 1e9:0.##} GB of float32 weights alone (training about four times that: gradients and optimiser state), more memory than could be allocated ({EngineException.FirstLine(ex.Message)}); use fewer units in its layers, or a machine with more memory")), ex);
        }
    }

    /// <summary>FUL3025 for <paramref name="ex"/> when it is libtorch's allocator out of memory while <paramref name="doing"/>
    /// ("Training", "Harvesting", "Unlearning") <paramref name="model"/>, else null: the model's size and libtorch's words,
    /// with <paramref name="advice"/> (what uses less memory in that step), not the step's own failure code and its advice
    /// to check the recipe or the data (found in QA: a 1 GB model's training said "FUL4066 … Check its recipe and data").</summary>
    public static EngineException? OutOfMemory(ModelManifest model, string doing, Exception ex, string advice, SourceLocation? at = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ex);
        if (ex is OutOfMemoryException || !IsAllocationFailure(ex))
        {
            return null;
        }

        var parameters = model.Architecture.ParameterCount();
        var size = parameters is { } count
            ? string.Create(CultureInfo.InvariantCulture, $"its {count:N0} parameters are {ArchitectureSpec.Size(count * sizeof(float))} of float32 weights, and {doing.ToLowerInvariant()} needs several times that")
            : "a custom module, whose size only its type knows";
        return new EngineException(Diagnostic.Create(DiagnosticCatalogue.OutOfMemory, at ?? model.Location, doing, model.Id, EngineException.FirstLine(ex.Message), size, advice), ex);
    }

    /// <summary>libtorch's CPU allocator out of memory (TorchSharp passes its message on), or .NET's.</summary>
    internal static bool IsAllocationFailure(Exception ex) =>
        ex is OutOfMemoryException
        || ex.Message.Contains("DefaultCPUAllocator", StringComparison.Ordinal)
        || ex.Message.Contains("alloc_cpu.cpp", StringComparison.Ordinal);

    private static EngineException Unsupported(ArchitectureSpec spec, string detail) =>
        EngineException.Create(DiagnosticCatalogue.ArchitectureUnsupported, null, spec.ToString(), detail);
}
