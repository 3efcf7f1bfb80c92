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
