using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Tests.Support;
using FisherUnlearn.Engine.Training;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Tests.Training;

/// <summary>Training tests run alone: they seed libtorch's process-global RNG and compare bytes.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingCollection
{
    public const string Name = "Training (TorchSharp)";
}

/// <summary>Small MNIST subsets from samples/digits and tiny recipes, so each training takes well under a second.</summary>
internal static class TrainingFixtures
{
    private static readonly Lazy<DataSplit> Train = new(() => DatasetLoader.Load(Mnist(), "train").RandomSubset(1500, seed: 11));
    private static readonly Lazy<DataSplit> Test = new(() => DatasetLoader.Load(Mnist(), "test"));

    public static ArchitectureSpec Mlp32 { get; } = WorkspaceBuilder.Mlp(10, 784, 32);

    public static TrainingRecipe Recipe(int epochs = 2, long seed = 1, string optimizer = "adam", double learningRate = 0.003, params string[] trainable) =>
        new() { Epochs = epochs, BatchSize = 32, Optimizer = optimizer, LearningRate = learningRate, Seed = seed, Trainable = trainable, Momentum = optimizer == "sgd" ? 0.9 : 0 };

    /// <summary>Trainer options that read the MNIST subset (1,500 train digits) whatever the dataset manifest says.</summary>
    public static TrainingOptions Options(long? maxSteps = null) => new() { Threads = 1, MaxSteps = maxSteps, LoadData = LoadData };

    public static DataSplit LoadData(DatasetManifest manifest, string split) => split == "test" ? Test.Value : Train.Value;

    public static DataSplit TestSplit => Test.Value;

    public static DataSplit TrainSplit => Train.Value;

    public static DatasetManifest Mnist()
    {
        var data = RepoPaths.PathOf("samples/digits/data");
        return new DatasetManifest
        {
            Id = "mnist",
            ManifestPath = RepoPaths.PathOf("samples/digits/mnist.dataset.json"),
            Format = "idx",
            Classes = 10,
            Train = new DatasetSplit { Images = Path.Combine(data, "train-images-idx3-ubyte.gz"), Labels = Path.Combine(data, "train-labels-idx1-ubyte.gz") },
            Test = new DatasetSplit { Images = Path.Combine(data, "test-images-idx3-ubyte.gz"), Labels = Path.Combine(data, "test-labels-idx1-ubyte.gz") },
            Location = SourceLocation.None,
        };
    }

    /// <summary>Argmax predictions of a module on a split (eval mode, no grad).</summary>
    public static long[] Predict(nn.Module<Tensor, Tensor> module, DataSplit data)
    {
        module.eval();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (x, _) = data.ToTensors();
        var result = module.call(x).argmax(1).data<long>().ToArray();
        module.train();
        return result;
    }

    public static double Accuracy(nn.Module<Tensor, Tensor> module, DataSplit data)
    {
        if (data.Count == 0)
        {
            return double.NaN;
        }

        var predictions = Predict(module, data);
        return predictions.Where((p, i) => p == data.Labels[i]).Count() / (double)data.Count;
    }

    /// <summary>Mean cross-entropy of a module on a split.</summary>
    public static double Loss(nn.Module<Tensor, Tensor> module, DataSplit data)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (x, y) = data.ToTensors();
        return nn.functional.cross_entropy(module.call(x), y).item<float>();
    }

    public static bool Equal(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.allclose(b, 0, 0);

    public static void Dispose(IReadOnlyDictionary<string, Tensor> state)
    {
        foreach (var tensor in state.Values)
        {
            tensor.Dispose();
        }
    }
}
