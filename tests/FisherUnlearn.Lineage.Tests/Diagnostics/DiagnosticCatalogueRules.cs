using FisherUnlearn.Testing;
using System.Globalization;
using System.Text.RegularExpressions;
using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Lineage.Tests.Diagnostics;

public sealed partial class DiagnosticCatalogueRules
{
    [Fact]
    public void Every_code_is_unique_and_well_formed()
    {
        var codes = DiagnosticCatalogue.All.Select(d => d.Code).ToList();

        Assert.NotEmpty(codes);
        Assert.Equal(codes.Count, codes.Distinct(StringComparer.Ordinal).Count());
        Assert.All(codes, code => Assert.Matches(CodePattern(), code));
    }

    [Theory]
    [InlineData("/opt/tool/libLibTorchSharp.so", 0, 0)]
    [InlineData("models/a/a.lineage.json", 3, 9)]
    [InlineData("", 0, 0)]
    public void A_canonical_line_reads_back_as_the_diagnostic_it_was_written_from(string file, int line, int column)
    {
        var written = Diagnostic.Create(DiagnosticCatalogue.UnknownRelation, file.Length == 0 ? null : new SourceLocation(file, line, column), "x: y");

        var read = Diagnostic.FromCanonicalString(written.ToCanonicalString());

        Assert.Equal(written, read);
        Assert.Null(Diagnostic.FromCanonicalString("dotnet-unlearn: trained a in 0.2 s"));
        Assert.Equal(Severity.Warning, Diagnostic.FromCanonicalString("warning FUL1026: Setting without effect.")?.Severity);
    }

    [Fact]
    public void A_value_with_line_breaks_keeps_the_canonical_form_on_one_line()
    {
        var diagnostic = Diagnostic.Create(DiagnosticCatalogue.UnknownRelation, new SourceLocation("/w/new\nline/a.lineage.json", 6, 51), "a%25b\nc,d:e\r\u0007\u2028");

        var line = diagnostic.ToCanonicalString();

        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain('\r', line);
        Assert.DoesNotContain('\u2028', line);
        Assert.StartsWith("/w/new\\nline/a.lineage.json(6,51): error FUL1011: Unknown relation 'a%25b\\nc,d:e\\r\\u0007\\u2028'.", line, StringComparison.Ordinal);
        Assert.Contains('\n', diagnostic.Message); // the message itself (JSON, annotations) keeps the value as it is
    }

    [Fact]
    public void Every_message_formats_with_its_arguments_and_ends_as_a_sentence()
    {
        foreach (var descriptor in DiagnosticCatalogue.All)
        {
            var placeholders = PlaceholderPattern().Matches(descriptor.MessageFormat).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
            var args = Enumerable.Range(0, placeholders.Count == 0 ? 0 : placeholders.Max() + 1).Select(i => (object?)(i + 1)).ToArray();

            var diagnostic = Diagnostic.Create(descriptor, new SourceLocation("/w/a.lineage.json", 3, 7), args);

            Assert.Equal(descriptor.Code, diagnostic.Code);
            Assert.DoesNotContain("{", diagnostic.Message, StringComparison.Ordinal);
            Assert.StartsWith($"/w/a.lineage.json(3,7): {SeverityWord(descriptor.Severity)} {descriptor.Code}: ", diagnostic.ToCanonicalString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_sentence_passed_in_before_the_templates_full_stop_keeps_one_full_stop()
    {
        var exception = Diagnostic.Create(DiagnosticCatalogue.UnreadableFile, null, "Access to the path '/w/a.json' is denied.");
        var ellipsis = Diagnostic.Create(DiagnosticCatalogue.UnreadableFile, null, "cut short...");
        var plain = Diagnostic.Create(DiagnosticCatalogue.UnreadableFile, null, "no permission");

        Assert.Equal("The file cannot be read: Access to the path '/w/a.json' is denied.", exception.Message);
        Assert.Equal("The file cannot be read: cut short....", ellipsis.Message); // an ellipsis is left as written
        Assert.Equal("The file cannot be read: no permission.", plain.Message);
    }

    [Fact]
    public void The_diagnostics_page_documents_every_code()
    {
        var page = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "diagnostics.md"));

        var missing = DiagnosticCatalogue.All.Where(d => !page.Contains($"| {d.Code} | {d.Severity.ToString().ToLowerInvariant()} | {d.Title} |", StringComparison.Ordinal)).Select(d => d.Code).ToList();

        Assert.True(missing.Count == 0, $"docs/diagnostics.md lacks {string.Join(", ", missing)}: regenerate it with 'python3 build/diagnostics-doc.py'.");
    }

    private static string SeverityWord(Severity severity) => severity switch
    {
        Severity.Error => "error",
        Severity.Warning => "warning",
        _ => "info",
    };


    [GeneratedRegex("^FUL[1-5][0-9]{3}$")]
    private static partial Regex CodePattern();

    [GeneratedRegex(@"\{(\d+)(?::[^}]*)?\}")]
    private static partial Regex PlaceholderPattern();

    [Fact]
    public void A_missed_forget_target_reads_as_the_tables_round_it()
    {
        // 0.9175 is 0.91749999... in binary: the percent format rounded it down, the tables (100 x, then one decimal) up.
        var missed = Diagnostic.Create(DiagnosticCatalogue.ForgetTargetMissed, null, "a", 0.9175 * 100, 0.01 * 100, "Try another method or parameters (docs/methods.md).");

        Assert.Contains("forget accuracy 91.8% after unlearning; the target is at most 1.0%", missed.Message, StringComparison.Ordinal);
        Assert.Equal("91.8", (0.9175 * 100).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture));
    }
}
