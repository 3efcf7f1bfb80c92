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
