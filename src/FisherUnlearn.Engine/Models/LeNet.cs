using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Models;

/// <summary>
/// The built-in <c>cnn</c>, LeNet-5 style for inputs [C, H, W] (H, W >= 12):
/// conv1 (C->6, 5x5, padding 2), ReLU, max-pool 2; conv2 (6->16, 5x5), ReLU, max-pool 2; flatten;
/// fc1 (->120), ReLU; fc2 (120->84), ReLU; fc3 (84->classes). Inputs of any shape with C*H*W values per sample
/// (such as [N, 28, 28] or [N, 784]) are reshaped to [N, C, H, W]. State dict names equal the PyTorch module in
/// docs/architectures.md: <c>conv1.weight</c>, <c>conv1.bias</c>, ..., <c>fc3.bias</c>.
/// </summary>
public sealed class LeNet : nn.Module<Tensor, Tensor>
{
    public const int Conv1Channels = 6;
    public const int Conv2Channels = 16;
    public const int Fc1Units = 120;
    public const int Fc2Units = 84;
    public const int MinSide = FisherUnlearn.Lineage.Manifests.ArchitectureSpec.CnnMinSide;

    private readonly long[] inputShape;
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Linear fc3;

    /// <param name="inputShape">[C, H, W].</param>
    /// <param name="classes">Output units.</param>
    /// <param name="initialize">PyTorch's initialisation, or false for uninitialised fully connected layers that a
    /// checkpoint load overwrites (the convolutions are small and always initialised).</param>
    public LeNet(IReadOnlyList<int> inputShape, int classes, bool initialize = true)
        : base(nameof(LeNet))
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Count != 3 || inputShape[0] < 1 || inputShape[1] < MinSide || inputShape[2] < MinSide)
        {
            throw new ArgumentException($"inputShape must be [C, H, W] with C >= 1 and H, W >= {MinSide}.", nameof(inputShape));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        this.inputShape = [.. inputShape.Select(d => (long)d)];
        var height = FeatureSide(inputShape[1]);
        var width = FeatureSide(inputShape[2]);
        conv1 = nn.Conv2d(inputShape[0], Conv1Channels, kernel_size: 5, padding: 2);
        conv2 = nn.Conv2d(Conv1Channels, Conv2Channels, kernel_size: 5);
        fc1 = ModelFactory.Linear(Conv2Channels * height * width, Fc1Units, initialize);
        fc2 = ModelFactory.Linear(Fc1Units, Fc2Units, initialize);
        fc3 = ModelFactory.Linear(Fc2Units, classes, initialize);
        RegisterComponents();
    }

    /// <summary>The side after conv1 (same size), pool, conv2 (-4) and pool.</summary>
    public static int FeatureSide(int side) => ((side / 2) - 4) / 2;

    public override Tensor forward(Tensor input)
    {
        var x = input.reshape(-1, inputShape[0], inputShape[1], inputShape[2]);
        x = nn.functional.max_pool2d(nn.functional.relu(conv1.call(x)), 2);
        x = nn.functional.max_pool2d(nn.functional.relu(conv2.call(x)), 2);
        x = x.flatten(1);
        x = nn.functional.relu(fc1.call(x));
        x = nn.functional.relu(fc2.call(x));
        return fc3.call(x);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            conv2.Dispose();
            fc1.Dispose();
            fc2.Dispose();
            fc3.Dispose();
        }

        base.Dispose(disposing);
    }
}
