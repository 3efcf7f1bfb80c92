using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Tests.Models;

/// <summary>A user-defined module as a training project would declare it (architecture kind <c>custom</c>).</summary>
public sealed class TinyCustomModule : nn.Module<Tensor, Tensor>
{
    private readonly Linear head;

    public TinyCustomModule(int classes)
        : base(nameof(TinyCustomModule))
    {
        head = nn.Linear(4, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => head.call(input.flatten(1));
}

/// <summary>Has no constructor the loader can call.</summary>
public sealed class CustomModuleWithoutUsableConstructor : nn.Module<Tensor, Tensor>
{
    public CustomModuleWithoutUsableConstructor(string name)
        : base(name)
    {
    }

    public override Tensor forward(Tensor input) => input;
}

/// <summary>Creates its layer but never registers it (no <c>RegisterComponents()</c>), so it has no parameters.</summary>
public sealed class UnregisteredLayerModule : nn.Module<Tensor, Tensor>
{
    private readonly Linear head;

    public UnregisteredLayerModule(int classes)
        : base(nameof(UnregisteredLayerModule)) => head = nn.Linear(4, classes);

    public override Tensor forward(Tensor input) => head.call(input.flatten(1));
}

/// <summary>Not a module at all.</summary>
public sealed class NotAModule
{
}

/// <summary>Throws in its constructor.</summary>
public sealed class ThrowingModule : nn.Module<Tensor, Tensor>
{
    public ThrowingModule()
        : base(nameof(ThrowingModule)) => throw new InvalidOperationException("boom");

    public override Tensor forward(Tensor input) => input;
}

/// <summary>Its static constructor throws: the loader sees a TypeInitializationException around the cause.</summary>
public sealed class StaticallyThrowingModule : nn.Module<Tensor, Tensor>
{
    private static readonly int Width = ThrowOnce();

    public StaticallyThrowingModule()
        : base(nameof(StaticallyThrowingModule)) => _ = Width;

    public override Tensor forward(Tensor input) => input;

    private static int ThrowOnce() => throw new InvalidOperationException("boom in the static constructor");
}

/// <summary>Its constructor needs a library that is not beside the assembly (as when the build output lacks a
/// project reference's DLL).</summary>
public sealed class ModuleMissingALibrary : nn.Module<Tensor, Tensor>
{
    public ModuleMissingALibrary()
        : base(nameof(ModuleMissingALibrary)) =>
        throw new System.IO.FileNotFoundException("Could not load file or assembly 'Helper, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null'. The system cannot find the file specified.\n", "Helper");

    public override Tensor forward(Tensor input) => input;
}

/// <summary>Holds a module as a nested class, which .NET names Outer+Inner.</summary>
public static class OuterOfNested
{
    public sealed class NestedModule : nn.Module<Tensor, Tensor>
    {
        public NestedModule()
            : base(nameof(NestedModule))
        {
        }

        public override Tensor forward(Tensor input) => input;
    }
}

/// <summary>Gives one row whatever the batch (sums over it): fits a check with one sample, not with two.</summary>
public sealed class BatchBlindModule : nn.Module<Tensor, Tensor>
{
    private readonly Linear head;

    public BatchBlindModule(int classes)
        : base(nameof(BatchBlindModule))
    {
        head = nn.Linear(4, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => head.call(input.flatten(1)).sum(0, keepdim: true);
}

/// <summary>Its forward pass in training asks libtorch for 16 TB, as a model too large for the machine's memory does:
/// libtorch's allocator refuses it (the weights themselves are small, so the module is built, and the eval-mode check
/// that the data fit passes).</summary>
public sealed class MemoryHungryModule : nn.Module<Tensor, Tensor>
{
    private readonly Linear head;

    public MemoryHungryModule(int classes)
        : base(nameof(MemoryHungryModule))
    {
        head = nn.Linear(784, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        if (training)
        {
            using var activations = empty([1L << 42]);
        }

        return head.call(input.flatten(1));
    }
}

/// <summary>A hidden layer normalised over the batch (BatchNorm, as QA's custom module had): a batch of one sample leaves
/// its running variance NaN unless training skips it.</summary>
public sealed class BatchNormModule : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly BatchNorm1d bn;
    private readonly Linear fc2;

    public BatchNormModule(int classes)
        : base(nameof(BatchNormModule))
    {
        fc1 = nn.Linear(784, 16);
        bn = nn.BatchNorm1d(16);
        fc2 = nn.Linear(16, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var hidden = fc1.call(input.flatten(1));
        using var normalised = bn.call(hidden);
        using var active = nn.functional.relu(normalised);
        return fc2.call(active);
    }
}

/// <summary>Trains with a finite loss but leaves a buffer NaN: what training leaves is checked, not only its loss.</summary>
public sealed class SpoilingModule : nn.Module<Tensor, Tensor>
{
    private readonly Linear head;
    private readonly Tensor spoiled;

    public SpoilingModule(int classes)
        : base(nameof(SpoilingModule))
    {
        head = nn.Linear(784, classes);
        spoiled = zeros(3);
        register_buffer("spoiled", spoiled);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        if (training)
        {
            using var noGrad = no_grad();
            using var nan = double.NaN.ToScalar();
            spoiled.fill_(nan);
        }

        return head.call(input.flatten(1));
    }
}
