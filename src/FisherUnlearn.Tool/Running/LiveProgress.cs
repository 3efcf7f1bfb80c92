using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FisherUnlearn.Engine.Unlearning;
using Spectre.Console;

namespace FisherUnlearn.Tool.Running;

/// <summary>
/// A live table on the terminal (stderr): one row per model with its phase, a spinner while it runs, and its time.
/// Used only when stderr is a terminal, outside CI and without <c>--no-progress</c>; stdout stays untouched, so
/// <c>--json</c> output remains one document. <c>run</c> reports through <see cref="IRunProgress"/>; <c>train</c>,
/// <c>harvest</c> and <c>verify</c> name their own phases (<see cref="Update"/>) and results (<see cref="Complete(string, string, string?, double?)"/>).
/// </summary>
internal sealed class LiveProgress : IRunProgress
{
    private static readonly string[] Spinner = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

    private readonly ConcurrentDictionary<string, Row> rows = new(StringComparer.Ordinal);
    private readonly List<string> order = [];
    private readonly IAnsiConsole console;
    private readonly CancellationTokenSource stop = new();
    private readonly Lock gate = new();
    private readonly string resultColumn;
    private Task? display;
    private bool disposed;

    /// <param name="error">Where the table is drawn (stderr).</param>
    /// <param name="resultColumn">The title of the column that says what each model's work gave (run: the method).</param>
    public LiveProgress(TextWriter error, string resultColumn = "method")
    {
        console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(error) });
        this.resultColumn = resultColumn;
    }

    /// <summary>The models, in display order. The table is drawn from the first model's news on, so work refused before
    /// any model starts (a missing output, say) leaves no empty table above its error.</summary>
    public void Planned(IReadOnlyList<string> modelIds)
    {
        foreach (var id in modelIds)
        {
            order.Add(id);
            rows[id] = new Row();
        }
    }

    private void EnsureDrawn()
    {
        lock (gate)
        {
            if (display is not null || disposed)
            {
                return;
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
    }

    public void Started(string modelId) => Update(modelId, Running);

    /// <summary>A model's current phase, shown with a spinner and its running time (the clock starts at the first).</summary>
    public void Update(string modelId, string phase)
    {
        var row = rows.GetOrAdd(modelId, _ => new Row());
        if (!row.Clock.IsRunning)
        {
            row.Clock.Restart();
        }

        row.Phase = phase;
        EnsureDrawn();
    }

    /// <summary>A model's end. Its time is the row's wall time, from its first phase to now, as the row showed it while it
    /// ran (loading, the before/after metrics and writing included); the outcome's own seconds (the unlearning alone, as
    /// the lines, <c>--json</c> and report.json give it) only for a row that never ran here. QA saw a row jump back from
    /// 3.6 s to 0.5 s when it showed the outcome's seconds.</summary>
    public void Finished(ModelOutcome outcome, bool reused) =>
        Complete(outcome.Id, reused ? UpToDate : outcome.Succeeded ? (outcome.Unchanged ? Unchanged : Done) : $"failed ({outcome.Error?.Code})",
            outcome.Method, reused ? null : WallSeconds(outcome.Id) ?? outcome.Seconds);

    /// <summary>A model's end, timed by the display itself: from its first phase to now (none if it never had one).</summary>
    public void Complete(string modelId, string state, string? result) => Complete(modelId, state, result, WallSeconds(modelId));

    /// <summary>A model's end: <paramref name="state"/> "done", "up to date" or a failure, what it gave, and its time
    /// (none for work that was up to date).</summary>
    public void Complete(string modelId, string state, string? result, double? seconds)
    {
        var row = rows.GetOrAdd(modelId, _ => new Row());
        row.Clock.Stop();
        row.Phase = state;
        row.Finished = true;
        row.Method = result;
        row.Seconds = seconds;
        EnsureDrawn();
    }

    private double? WallSeconds(string modelId) =>
        rows.TryGetValue(modelId, out var row) && row.Clock.IsRunning ? row.Clock.Elapsed.TotalSeconds : null;

    private const string Running = "running";
    private const string Done = "done";
    private const string UpToDate = "up to date";
    private const string Unchanged = "unchanged";

    /// <summary>Draws the last frame and stops (once; later calls do nothing).</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
        }

        stop.Cancel();
        display?.Wait();
        stop.Dispose();
    }

    private Table Render(int tick)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("model").AddColumn("phase").AddColumn(resultColumn).AddColumn(new TableColumn("time").RightAligned());
        foreach (var id in order)
        {
            var row = rows[id];
            var phase = (row.Phase, row.Finished) switch
            {
                (Done, true) => "[green]✓ done[/]",
                (UpToDate, true) => "[grey]✓ up to date[/]",
                (Unchanged, true) => "[green]✓ unchanged[/]",
                (var failed, true) => $"[red]✗ {Markup.Escape(failed)}[/]",
                ("queued", false) => "[grey]queued[/]",
                (var working, false) => $"[yellow]{Spinner[tick % Spinner.Length]} {Markup.Escape(working)}[/]",
            };
            var seconds = row.Seconds ?? (row.Clock.IsRunning ? row.Clock.Elapsed.TotalSeconds : null);
            table.AddRow(Markup.Escape(id), phase, Markup.Escape(row.Method ?? string.Empty),
                seconds is { } s ? s.ToString("0.0 s", CultureInfo.InvariantCulture) : string.Empty);
        }

        return table;
    }

    private sealed class Row
    {
        public string Phase { get; set; } = "queued";

        public bool Finished { get; set; }

        public string? Method { get; set; }

        public double? Seconds { get; set; }

        public Stopwatch Clock { get; } = new();
    }
}
