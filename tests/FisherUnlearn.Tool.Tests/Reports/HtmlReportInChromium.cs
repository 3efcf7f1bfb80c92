using System.Diagnostics;
using FisherUnlearn.Testing;
using FisherUnlearn.Tool.Reports;

namespace FisherUnlearn.Tool.Tests.Reports;

/// <summary>Renders report.html in headless Chromium, offline: a screenshot (the page paints) and the DOM after load
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
        var screenshot = folder.PathOf("report.png");
        var url = new Uri(files.Html).AbsoluteUri;

        var shot = await Chromium(chromium, folder.CreateDirectory("profile-1"), "--hide-scrollbars", "--screenshot=" + screenshot, "--window-size=1280,1600", url);
        var dom = await Chromium(chromium, folder.CreateDirectory("profile-2"), "--dump-dom", url);

        Assert.True(File.Exists(screenshot), $"no screenshot (exit {shot.ExitCode}): {shot.Error}");
        var png = await File.ReadAllBytesAsync(screenshot, TestContext.Current.CancellationToken);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.True(png.Length > 40_000, $"the screenshot is only {png.Length} bytes: is the page blank?");

        Assert.True(dom.ExitCode == 0, dom.Error);
        var html = dom.Out;
        Assert.Contains("class=\"lineage-graph\"", html, StringComparison.Ordinal);
        Assert.Contains("class=\"node model root\" data-id=\"digits-base\"", html, StringComparison.Ordinal);
        Assert.Contains("class=\"node model unaffected\" data-id=\"clinic-north\"", html, StringComparison.Ordinal);
        Assert.Equal(MarkdownReport.Metrics.Length, html.Split("class=\"chart\"").Length - 1);
        Assert.Equal(6, html.Split("<tr class=\"").Length - 1);
        Assert.Contains("<table id=\"manifests\">", html, StringComparison.Ordinal);

        if (Environment.GetEnvironmentVariable("FUL_REPORT_SCREENSHOT_DIR") is { Length: > 0 } keep)
        {
            Directory.CreateDirectory(keep);
            File.Copy(screenshot, Path.Combine(keep, "report.png"), overwrite: true);
            File.Copy(files.Html, Path.Combine(keep, "report.html"), overwrite: true);
            File.Copy(files.Markdown, Path.Combine(keep, "report.md"), overwrite: true);
        }
    }
}
