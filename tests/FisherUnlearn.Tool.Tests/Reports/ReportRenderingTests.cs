using Newtonsoft.Json.Linq;
using FisherUnlearn.Tool.Output;
using FisherUnlearn.Tool.Reports;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Tool.Tests.Reports;

public sealed class ReportRenderingTests
{
    [Fact]
    public void A_long_id_or_path_in_a_page_breaks_only_at_its_joints_and_a_short_one_stays_whole()
    {
        Assert.Equal("<span class=\"joints\">org.<wbr>example_<wbr>vision-<wbr>team/<wbr>b&lt;c&gt;</span>", HtmlPage.Breakable("org.example_vision-team/b<c>"));
        Assert.Equal("digits-federated", HtmlPage.Breakable("digits-federated"));
    }

    [Theory]
    [InlineData(0, "none")]
    [InlineData(6, "r0, r1, r2, r3, r4, r5")] // one more is shown rather than "and 1 more"
    [InlineData(18, "r0, r1, r2, r3, r4 and 13 more")] // QA: 18 long roots made the card a page high
    public void A_cards_list_of_ids_names_the_first_five_and_counts_the_rest(int count, string text) =>
        Assert.Equal(text, HtmlPage.Ids([.. Enumerable.Range(0, count).Select(i => $"r{i}")]));

    [Fact]
    public void The_forget_legend_says_what_was_measured_held_out_labels_or_the_forgotten_samples_themselves_and_survives_report_json()
    {
        var labels = ReportSamples.Digits();
        var samples = labels with { Forget = "320 samples of feedback (train)", ForgetsSamples = true };

        Assert.Contains("Forget: held-out accuracy on the forgotten labels;", MarkdownReport.Render(labels), StringComparison.Ordinal);
        Assert.Contains("Forget: accuracy on the forgotten training samples themselves", MarkdownReport.Render(samples), StringComparison.Ordinal);
        Assert.Contains("Forget: accuracy on the forgotten training samples themselves", HtmlReport.Render(samples), StringComparison.Ordinal);
        Assert.True(RunReport.Parse(RunReport.Build(samples)).ForgetsSamples);
        Assert.False(RunReport.Parse(RunReport.Build(labels)).ForgetsSamples);
        var older = RunReport.Build(samples);
        older.Remove("forgetsSamples"); // a report.json written before the field
        Assert.True(RunReport.Parse(older).ForgetsSamples);
    }

    [Theory]
    [InlineData(300, "Datasets left out: with them the graph would have more than the 500 edges Mermaid draws.", true)]
    [InlineData(600, "The lineage has 599 relations, more than the 500 edges Mermaid draws (so GitHub would not show it here): see the picture in report.html.", false)]
    public void A_lineage_beyond_mermaids_500_edges_is_drawn_without_datasets_or_pointed_at_report_html(int models, string note, bool drawn)
    {
        var diagram = new Lineage.Rendering.LineageDiagram(
            [new("digits", Lineage.Rendering.DiagramNodeKind.Dataset, "idx")],
            [.. Enumerable.Range(0, models).Select(i => new Lineage.Rendering.DiagramNode($"m{i}", Lineage.Rendering.DiagramNodeKind.Model, "mlp"))],
            [
                .. Enumerable.Range(1, models - 1).Select(i => new Lineage.Rendering.DiagramEdge($"m{i - 1}", $"m{i}", "finetune")),
                .. Enumerable.Range(0, models).Select(i => new Lineage.Rendering.DiagramEdge("digits", $"m{i}", "0-9", Lineage.Rendering.DiagramNodeKind.Dataset)),
            ]);

        var md = MarkdownReport.Render(ReportSamples.Digits() with { Diagram = diagram });

        Assert.Contains(note, md, StringComparison.Ordinal);
        Assert.Equal(drawn, md.Contains("```mermaid", StringComparison.Ordinal));
    }

