using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FisherUnlearn.Engine.Unlearning;
using Spectre.Console;

namespace FisherUnlearn.Tool.Running;

/// <summary>
/// A live table on the terminal (stderr): one row per model with its phase, a spinner while it runs, and its time.
/// Used only when stderr is a terminal, outside CI and without <c>--no-progress</c>; stdout stays untouched, so
/// <c>--json</c> output remains one document.
/// </summary>
internal sealed class LiveProgress : IRunProgress
{
    private static readonly string[] Spinner = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

    private readonly ConcurrentDictionary<string, Row> rows = new(StringComparer.Ordinal);
    private readonly List<string> order = [];
    private readonly IAnsiConsole console;
    private readonly CancellationTokenSource stop = new();
    private Task? display;

    public LiveProgress(TextWriter error)
    {
        console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(error) });
    }

    public void Planned(IReadOnlyList<string> modelIds)
    {
        foreach (var id in modelIds)
        {
            order.Add(id);
            rows[id] = new Row();
        }

        display = Task.Run(() => console.Live(Render(0)).AutoClear(false).Start(context =>
        {
            for (var tick = 0; !stop.IsCancellationRequested; tick++)
            {
                context.UpdateTarget(Render(tick));
                context.Refresh();
                stop.Token.WaitHandle.WaitOne(120);
            }

            context.UpdateTarget(Render(0));
            context.Refresh();
        }));
    }

    public void Started(string modelId)
    {
        var row = rows.GetOrAdd(modelId, _ => new Row());
        row.Phase = "running";
        row.Clock.Restart();
    }

    public void Finished(ModelOutcome outcome, bool reused)
    {
        var row = rows.GetOrAdd(outcome.Id, _ => new Row());
        row.Clock.Stop();
        row.Phase = reused ? "up to date" : outcome.Succeeded ? "done" : $"failed ({outcome.Error?.Code})";
        row.Method = outcome.Method;
        row.Seconds = reused ? null : outcome.Seconds;
    }

    public void Dispose()
    {
        stop.Cancel();
        display?.Wait();
        stop.Dispose();
    }

    private Table Render(int tick)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("model").AddColumn("phase").AddColumn("method").AddColumn(new TableColumn("time").RightAligned());
        foreach (var id in order)
        {
            var row = rows[id];
            var phase = row.Phase switch
            {
                "running" => $"[yellow]{Spinner[tick % Spinner.Length]} running[/]",
                "done" => "[green]✓ done[/]",
                "up to date" => "[grey]✓ up to date[/]",
                "queued" => "[grey]queued[/]",
                var failed => $"[red]✗ {Markup.Escape(failed)}[/]",
            };
            var seconds = row.Seconds ?? (row.Phase == "running" ? row.Clock.Elapsed.TotalSeconds : null);
            table.AddRow(Markup.Escape(id), phase, Markup.Escape(row.Method ?? string.Empty),
                seconds is { } s ? s.ToString("0.0 s", CultureInfo.InvariantCulture) : string.Empty);
        }

        return table;
    }

    private sealed class Row
    {
        public string Phase { get; set; } = "queued";

        public string? Method { get; set; }

        public double? Seconds { get; set; }

        public Stopwatch Clock { get; } = new();
    }
}
