using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Tests.Support;

namespace FisherUnlearn.Engine.Tests.Data;

public sealed class CsvDataReaderTests : IDisposable
{
    private readonly TestFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Reads_features_and_labels_by_column_name_culture_invariant()
    {
        var path = folder.WriteText("d.csv", "a,\"label\",b\n1.5,2,-3e-1\n\n0,0,4\n");
        var previous = Thread.CurrentThread.CurrentCulture;
        Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            var content = CsvDataReader.Read(path, "label");
            Assert.Equal(["a", "b"], content.FeatureNames);
            Assert.Equal([1.5f, -0.3f, 0f, 4f], content.Features);
            Assert.Equal([2L, 0L], content.Labels);
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = previous;
        }
    }

    [Theory]
    [InlineData(';', "';'")]
    [InlineData('\t', "tabs")]
    public void A_file_separated_by_another_character_is_FUL4008_that_says_so_without_printing_its_whole_header(char separator, string named)
    {
        var columns = Enumerable.Range(0, 784).Select(i => $"pixel{i}").Append("label");
        var path = folder.WriteText("semicolons.csv", string.Join(separator, columns) + "\n" + string.Join(separator, Enumerable.Repeat("0", 785)) + "\n");

        var ex = EngineAssert.Fails("FUL4008", () => CsvDataReader.Read(path, "label"));

        Assert.Contains($"the header seems separated by {named}, but the columns of a csv dataset are separated by commas", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Message.Length < 600, $"{ex.Message.Length} characters: {ex.Message}"); // The 5 KB header is not repeated.
    }

    [Fact]
    public void A_line_longer_than_the_limit_is_FUL4008_at_its_number_without_reading_it_whole()
    {
        // QA: a 1.2 GB line ended the process ("Out of memory.", exit 134); a 300 MB one took 2.4 GB. Here with a limit of
        // 1,000 characters and a 20 MB line: refused at line 3 once the limit is passed, in memory of the limit's order.
        var path = folder.WriteText("one-line.csv", "x,label\n1,0\n" + new string('7', 20_000_000) + ",1\n2,0\n");

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var ex = EngineAssert.Fails("FUL4008", () => CsvDataReader.Read(path, "label", classes: null, sibling: null, maxLineLength: 1_000));
        var used = GC.GetAllocatedBytesForCurrentThread() - allocated;

        Assert.Equal((3, 1), (ex.Diagnostic.Location.Line, ex.Diagnostic.Location.Column));
        Assert.Contains("line 3 is longer than 1000 characters", ex.Message, StringComparison.Ordinal);
        Assert.True(used < 2_000_000, $"{used} bytes allocated");
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public void Lines_up_to_the_limit_are_read_whatever_ends_them(string newline)
    {
        var row = "1234567," + new string('0', 11) + "1"; // 20 characters: x = 1234567, label 1
        var path = folder.WriteText("rows.csv", string.Join(newline, "x,label", row, string.Empty, "2,0") + newline);

        var content = CsvDataReader.Read(path, "label", classes: null, sibling: null, maxLineLength: 20);

        Assert.Equal([1234567f, 2f], content.Features);
        Assert.Equal([1L, 0L], content.Labels);
        Assert.Equal(4, EngineAssert.Fails("FUL4008", () => CsvDataReader.Read(folder.WriteText("long.csv", string.Join(newline, "x,label", "1,0", string.Empty, row + "0")), "label", null, null, 20)).Diagnostic.Location.Line);
    }

    [Theory]
    [InlineData("x,label\n1,0\n\"2,1\n", 3, 1)]
    [InlineData("x,\"label\n1,0\n", 1, 3)]
    [InlineData("x,label\n1,0\n3,\"1\"\"\n", 3, 3)]
    public void A_quote_left_open_is_FUL4008_at_the_quote_not_a_count_of_cells(string text, int line, int column)
    {
        var path = folder.WriteText("open.csv", text);

        var ex = EngineAssert.Fails("FUL4008", () => CsvDataReader.Read(path, "label"));

        Assert.Equal((line, column), (ex.Diagnostic.Location.Line, ex.Diagnostic.Location.Column));
        Assert.Contains($"the quote at line {line}, column {column} is not closed on its line", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("cells, the header", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("x,label\n1,0\n2,abc\n", 3, "label")]
    [InlineData("x,label\n1,0\n1;5,1\n", 3, "x")]
    [InlineData("x,label\nNaN,0\n", 2, "x")]
    [InlineData("x,label\n1,0\n1.0\0,1\n", 3, "x")] // .NET's parser would skip the NUL and read 1.0
    [InlineData("x,label\n1,0\n2,1\0\n", 3, "label")]
    public void Bad_cell_is_FUL4007_with_line_and_column(string text, int line, string column)
    {
        var path = folder.WriteText("bad.csv", text);
        var ex = EngineAssert.Fails("FUL4007", () => CsvDataReader.Read(path, "label"));
        Assert.Equal(line, ex.Diagnostic.Location.Line);
        Assert.Equal(path, ex.Diagnostic.Location.File);
        Assert.Contains($"'{column}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cell_with_bytes_that_are_not_utf8_says_so()
    {
        // QA: a Latin-1 byte read as U+FFFD gave "holds '0\uFFFD', which is not a finite number", never naming the encoding.
        var path = folder.WriteText("latin1.csv", "x,label\n1,0\n");
        File.WriteAllBytes(path, [.. File.ReadAllBytes(path), (byte)'0', 0xE9, (byte)',', (byte)'1', (byte)'\n']);

        var ex = EngineAssert.Fails("FUL4007", () => CsvDataReader.Read(path, "label"));

        Assert.Equal((3, 1), (ex.Diagnostic.Location.Line, ex.Diagnostic.Location.Column));
        Assert.Contains("the file has bytes here that are not UTF-8 text (save it as UTF-8 or ASCII)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_label_outside_the_declared_classes_is_FUL4005_at_its_line_and_column()
    {
        // Line 6 of the file (a comment-free header, a blank line), the fourth sample, the label column at column 5.
        var path = folder.WriteText("labels.csv", "x,label\n1,0\n\n2,1\n3,2\n4,\"7\"\n");

        var ex = EngineAssert.Fails("FUL4005", () => CsvDataReader.Read(path, "label", classes: 3));

        Assert.Equal((6, 3), (ex.Diagnostic.Location.Line, ex.Diagnostic.Location.Column));
        Assert.Contains("sample 3 has label 7, outside 0..2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_label_column_is_FUL4008()
    {
        var path = folder.WriteText("d.csv", "x,y\n1,2\n");
        EngineAssert.Fails("FUL4008", () => CsvDataReader.Read(path, "label"));
    }

    [Fact]
    public void A_missing_label_column_among_hundreds_names_a_few_and_suggests_the_nearest()
    {
        var header = string.Join(",", Enumerable.Range(0, 784).Select(i => $"p{i}").Append("lable"));
        var path = folder.WriteText("wide.csv", header + "\n" + string.Join(",", Enumerable.Repeat("0", 785)) + "\n");

        var ex = EngineAssert.Fails("FUL4008", () => CsvDataReader.Read(path, "label"));

        Assert.Contains("p0, p1,", ex.Message, StringComparison.Ordinal);
        Assert.Contains("... 785 in all", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'lable'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("p500", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Row_with_wrong_cell_count_is_FUL4008()
    {
        var path = folder.WriteText("d.csv", "x,label\n1,2,3\n");
        var ex = EngineAssert.Fails("FUL4008", () => CsvDataReader.Read(path, "label"));
        Assert.Equal(2, ex.Diagnostic.Location.Line);
    }

    [Fact]
    public void Two_label_columns_are_refused_as_ambiguous()
    {
        var path = folder.WriteText("d.csv", "label,f1,label\n1,0.5,2\n");

        var ex = EngineAssert.Fails("FUL4008", () => CsvDataReader.Read(path, "label"));

        Assert.Contains("names the label column 'label' more than once (columns 1 and 3)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_feature_columns_of_one_name_are_refused_since_names_say_which_column_is_which()
    {
        var path = folder.WriteText("d.csv", "px,label,px\n0.5,1,2\n");

        var ex = EngineAssert.Fails("FUL4008", () => CsvDataReader.Read(path, "label"));

        Assert.Contains("names the feature column 'px' more than once (columns 1 and 3); give each column its own name", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, ex.Diagnostic.Location.Line);
    }

    [Theory]
    [InlineData("f0,,f2,label\n0.5,1,2,1\n", 2)]
    [InlineData("f0, ,label\n0.5,1,1\n", 2)]
    public void A_feature_column_without_a_name_is_refused_where_a_stray_comma_would_put_it(string csv, int column)
    {
        var path = folder.WriteText("d.csv", csv);

        var ex = EngineAssert.Fails("FUL4008", () => CsvDataReader.Read(path, "label"));

        Assert.Contains($"column {column} of the header has no name (a stray or doubled comma? pandas writes its index so: to_csv(index=False) leaves it out)", ex.Message, StringComparison.Ordinal);
    }
}