    [Fact]
    public void Markdown_has_title_summary_mermaid_graph_model_tables_and_provenance()
    {
        var model = ReportSamples.Digits();

        var md = MarkdownReport.Render(model);

        Assert.StartsWith("# Removal `forget-3`: Erasure request 42", md, StringComparison.Ordinal);
        Assert.Contains("| Forget | label 3 |", md, StringComparison.Ordinal);
        Assert.Contains("| Method | `fiun` |", md, StringComparison.Ordinal);
        Assert.Contains("| Affected | 6 models (1 root, 5 descendants); 1 unaffected |", md, StringComparison.Ordinal);
        Assert.Contains("| Roots | `digits-base` |", md, StringComparison.Ordinal);
        Assert.Contains("✅ met", md, StringComparison.Ordinal);
        Assert.Contains("```mermaid\nflowchart TD\n", md, StringComparison.Ordinal);
        Assert.Contains("class m1 root", md, StringComparison.Ordinal);
        Assert.Contains("class m0 unaffected", md, StringComparison.Ordinal);
        foreach (var m in model.Models)
        {
            Assert.Contains($"| `{m.Id}` | {m.Role} | `fiun` |", md, StringComparison.Ordinal);
            Assert.Contains($"<details><summary><b>{m.Id}</b>", md, StringComparison.Ordinal);
            Assert.Contains($"`{m.InputSha256![..12]}`", md, StringComparison.Ordinal);
        }

        Assert.Contains("| forget accuracy % | 97.0 | 0.4 | 0.0 |", md, StringComparison.Ordinal);
        Assert.Contains("α=2, λ=0.5, head shift=0.25, dampened 121/235146", md, StringComparison.Ordinal);
        Assert.Contains("| removal `forget-3` | `forget-3.removal.json` |", md, StringComparison.Ordinal);
        Assert.Contains("| dataset `mnist` | `mnist.dataset.json` |", md, StringComparison.Ordinal);
        Assert.Contains("Tool: `dotnet unlearn ", md, StringComparison.Ordinal);
    }

