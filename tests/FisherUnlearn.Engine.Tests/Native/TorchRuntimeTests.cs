using System.Runtime.InteropServices;
using FisherUnlearn.Engine.Native;
using FisherUnlearn.Engine.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Tests.Native;

/// <summary>Proves the (patched) TorchSharp native library in this test's output loads and trains.</summary>
public sealed class TorchRuntimeTests
{
    [Fact]
    public void TorchSharpLoads()
    {
        TorchRuntime.Configure(threads: 1);
        Assert.Equal(1, torch.get_num_threads());
        random.manual_seed(1234);

        using var scope = NewDisposeScope();
        // Two Gaussian blobs, centred at (-1, -1) and (+1, +1), 256 points each.
        const int perClass = 256;
        // Held Scalars and the engine's optimizer: torch.optim and number operators pass temporary Scalars (docs/engine-notes.md).
        using var spread = 0.6.ToScalar();
        using var minusOne = (-1.0f).ToScalar();
        using var one = 1.0f.ToScalar();
        var noise = randn(2 * perClass, 2).mul(spread);
        var centres = cat([full(perClass, 2, minusOne), full(perClass, 2, one)], dim: 0);
        var x = noise.Plus(centres);
        var y = cat([zeros(perClass, dtype: ScalarType.Int64), ones(perClass, dtype: ScalarType.Int64)], dim: 0);

        var model = nn.Sequential(("fc1", nn.Linear(2, 16)), ("relu", nn.ReLU()), ("fc2", nn.Linear(16, 2)));
        using var optimizer = StepOptimizer.Adam(model.parameters(), learningRate: 0.05, weightDecay: 0);
        var lossFunction = nn.CrossEntropyLoss();

        float initial = 0, final = 0;
        for (var step = 0; step < 40; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.ZeroGrad();
            var loss = lossFunction.forward(model.forward(x), y);
            loss.backward();
            optimizer.Step();
            var value = loss.item<float>();
            if (step == 0)
            {
                initial = value;
            }

            final = value;
        }

        Assert.True(float.IsFinite(initial) && initial > 0.3f, $"initial loss {initial}");
        Assert.True(final < 0.5f * initial, $"loss did not fall enough: {initial} -> {final}");
    }

    [Fact]
    public void EnsureLoaded_IsIdempotent_AndTheShimBesideTheTestIsFound()
    {
        TorchRuntime.EnsureLoaded();
        TorchRuntime.EnsureLoaded();

        if (OperatingSystem.IsLinux())
        {
            var shim = TorchRuntime.FindShim();
            Assert.NotNull(shim);
            Assert.StartsWith(AppContext.BaseDirectory, shim, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Diagnose_ExplainsAGlibcxxFailure_WithFUL3003()
    {
        var failure = new TypeInitializationException("TorchSharp.torch",
            new DllNotFoundException("/app/libLibTorchSharp.so: version `GLIBCXX_3.4.32' not found"));

        var exception = TorchRuntime.Diagnose(failure);

        Assert.Equal("FUL3003", exception.Code);
        Assert.Same(failure, exception.InnerException);
        Assert.StartsWith("TorchSharp's native library failed to load: ", exception.Diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains("GLIBCXX_3.4.32", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Debian 13, Ubuntu 24.04", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configure_RejectsZeroThreads() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => TorchRuntime.Configure(0));

    [Fact]
    public void A_job_on_another_thread_computes_with_the_configured_threads_and_the_same_bits()
    {
        TorchRuntime.Configure(threads: 1);
        // A product summed over a long inner dimension: libtorch (MKL) splits it differently with more threads.
        using var a = rand(2000, 10, generator: new Generator(1));
        using var b = rand(2000, 128, generator: new Generator(2));
        float[] Product()
        {
            using var noGrad = no_grad();
            using var c = a.t().matmul(b);
            return c.data<float>().ToArray();
        }

        var here = Product();
        float[]? pooled = null;
        // ParallelJobs gives each job's thread the configured count first, whichever thread the pool picks.
        FisherUnlearn.Engine.ParallelJobs.For(4, 4, i =>
        {
            var bits = Product();
            lock (here)
            {
                pooled ??= bits;
                Assert.Equal(here, bits);
            }
        }, TestContext.Current.CancellationToken);
        float[]? fresh = null;
        var thread = new Thread(() =>
        {
            TorchRuntime.UseOnThisThread();
            fresh = Product();
        });
        thread.Start();
        thread.Join();

        Assert.NotNull(pooled);
        Assert.Equal(here, fresh);
    }

    [Fact]
    public void OpenMP_waits_passively_and_MKL_is_reproducible_unless_the_user_chose_otherwise()
    {
        var set = new Dictionary<string, string>();

        var chosenByUs = TorchRuntime.ApplyNativeDefaults(_ => null, (k, v) => set[k] = v);
        var chosenByUser = TorchRuntime.ApplyNativeDefaults(k => k == "OMP_WAIT_POLICY" ? "ACTIVE" : null, (k, v) => set[k] = "overwritten");

        Assert.Equal(["OMP_WAIT_POLICY", "MKL_CBWR"], chosenByUs);
        Assert.Equal(["MKL_CBWR"], chosenByUser); // the user's own wait policy stays
        Assert.Equal(new Dictionary<string, string> { ["OMP_WAIT_POLICY"] = "PASSIVE", ["MKL_CBWR"] = "overwritten" }, set);
    }

    [Fact]
    public void The_native_environment_sees_what_the_runtime_sets_there()
    {
        // libgomp reads the C library's environment, which .NET's Environment.SetEnvironmentVariable does not change on Unix.
        var name = "FUL_TEST_NATIVE_ENV_" + Environment.ProcessId;

        TorchRuntime.SetNativeEnvironment(name, "PASSIVE");

        Assert.Equal("PASSIVE", Environment.GetEnvironmentVariable(name));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal("PASSIVE", Marshal.PtrToStringAnsi(GetEnvironment(name)));
        }
    }

    [Fact]
    public void Once_libtorch_is_loaded_the_native_environment_holds_every_native_setting()
    {
        TorchRuntime.EnsureLoaded();

        foreach (var (name, _) in TorchRuntime.NativeDefaults)
        {
            Assert.False(string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)), name);
            if (!OperatingSystem.IsWindows())
            {
                Assert.False(string.IsNullOrEmpty(Marshal.PtrToStringAnsi(GetEnvironment(name))), name);
            }
        }
    }

    [DllImport("libc", EntryPoint = "getenv", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern IntPtr GetEnvironment(string name);
}
