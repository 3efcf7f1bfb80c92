using System.Diagnostics;
using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Reports;
using FisherUnlearn.Tool.Tests.Support;

namespace FisherUnlearn.Tool.Tests.Reports;

/// <summary>Renders report.html and <c>graph --format html</c> in headless Chromium, offline: a screenshot (the page paints) and the DOM after load
/// (the SVG graph, charts and tables are there). Skipped, saying why, only when Chromium is not installed
/// (<c>apt-get install -y chromium</c>; .ci/run installs it). Set FUL_REPORT_SCREENSHOT_DIR to keep the files.</summary>
public sealed class HtmlReportInChromium
{
    private static string? FindChromium()
    {
        foreach (var name in new[] { "chromium", "chromium-browser", "google-chrome", "google-chrome-stable" })
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                var path = Path.Combine(dir, name);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        return null;
    }

    private static async Task<(int ExitCode, string Out, string Error)> Chromium(string chromium, string profile, params string[] args)
    {
        var start = new ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--no-default-browser-check", "--user-data-dir=" + profile }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output, await error);
    }

    /// <summary>A screenshot of the page (asserted to be a PNG that is not blank) and its DOM after load.</summary>
    private static async Task<(string Screenshot, string Dom)> Render(string chromium, TempWorkspace folder, string page, string name)
    {
        var screenshot = folder.PathOf(name + ".png");
        var url = new Uri(page).AbsoluteUri;

        var shot = await Chromium(chromium, folder.CreateDirectory(name + "-profile-1"), "--hide-scrollbars", "--screenshot=" + screenshot, "--window-size=1280,1600", url);
        var dom = await Chromium(chromium, folder.CreateDirectory(name + "-profile-2"), "--dump-dom", url);

        Assert.True(File.Exists(screenshot), $"no screenshot (exit {shot.ExitCode}): {shot.Error}");
        var png = await File.ReadAllBytesAsync(screenshot, TestContext.Current.CancellationToken);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.True(png.Length > 40_000, $"the screenshot is only {png.Length} bytes: is the page blank?");
        Assert.True(dom.ExitCode == 0, dom.Error);
        return (screenshot, dom.Out);
    }

    private static void Keep(params string[] files)
    {
        if (Environment.GetEnvironmentVariable("FUL_REPORT_SCREENSHOT_DIR") is { Length: > 0 } keep)
        {
            Directory.CreateDirectory(keep);
            foreach (var file in files)
            {
                File.Copy(file, Path.Combine(keep, Path.GetFileName(file)), overwrite: true);
            }
        }
    }

    [Fact]
    public async Task Report_html_renders_offline_with_the_graph_charts_and_tables()
    {
        var chromium = FindChromium();
        if (chromium is null)
        {
            Assert.Skip("Chromium is not installed (apt-get install -y chromium): report.html was not rendered.");
        }

        using var folder = new TempWorkspace("fiun-html");
        var files = ReportWriter.WriteAll(folder.PathOf("out/forget-3"), ReportSamples.Digits());

        var (screenshot, html) = await Render(chromium, folder, files.Html, "report");

        Assert.Contains("class=\"lineage-graph\"", html, StringComparison.Ordinal);
        Assert.Contains("class=\"node model root\" data-id=\"digits-base\"", html, StringComparison.Ordinal);
        Assert.Contains("class=\"node model unaffected\" data-id=\"clinic-north\"", html, StringComparison.Ordinal);
        Assert.Equal(MarkdownReport.Metrics.Length, html.Split("class=\"chart\"").Length - 1);
        Assert.Equal(6, html.Split("<tr class=\"").Length - 1);
        Assert.Contains("<table id=\"manifests\">", html, StringComparison.Ordinal);
        Keep(screenshot, files.Html, files.Markdown);
    }

    [Fact]
    public async Task Graph_html_renders_offline_with_the_lineage_and_the_models_roles()
    {
        var chromium = FindChromium();
        if (chromium is null)
        {
            Assert.Skip("Chromium is not installed (apt-get install -y chromium): graph --format html was not rendered.");
        }

        using var folder = new TempWorkspace("fiun-graph-html");
        var page = folder.PathOf("lineage.html");
        var run = await CliRun.InvokeAsync(RepoPaths.Root, "graph", "--workspace", "samples/digits", "--removal", "forget-3", "--format", "html", "--output", page);
        Assert.Equal(0, run.ExitCode);

        var (screenshot, html) = await Render(chromium, folder, page, "lineage");

        Assert.Contains("class=\"node dataset\" data-id=\"mnist\"", html, StringComparison.Ordinal);
        Assert.Contains("class=\"node model root\" data-id=\"digits-base\"", html, StringComparison.Ordinal);
        Assert.Contains("<tr class=\"unaffected\" data-id=\"clinic-north\">", html, StringComparison.Ordinal);
        Assert.Equal(5, html.Split("<tr class=\"descendant\"").Length - 1);
        Assert.Contains("<ol class=\"waves\" id=\"waves\">", html, StringComparison.Ordinal);
        Keep(screenshot, page);
    }
}
