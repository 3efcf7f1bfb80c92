using FisherUnlearn.Lineage.Manifests;
using static FisherUnlearn.Lineage.Tests.Manifests.ManifestTestKit;

namespace FisherUnlearn.Lineage.Tests.Manifests;

/// <summary>Reading <c>*.dataset.json</c>: the three formats and their split fields.</summary>
public sealed class DatasetManifestValidation
{
    [Fact]
    public void Idx_dataset_reads_both_splits_as_absolute_paths()
    {
        var json = """
            {
              "schemaVersion": 1,
              "id": "mnist",
              "format": "idx",
              "classes": 10,
              "train": { "images": "raw/train-images-idx3-ubyte.gz", "labels": "raw/train-labels-idx1-ubyte.gz", "count": 60000 },
              "test":  { "images": "raw/t10k-images-idx3-ubyte.gz",  "labels": "raw/t10k-labels-idx1-ubyte.gz" }
            }
            """;

        var file = ReadDataset(json);

        NoDiagnostics(file);
        var dataset = file.Dataset!;
        Assert.Equal(("mnist", "idx", 10), (dataset.Id, dataset.Format, dataset.Classes));
        Assert.Equal(PathOf("data/raw/train-images-idx3-ubyte.gz"), dataset.Train.Images);
        Assert.Equal(PathOf("data/raw/train-labels-idx1-ubyte.gz"), dataset.Train.Labels);
        Assert.Equal(60000, dataset.Train.Count);
        // Where 'count' is written: a file that holds another number of samples is reported there (FUL4011).
        Assert.Equal(TextPosition.Of(json, "\"count\": »60000"), (dataset.Train.CountLocation!.Line, dataset.Train.CountLocation.Column));
        Assert.Equal(PathOf("data/raw/t10k-images-idx3-ubyte.gz"), dataset.Test!.Images);
        Assert.Null(dataset.Test.Count);
        Assert.Null(dataset.Test.CountLocation);
    }

    [Fact]
    public void Csv_and_safetensors_datasets_read_their_fields()
    {
        var csv = ReadDataset("""
            { "schemaVersion": 1, "id": "toy", "format": "csv", "classes": 4,
              "train": { "path": "train.csv", "labelColumn": "label" } }
            """);
        var safetensors = ReadDataset("""
            { "schemaVersion": 1, "id": "feats", "format": "safetensors", "classes": 3,
              "train": { "path": "train.safetensors" }, "test": { "path": "test.safetensors", "count": 100 } }
            """);

        NoDiagnostics(csv);
        Assert.Equal((PathOf("data/train.csv"), "label"), (csv.Dataset!.Train.Path, csv.Dataset.Train.LabelColumn));
        Assert.Null(csv.Dataset.Test);
        NoDiagnostics(safetensors);
        Assert.Equal(PathOf("data/test.safetensors"), safetensors.Dataset!.Test!.Path);
    }

    [Fact]
    public void Unknown_format_is_FUL1012_listing_the_formats()
    {
        var json = """
            { "schemaVersion": 1, "id": "d", "format": "parquet", "classes": 4, "train": { "path": "t.parquet" } }
            """;

        Only(ReadDataset(json), "FUL1012", json, "\"format\": »\"parquet\"", "'parquet'", "idx, csv, safetensors");
    }

    [Fact]
    public void Split_field_required_by_the_format_is_FUL1007()
    {
        var json = """
            { "schemaVersion": 1, "id": "d", "format": "csv", "classes": 4,
              "train": { "path": "train.csv" } }
            """;

        Only(ReadDataset(json), "FUL1007", json, "\"train\": »{", "'train.labelColumn'");
    }

    [Fact]
    public void Split_field_of_another_format_is_FUL1005_naming_the_format()
    {
        var json = """
            { "schemaVersion": 1, "id": "d", "format": "csv", "classes": 4,
              "train": { "path": "train.csv", "labelColumn": "y", "images": "x.gz" } }
            """;

        Only(ReadDataset(json), "FUL1005", json, "»\"images\"", "'train.images'", "format 'csv'", "path, labelColumn");
    }

