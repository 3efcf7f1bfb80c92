using FisherUnlearn.Lineage.Text;

namespace FisherUnlearn.Lineage.Tests.Text;

public sealed class ShellWordRules
{
    [Theory]
    [InlineData("unlearn-demo", "unlearn-demo")]
    [InlineData("out/unlearn_2", "out/unlearn_2")]
    [InlineData("数字 demo é 🚀", "\"数字 demo é 🚀\"")]
    [InlineData("my demo", "\"my demo\"")]
    [InlineData("", "\"\"")]
    [InlineData("cost$HOME", "'cost$HOME'")]
    [InlineData("it's $x", "'it'\\''s $x'")]
    public void A_suggested_value_pastes_back_as_the_same_word(string value, string typed)
    {
        Assert.Equal(typed, ShellWord.Quote(value));
    }

    [Theory]
    [InlineData("my demo")]
    [InlineData("数字 demo é 🚀")]
    [InlineData("it's $x and `y` \\ \"z\" !")]
    public void A_shell_reads_the_quoted_value_back_unchanged(string value)
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "sh is a Unix shell");
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sh", ["-c", $"printf %s {ShellWord.Quote(value)}"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        var echoed = process.StandardOutput.ReadToEnd();
        process.WaitForExit();

        Assert.Equal(value, echoed);
    }
}
