using FisherUnlearn.Engine.Native;

namespace FisherUnlearn.Engine.Tests.Native;

/// <summary>These tests replace the process's Console.Out: run them alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleOutCollection
{
    public const string Name = "Console.Out (process-wide)";
}

/// <summary>What a library prints on Console.Out while libtorch loads (TorchSharp's load trace) stays off stdout.</summary>
[Collection(ConsoleOutCollection.Name)]
public sealed class StdoutDiversionTests
{
    [Fact]
    public void What_the_call_prints_goes_to_the_buffer_not_to_stdout_and_stdout_is_back_afterwards()
    {
        using var stdout = new StringWriter();
        using var printed = new StringWriter();

        WithStdout(stdout, () =>
        {
            StdoutDiversion.Run(printed, () => Console.WriteLine("Trace from LoadNativeBackend:"));
            Console.WriteLine("after");
        });

        Assert.Equal("Trace from LoadNativeBackend:" + Environment.NewLine, printed.ToString());
        Assert.Equal("after" + Environment.NewLine, stdout.ToString());
    }

    [Fact]
    public void A_call_that_throws_keeps_what_it_printed_off_stdout_and_stdout_is_back()
    {
        using var stdout = new StringWriter();
        using var printed = new StringWriter();

        WithStdout(stdout, () =>
        {
            var thrown = Assert.Throws<DllNotFoundException>(() => StdoutDiversion.Run(printed, () =>
            {
                Console.Write("This application or script uses TorchSharp but doesn't contain a reference to libtorch-cpu");
                throw new DllNotFoundException("libLibTorchSharp.so");
            }));
            Assert.Equal("libLibTorchSharp.so", thrown.Message);
            Console.Write("json");
        });

        Assert.StartsWith("This application or script uses TorchSharp", printed.ToString(), StringComparison.Ordinal);
        Assert.Equal("json", stdout.ToString());
    }

    [Fact]
    public void The_FUL3003_carries_what_TorchSharp_printed_as_its_detail_and_its_message_stays_one_line()
    {
        var failure = new TypeInitializationException("TorchSharp.torch",
            new DllNotFoundException("/app/libLibTorchSharp.so: version `GLIBCXX_3.4.32' not found"));
        const string Trace = "This application or script uses TorchSharp but doesn't contain a reference to libtorch-cpu-linux-x64.\n\nTrace from LoadNativeBackend:\n";

        var withTrace = TorchRuntime.Diagnose(failure, Trace);
        var silent = TorchRuntime.Diagnose(failure, string.Empty);

        Assert.Equal("FUL3003", withTrace.Code);
        Assert.Contains("Trace from LoadNativeBackend:", withTrace.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Trace from LoadNativeBackend", withTrace.Diagnostic.Message, StringComparison.Ordinal);
        Assert.Null(silent.Detail);
    }

    private static void WithStdout(TextWriter stdout, Action action)
    {
        var original = Console.Out;
        Console.SetOut(stdout);
        try
        {
            action();
        }
        finally
        {
            Console.SetOut(original);
        }
    }
}