    [Fact]
    public void Missing_train_split_is_FUL1007()
    {
        var json = """{ "schemaVersion": 1, "id": "d", "format": "csv", "classes": 4 }""";

        Only(ReadDataset(json), "FUL1007", json, "»{", "'train'");
    }

    [Theory]
    [InlineData("\"classes\": »1,", "'classes'", "2..100000")]
    [InlineData("\"classes\": »200000,", "'classes'", "2..100000")]
    public void Absurd_class_count_is_FUL1014(string marked, string name, string range)
    {
        var json = "{ \"schemaVersion\": 1, \"id\": \"d\", \"format\": \"csv\", " + marked.Replace("»", string.Empty, StringComparison.Ordinal)
            + " \"train\": { \"path\": \"t.csv\", \"labelColumn\": \"y\" } }";

        Only(ReadDataset(json), "FUL1014", json, marked, name, range);
    }

    [Fact]
    public void Negative_count_is_FUL1014()
    {
        var json = """
            { "schemaVersion": 1, "id": "d", "format": "safetensors", "classes": 4, "train": { "path": "t.safetensors", "count": -5 } }
            """;

        Only(ReadDataset(json), "FUL1014", json, "\"count\": »-5", "'train.count'");
    }

    [Fact]
    public void Data_path_leaving_the_workspace_is_FUL1015()
    {
        var json = """
            { "schemaVersion": 1, "id": "d", "format": "idx", "classes": 10,
              "train": { "images": "../../elsewhere/images.gz", "labels": "labels.gz" } }
            """;

        Only(ReadDataset(json), "FUL1015", json, "\"images\": »\"../../", "'../../elsewhere/images.gz'");
    }

    [Fact]
    public void Empty_path_is_FUL1022()
    {
        var json = """
            { "schemaVersion": 1, "id": "d", "format": "safetensors", "classes": 4, "train": { "path": "" } }
            """;

        Only(ReadDataset(json), "FUL1022", json, "\"path\": »\"\"", "'train.path'");
    }

    [Fact]
    public void Misspelt_root_field_is_FUL1005_with_a_suggestion()
    {
        var json = """
            { "schemaVersion": 1, "id": "d", "format": "csv", "clases": 4, "train": { "path": "t.csv", "labelColumn": "y" } }
            """;

        var file = ReadDataset(json);

        Single(file, "FUL1005", json, "»\"clases\"", "'clases'", "did you mean 'classes'?");
        Single(file, "FUL1007", json, "»{", "'classes'");
    }

    [Fact]
    public void A_dataset_counts_by_what_is_read_from_it_not_by_where_its_files_lie()
    {
        static string Content(string train, string extra = "") => DatasetContent.Of(ReadDataset($$"""
            { "schemaVersion": 1, "id": "blobs", "format": "csv", "classes": 3{{extra}},
              "train": { "path": "{{train}}", "labelColumn": "label" } }
            """).Dataset!);
        var original = Content("blobs/train.csv");

        Assert.Equal(original, Content("elsewhere/train-v1.csv")); // the file counts by its content, hashed beside this
        Assert.Equal(original, Content("blobs/train.csv", ", \"x-source\": \"lab\"")); // extensions are not read
        Assert.NotEqual(original, DatasetContent.Of(ReadDataset("""
            { "schemaVersion": 1, "id": "blobs", "format": "csv", "classes": 3,
              "train": { "path": "blobs/train.csv", "labelColumn": "digit" } }
            """).Dataset!)); // another label column is other labels
        Assert.NotEqual(original, DatasetContent.Of(ReadDataset("""
            { "schemaVersion": 1, "id": "blobs", "format": "csv", "classes": 4,
              "train": { "path": "blobs/train.csv", "labelColumn": "label" } }
            """).Dataset!));
    }
}
