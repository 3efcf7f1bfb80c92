using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Tool.Running;

namespace FisherUnlearn.Tool.Tests;

public sealed class LiveProgressScenarios
{
    [Fact]
    public void The_last_frame_shows_every_model_as_it_ended_with_its_result_and_time()
    {
        var error = new StringWriter();
        using (var live = new LiveProgress(error, "result"))
        {
            live.Planned(["a", "b", "c"]);
            live.Update("a", "harvesting");
            live.Update("a", "planning 3/10");
            live.Complete("a", "done", "10 labels; 55 plans", 1.5);
            live.Complete("b", "up to date", "10 labels, cached", null);
            live.Complete("c", "failed (FUL4020)", null, 0.5);
        }

        var last = LastFrame(error.ToString());
        Assert.Contains("result", last, StringComparison.Ordinal);
        Assert.Matches(@"a\s*│\s*✓ done\s*│\s*10 labels; 55 plans\s*│\s*1\.5 s", last);
        Assert.Matches(@"b\s*│\s*✓ up to date\s*│\s*10 labels, cached\s*│\s*│", last);
        Assert.Matches(@"c\s*│\s*✗ failed \(FUL4020\)", last);
    }

    [Fact]
    public void A_model_still_working_shows_its_own_phase_and_a_run_shows_the_method()
    {
        var error = new StringWriter();
        using (var live = new LiveProgress(error))
        {
            live.Planned(["a", "b"]);
            live.Update("a", "planning 3/10");
            live.Finished(new ModelOutcome { Id = "b", Role = FisherUnlearn.Lineage.Planning.ModelRole.Root, Method = "fiun", Seconds = 0.4 }, reused: false);
        }

        var last = LastFrame(error.ToString());
        Assert.Contains("method", last, StringComparison.Ordinal);
        Assert.Matches(@"a\s*│\s*\S+ planning 3/10\s*│", last);
        Assert.Matches(@"b\s*│\s*✓ done\s*│\s*fiun\s*│\s*0\.4 s", last);
    }

    [Fact]
    public void A_finished_run_keeps_the_wall_time_its_row_showed_not_the_shorter_unlearning_time()
    {
        var error = new StringWriter();
        using (var live = new LiveProgress(error))
        {
            live.Planned(["a"]);
            live.Started("a");
            Thread.Sleep(TimeSpan.FromMilliseconds(350)); // loading and the before/after metrics, which Seconds leaves out
            live.Finished(new ModelOutcome { Id = "a", Role = FisherUnlearn.Lineage.Planning.ModelRole.Root, Method = "fiun", Seconds = 0.01 }, reused: false);
        }

        var shown = System.Text.RegularExpressions.Regex.Match(LastFrame(error.ToString()), @"a\s*│\s*✓ done\s*│\s*fiun\s*│\s*([0-9.]+) s");
        Assert.True(shown.Success, error.ToString());
        Assert.True(double.Parse(shown.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 0.3, shown.Value);
    }

    [Fact]
    public void Work_refused_before_any_model_starts_leaves_no_table()
    {
        var error = new StringWriter();
        using (var live = new LiveProgress(error))
        {
            live.Planned(["a", "b"]);
        }

        Assert.Equal(string.Empty, error.ToString());
    }

    // Each frame is a whole table; the last one starts at the last top border. Colours are dropped.
    private static string LastFrame(string output) =>
        System.Text.RegularExpressions.Regex.Replace(output[output.LastIndexOf('╭')..], @"\x1b\[[0-9;?]*[A-Za-z]", string.Empty);
}