    [Fact]
    public void The_parameters_say_which_estimator_made_the_model_and_whether_a_sample_request_fell_back_to_it()
    {
        static string Of(string json) => ReportText.Parameters(Newtonsoft.Json.Linq.JObject.Parse(json));

        var kept = Of("""{ "alpha": 1.297, "lambda": 0.1, "estimator": "tempered", "temperature": 4, "estimatorFallback": "tempered", "fallback": { "kept": true, "targetMet": true }, "calibration": { "targetMet": true } }""");
        var tried = Of("""{ "alpha": null, "lambda": null, "estimator": "exact", "estimatorFallback": "tempered", "fallback": { "kept": false, "targetMet": false }, "calibration": { "targetMet": false } }""");
        var exact = Of("""{ "alpha": 2, "lambda": 0.5, "estimator": "exact", "estimatorFallback": "tempered", "calibration": { "targetMet": true } }""");

        Assert.Contains("estimator=tempered, temperature=4, fell back from the exact Fisher (its calibration missed the target)", kept, StringComparison.Ordinal);
        Assert.Contains("estimator=exact, the tempered fallback did no better (exact kept)", tried, StringComparison.Ordinal);
        Assert.EndsWith("calibration target missed", tried, StringComparison.Ordinal);
        Assert.DoesNotContain("fell back", exact, StringComparison.Ordinal);
        Assert.DoesNotContain("fallback", exact, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_that_only_lowered_its_output_biases_says_so_in_its_parameters_and_in_a_note_of_both_reports()
    {
        var dampened = ReportSamples.Digits();
        var first = dampened.Models[0];
        var shifted = dampened with
        {
            Models = [first with { Parameters = JObject.Parse("""{ "method": "fiun", "alpha": null, "lambda": null, "headShift": 13.65625, "selected": 0, "considered": 235146 }""") }, .. dampened.Models.Skip(1)],
        };

        Assert.Contains("head shift=13.65625, no dampening: output bias only", ReportText.Parameters(shifted.Models[0].Parameters), StringComparison.Ordinal);
        Assert.Contains($"Output bias only: `{first.Id}` dampened no weight.", MarkdownReport.Render(shifted), StringComparison.Ordinal);
        Assert.Contains($"Output bias only: {first.Id} dampened no weight.", HtmlReport.Render(shifted), StringComparison.Ordinal);
        Assert.Contains("\"headCorrection\": \"off\"", MarkdownReport.Render(shifted), StringComparison.Ordinal);
        // Models that dampened weights (with a head shift too) get no such note.
        Assert.DoesNotContain("Output bias only", MarkdownReport.Render(dampened), StringComparison.Ordinal);
        Assert.DoesNotContain("Output bias only", HtmlReport.Render(dampened), StringComparison.Ordinal);
    }

    [Fact]
    public void The_parameters_say_whether_a_sample_requests_dampening_was_repaired_and_for_how_many_passes()
    {
        static string Of(string json) => ReportText.Parameters(Newtonsoft.Json.Linq.JObject.Parse(json));

        var fitted = Of("""{ "alpha": 1.68, "lambda": 0.01, "repair": { "ran": true, "kept": true, "fit": { "originalLoss": 0.0015 }, "tried": [ { "steps": 12, "epochs": 2 }, { "steps": 120, "epochs": 20 } ] } }""");
        var unfitted = Of("""{ "alpha": 1.68, "lambda": 0.01, "repair": { "ran": true, "kept": true, "tried": [ { "steps": 12 } ] } }""");
        var none = Of("""{ "alpha": 1.68, "lambda": 0.01, "repair": { "ran": true, "kept": false, "tried": [ { "steps": 12, "epochs": 9 } ] } }""");
        var skipped = Of("""{ "alpha": 1.68, "lambda": 0.01, "repair": { "ran": false, "retainCost": 0.004 } }""");

        Assert.Contains("repaired on retained samples (20 passes)", fitted, StringComparison.Ordinal);
        Assert.Contains("repaired on retained samples", unfitted, StringComparison.Ordinal);
        Assert.DoesNotContain("passes", unfitted, StringComparison.Ordinal);
        Assert.Contains("repair tried, none met the target (unrepaired)", none, StringComparison.Ordinal);
        Assert.DoesNotContain("repair", skipped, StringComparison.Ordinal);

        // sampleBaseline "repaired": the record names the kept setting (a bisection may follow it) and the target it met.
        var own = Of("""{ "alpha": 1.24, "lambda": 0.33, "repair": { "ran": true, "kept": true, "keptTried": 1, "keptTarget": "repaired", "tried": [ { "epochs": 7 }, { "epochs": 3 }, { "epochs": 6, "refined": true } ] } }""");
        var original = Of("""{ "alpha": 1.24, "lambda": 0.5, "repair": { "ran": true, "kept": true, "keptTried": 0, "keptTarget": "original", "tried": [ { "epochs": 2 }, { "epochs": 9 } ] } }""");
        Assert.Contains("repaired on retained samples (3 passes), samples held to its own held-out accuracy", own, StringComparison.Ordinal);
        Assert.Contains("repaired on retained samples (2 passes), samples held to the original's held-out accuracy (no setting met its own)", original, StringComparison.Ordinal);
        var preferred = Of("""{ "alpha": 1.24, "lambda": 0.5, "repair": { "ran": true, "kept": true, "keptTried": 1, "keptTarget": "original", "ownTargetTried": 5, "tried": [ { }, { "epochs": 4 } ] } }""");
        Assert.Contains("(4 passes), samples held to the original's held-out accuracy (the setting held to its own scored unseen samples lower)", preferred, StringComparison.Ordinal);
        // Made with "original": the record names no target, the setting does.
        var asked = Of("""{ "sampleBaseline": "original", "alpha": 1.24, "lambda": 0.5, "repair": { "ran": true, "kept": true, "tried": [ { "epochs": 2 } ] } }""");
        Assert.Contains("(2 passes), samples held to the original's held-out accuracy (sampleBaseline original)", asked, StringComparison.Ordinal);
        Assert.DoesNotContain("held to", fitted, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_quoted_from_manifests_reads_as_written_with_markup_escaped_and_hidden_characters_shown()
    {
        var sample = ReportSamples.Digits();
        var model = sample with
        {
            Reason = "<b>urgent</b> & done | now\u0007\u0000 `x`\r\nnext line \\<i>\u202e",
            RequestedAt = "2026-11-26 <details>",
            Models = [.. sample.Models.Select((m, i) => i == 0 ? m with { Status = "failed", Error = "FUL4100: <img src=x> in 'a|b'\u001b[31m" } : m)],
            Manifests = [.. sample.Manifests.Select((m, i) => i == 0 ? m with { Path = "odd|na`me\u0007.removal.json" } : m)],
        };

        var md = MarkdownReport.Render(model);
        var html = HtmlReport.Render(model);

        Assert.StartsWith("# Removal `forget-3`: &lt;b&gt;urgent&lt;/b&gt; &amp; done \\| now\\u0007\\u0000 \\`x\\` next line \\\\&lt;i&gt;\\u202e\n", md, StringComparison.Ordinal);
        Assert.Contains("| Requested | 2026-11-26 &lt;details&gt; |", md, StringComparison.Ordinal);
        Assert.Contains("**Failed:** FUL4100: &lt;img src=x&gt; in 'a\\|b'\\u001b\\[31m", md, StringComparison.Ordinal);
        Assert.Equal("\\*urgent\\* \\_now\\_ \\[ticket\\](http\\://x) \\~\\~no\\~\\~", MarkdownReport.Text("*urgent* _now_ [ticket](http://x) ~~no~~"));
        Assert.Contains("| removal `forget-3` | `` odd\\|na`me\\u0007.removal.json `` |", md, StringComparison.Ordinal);
        Assert.Contains("<p class=\"reason\">&lt;b&gt;urgent&lt;/b&gt; &amp; done | now\\u0007\\u0000 `x`\r\nnext line \\&lt;i&gt;\\u202e</p>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;img src=x&gt; in &#39;a|b&#39;\\u001b[31m", html, StringComparison.Ordinal);
        foreach (var text in new[] { md, html })
        {
            Assert.DoesNotContain("<b>urgent", text, StringComparison.Ordinal);
            Assert.DoesNotContain("<img", text, StringComparison.Ordinal);
            Assert.DoesNotContain(text, c => char.IsControl(c) && c is not ('\n' or '\r'));
            Assert.DoesNotContain('\u202e', text);
        }
    }

    [Fact]
    public void A_bare_address_in_quoted_text_is_no_link()
    {
        var text = MarkdownReport.Text("ticket at https://tracker.example/1, www.example.org or privacy@example.org: see www.X.org");

        // GitHub links "https://", "www." and e-mail addresses in plain text; each is broken by an escape it still shows.
        Assert.Equal("ticket at https\\://tracker.example/1, www\\.example.org or privacy\\@example.org: see www\\.X.org", text);
    }

    [Fact]
    public void Missed_targets_and_failures_show_in_the_verdict()
    {
        var missed = ReportSamples.Digits(reference: false, missed: true);
        var failed = ReportSamples.Digits() with { Models = [.. ReportSamples.Digits().Models.Select((m, i) => i == 0 ? m with { Status = "failed", Error = "FUL4100: boom" } : m)] };

        Assert.False(missed.TargetsMet);
        Assert.Contains("Targets missed by 1 of 6 models", MarkdownReport.Render(missed), StringComparison.Ordinal);
        Assert.Contains("forget accuracy 20.0% &gt; 1.0%", MarkdownReport.Render(missed), StringComparison.Ordinal); // renders as '>'
        Assert.Contains("forget accuracy 20.0% &gt; 1.0%", HtmlReport.Render(missed), StringComparison.Ordinal);
        Assert.False(failed.TargetsMet);
        Assert.Contains("1 of 6 models failed", MarkdownReport.Render(failed), StringComparison.Ordinal);
        Assert.Contains("FUL4100: boom", HtmlReport.Render(failed), StringComparison.Ordinal);
    }

    // Found in QA: a request with only maxRetainDrop read "targets met" while the forgotten label was still recognised.
    [Fact]
    public void A_target_left_out_is_said_to_be_unchecked()
    {
        var retainOnly = ReportSamples.Digits(reference: false, missed: true) with { MaxForgetAccuracy = null };
        var forgetOnly = ReportSamples.Digits() with { MaxRetainDrop = null };

        Assert.True(retainOnly.TargetsMet); // the 20% forget accuracy is not a target here...
        Assert.Contains("Targets: retain drop ≤ 2.0 points; forget accuracy not checked (no maxForgetAccuracy).", MarkdownReport.Render(retainOnly), StringComparison.Ordinal); // ...and says so
        Assert.Contains("Targets: forget accuracy ≤ 1.0%; retain accuracy not checked (no maxRetainDrop).", MarkdownReport.Render(forgetOnly), StringComparison.Ordinal);
        Assert.DoesNotContain("not checked", MarkdownReport.Render(ReportSamples.Digits()), StringComparison.Ordinal);
    }

    [Fact]
    public void Long_model_ids_in_a_chart_keep_both_ends_readable_and_the_whole_id_as_a_tooltip()
    {
        var one = new string('a', 60) + "-north";
        var other = new string('a', 60) + "-south";
        var svg = System.Xml.Linq.XDocument.Parse(SvgBarChart.Render("Forget", [one, other, "short"], [new ChartSeries("after", "#000", [0.1, 0.2, 0.3])]));
        System.Xml.Linq.XNamespace ns = "http://www.w3.org/2000/svg";

        var labels = svg.Descendants(ns + "text").Where(t => t.Element(ns + "title") is not null).ToList();

        Assert.Equal([one, other, "short"], labels.Select(t => (string)t.Element(ns + "title")!));
        var shown = labels.Select(t => string.Concat(t.Nodes().OfType<System.Xml.Linq.XText>().Select(x => x.Value))).ToList();
        Assert.All(shown, text => Assert.InRange(text.Length, 1, SvgBarChart.MaxLabelLength));
        Assert.Equal(3, shown.Distinct().Count());
        Assert.EndsWith("-north", shown[0], StringComparison.Ordinal);
        Assert.Equal("short", shown[2]);
    }

    [Fact]
    public void The_time_sets_retraining_against_the_models_own_unlearning_not_the_runs_start_up_and_measuring()
    {
        var digits = ReportSamples.Digits(reference: true);
        var unlearning = Math.Round(digits.Models.Sum(m => m.Seconds), 3);
        var unchanged = digits with
        {
            Models = [.. digits.Models.Select(m => m with { Parameters = new Newtonsoft.Json.Linq.JObject { ["unchanged"] = "it already meets the calibration target as it is" } })],
        };

        string Time(ReportModel model) => MarkdownReport.Render(model).Split('\n').Single(l => l.StartsWith("| Time |", StringComparison.Ordinal));

        // The run's wall time (4.2 s in the sample: loading and measuring too) is report.json's, not the row's.
        Assert.Equal($"| Time | {ReportText.Seconds(unlearning)} unlearning (the models' own times, added up); retraining the reference: {ReportText.Seconds(61.5)} (unlearning {MarkdownReport.SpeedUp(61.5 / unlearning)}) |",
            Time(digits));
        Assert.DoesNotContain(ReportText.Seconds(4.2), Time(digits), StringComparison.Ordinal);
        Assert.Contains("unlearning (the models&#39; own times, added up)", HtmlReport.Render(digits).Replace("&#x27;", "&#39;", StringComparison.Ordinal), StringComparison.Ordinal);
        // Every model left as it was: nothing was unlearned faster than anything.
        Assert.DoesNotContain("faster", Time(unchanged), StringComparison.Ordinal);
        Assert.Contains($"retraining the reference: {ReportText.Seconds(61.5)} |", Time(unchanged), StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_without_an_output_yet_has_no_time_in_the_tables()
    {
        var digits = ReportSamples.Digits();
        var partial = digits with { Models = [.. digits.Models.Select((m, i) => i == 0 ? m with { Status = ReportEntry.MissingStatus, Seconds = 0 } : m)] };
        var id = partial.Models[0].Id;

        var row = MarkdownReport.Render(partial).Split('\n').First(l => l.StartsWith($"| `{id}` |", StringComparison.Ordinal));

        Assert.EndsWith("| – |", row, StringComparison.Ordinal);
        Assert.DoesNotContain("0.00 s", row, StringComparison.Ordinal);
        Assert.DoesNotContain("<td class=\"n\">0.00 s</td>", HtmlReport.Render(partial), StringComparison.Ordinal);
    }

    [Fact]
    public void Html_is_one_self_contained_page_with_the_graph_charts_and_tables()
    {
        var html = HtmlReport.Render(ReportSamples.Digits());

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        foreach (var external in new[] { "<script", "<link", "src=", "href=", "@import", "url(http", "url(//", "url(file" })
        {
            Assert.DoesNotContain(external, html, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Contains("class=\"lineage-graph\"", html, StringComparison.Ordinal);
        Assert.Equal(MarkdownReport.Metrics.Length, html.Split("class=\"chart\"").Length - 1); // One chart per metric.
        Assert.Contains("<table id=\"models\">", html, StringComparison.Ordinal);
        Assert.Contains("<table id=\"manifests\">", html, StringComparison.Ordinal);
        Assert.Contains("retrained reference", html, StringComparison.Ordinal);
        Assert.Contains("target ≤ 1.0%", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_json_round_trips_and_regenerates_the_readable_reports_alone()
    {
        using var folder = new TempWorkspace("fiun-report");
        var model = ReportSamples.Digits();

        var files = ReportWriter.WriteAll(folder.Root, model);
        var read = RunReport.Read(files.Json);

        Assert.Equal(RunReport.Build(model).ToString(), RunReport.Build(read).ToString());
        Assert.Equal(MarkdownReport.Render(model), MarkdownReport.Render(read));
        var markdown = File.ReadAllText(files.Markdown);
        var html = File.ReadAllText(files.Html);
        File.Delete(files.Markdown);
        File.Delete(files.Html);

        var regenerated = ReportWriter.Regenerate(files.Json);

        Assert.Equal(markdown, File.ReadAllText(regenerated.Markdown));
        Assert.Equal(html, File.ReadAllText(regenerated.Html));
    }

    [Fact]
    public void A_run_only_report_json_still_reads()
    {
        var json = Newtonsoft.Json.Linq.JObject.Parse("""
            { "schemaVersion": 1, "removal": "r", "removalSha256": "abc", "toolVersion": "1.0.0", "method": "ssd", "seconds": 1.5,
              "models": [ { "id": "a", "role": "root", "method": "ssd", "status": "done", "error": null, "parameters": { "alpha": 10 },
                            "inputSha256": "00", "output": "a.safetensors", "outputSha256": "11", "seconds": 1.2,
                            "metrics": { "before": { "forgetAccuracy": 0.9, "retainAccuracy": 0.9, "testAccuracy": 0.9, "mia": null }, "after": null } } ] }
            """);

        var model = RunReport.Parse(json);

        Assert.Equal("r", model.RemovalId);
        Assert.Equal("ssd", model.Method);
        Assert.Equal(0.9, model.Models[0].Before!.ForgetAccuracy);
        Assert.Null(model.Models[0].After);
        Assert.Contains("# Removal `r`", MarkdownReport.Render(model), StringComparison.Ordinal);
        Assert.Contains("<!DOCTYPE html>", HtmlReport.Render(model), StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => RunReport.Parse(Newtonsoft.Json.Linq.JObject.Parse("""{ "schemaVersion": 2, "removal": "r" }""")));
    }

    [Fact]
    public void Report_md_and_html_show_the_values_report_json_keeps()
    {
        var metrics = ReportMetrics.From(new Engine.Verification.ModelMetrics(0.74949, 0.123456789, null, null, 10, 10, 0))!;

        Assert.Equal(0.7495, metrics.ForgetAccuracy); // 4 decimals, as in report.json: 75.0% wherever it is shown
        Assert.Equal(0.1235, metrics.RetainAccuracy);
        Assert.Null(metrics.Mia);
    }

    [Theory]
    [InlineData(0.52, true)]
    [InlineData(0.93, false)]
    [InlineData(null, false)]
    public void An_MIA_rate_from_an_attack_at_chance_is_marked_and_explained(double? attackAccuracy, bool marked)
    {
        var after = new Newtonsoft.Json.Linq.JObject
        {
            ["forgetAccuracy"] = 0.0, ["retainAccuracy"] = 0.9, ["testAccuracy"] = 0.8, ["mia"] = 0.335, ["miaAttackAccuracy"] = attackAccuracy,
        };
        var json = Newtonsoft.Json.Linq.JObject.Parse("""
            { "schemaVersion": 1, "removal": "r", "removalSha256": "abc", "toolVersion": "1.0.0", "method": "fiun", "seconds": 1.5,
              "models": [ { "id": "head", "role": "descendant", "method": "fiun", "status": "done", "error": null, "parameters": null,
                            "inputSha256": "00", "output": "head.safetensors", "outputSha256": "11", "seconds": 0.01,
                            "metrics": { "before": { "forgetAccuracy": 0.94, "retainAccuracy": 0.82, "testAccuracy": 0.84, "mia": 0.306, "miaAttackAccuracy": 0.93 } } } ] }
            """);
        json["models"]![0]!["metrics"]!["after"] = after;

        var model = RunReport.Parse(json);
        var markdown = MarkdownReport.Render(model);

        Assert.Equal(attackAccuracy, model.Models[0].After!.MiaAttackAccuracy);
        Assert.Equal(marked, markdown.Contains("33.5" + MarkdownReport.MiaMark, StringComparison.Ordinal));
        var details = markdown[markdown.IndexOf("<details>", StringComparison.Ordinal)..];
        Assert.Equal(marked, details.Contains("| MIA % | 30.6 | 33.5" + MarkdownReport.MiaMark + " |", StringComparison.Ordinal)); // the model's own table too
        Assert.Equal(marked, markdown.Contains(MarkdownReport.UninformativeMiaNote, StringComparison.Ordinal));
        Assert.DoesNotContain("30.6" + MarkdownReport.MiaMark, markdown, StringComparison.Ordinal); // The informative state stays unmarked.
        Assert.Contains("MIA attack accuracy %", markdown, StringComparison.Ordinal);
        var html = HtmlReport.Render(model);
        Assert.Equal(marked, html.Contains(System.Net.WebUtility.HtmlEncode(MarkdownReport.UninformativeMiaNote), StringComparison.Ordinal));
        Assert.Contains("informative from 60%", html, StringComparison.Ordinal); // The attack chart's line.
        // The MIA chart's bar label carries the mark too (QA: "100.0" in the chart where the table read "100.0†").
        var miaChart = html[html.IndexOf(">MIA</text>", StringComparison.Ordinal)..];
        miaChart = miaChart[..miaChart.IndexOf("</svg>", StringComparison.Ordinal)];
        Assert.Equal(marked, miaChart.Contains(">33.5" + MarkdownReport.MiaMark + "</text>", StringComparison.Ordinal));
        Assert.Contains(">30.6</text>", miaChart, StringComparison.Ordinal);
        Assert.DoesNotContain("<th>MIA attack accuracy %</th>", html, StringComparison.Ordinal); // A chart, not a column.
        Assert.Equal(attackAccuracy is null ? Newtonsoft.Json.Linq.JTokenType.Null : Newtonsoft.Json.Linq.JTokenType.Float,
            RunReport.Metrics(model.Models[0].After)!["miaAttackAccuracy"]!.Type);
    }

    [Fact]
    public void Shard_reports_merge_into_one()
    {
        var whole = ReportSamples.Digits();
        var first = whole with { Models = whole.Models.Take(2).ToList(), Seconds = 1 };
        var second = whole with { Models = whole.Models.Skip(2).ToList(), Seconds = 2 };

        var merged = ReportModel.Merge([first, second]);

        Assert.Equal(whole.Models.Select(m => m.Id), merged.Models.Select(m => m.Id));
        Assert.Equal(3, merged.Seconds);
        Assert.Throws<ArgumentException>(() => ReportModel.Merge([first, second with { RemovalId = "other" }]));
    }

    [Theory]
    [InlineData(1.03, "×1.03 faster")]
    [InlineData(1, "×1 faster")]
    [InlineData(2.5, "×2.5 faster")]
    [InlineData(119.46, "×119.5 faster")]
    [InlineData(0.4, "×2.5 slower")]
    [InlineData(0.97, "×1.03 slower")]
    public void The_speed_up_against_retraining_keeps_the_digits_that_tell_it_from_one(double ratio, string text) =>
        Assert.Equal(text, MarkdownReport.SpeedUp(ratio));
}
