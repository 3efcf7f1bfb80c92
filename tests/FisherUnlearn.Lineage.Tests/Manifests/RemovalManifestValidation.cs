using FisherUnlearn.Lineage.Diagnostics;
using static FisherUnlearn.Lineage.Tests.Manifests.ManifestTestKit;

namespace FisherUnlearn.Lineage.Tests.Manifests;

/// <summary>Reading <c>*.removal.json</c>: what to forget, and how.</summary>
public sealed class RemovalManifestValidation
{
    private static string WithForget(string forget, string extra = "") =>
        $$"""{ "schemaVersion": 1, "id": "req-1", "forget": {{forget}}{{extra}} }""";

    [Fact]
    public void Full_request_reads_every_field()
    {
        var json = """
            {
              "schemaVersion": 1,
              "id": "req-2026-11-042",
              "reason": "Erasure request 42",
              "forget": {
                "labels": [3],
                "samples": [ { "dataset": "feedback", "split": "train", "indices": [10, 11] } ]
              },
              "method": "fiun",
              "parameters": { "alpha": 0.50, "mode": "fast", "strict": true },
              "targets": { "maxForgetAccuracy": 0.01, "maxRetainDrop": 0.02 },
              "requestedAt": "2026-11-04T09:30:00Z"
            }
            """;

        var file = ReadRemoval(json);

        NoDiagnostics(file);
        var removal = file.Removal!;
        Assert.Equal(("req-2026-11-042", "Erasure request 42", "fiun"), (removal.Id, removal.Reason, removal.Method));
        Assert.Equal([3], removal.Labels);
        var sample = Assert.Single(removal.Samples);
        Assert.Equal(("feedback", "train"), (sample.Dataset, sample.Split));
        Assert.Equal([10, 11], sample.Indices);
        Assert.Equal(["alpha", "mode", "strict"], removal.Parameters.Keys);
        Assert.Equal(["0.50", "\"fast\"", "true"], removal.Parameters.Values);
        Assert.Equal((0.01, 0.02), (removal.Targets!.MaxForgetAccuracy, removal.Targets.MaxRetainDrop));
        Assert.Equal(TextPosition.Of(json, "\"targets\": »{"), (removal.TargetsLocation!.Line, removal.TargetsLocation.Column));
        Assert.Equal("2026-11-04T09:30:00Z", removal.RequestedAt);
    }

    [Fact]
    public void Minimal_request_has_no_method_and_no_targets()
    {
        var file = ReadRemoval(WithForget("""{ "labels": [3] }"""));

        NoDiagnostics(file);
        Assert.Null(file.Removal!.Method);
        Assert.Null(file.Removal.Targets);
        Assert.Empty(file.Removal.Samples);
    }

    [Theory]
    [InlineData("\\u0000", "\\u0000")]
    [InlineData("ticket \\u0007 42", "\\u0007")]
    [InlineData("approved \\u202e", "\\u202e")]
    public void A_reason_with_a_character_a_reader_cannot_see_is_the_warning_FUL1031_at_the_reason(string written, string shown)
    {
        var json = WithForget("""{ "labels": [3] }""", $", \"reason\": \"{written}\"");

        var file = ReadRemoval(json);

        var diagnostic = Only(file, "FUL1031", json, "\"reason\": »\"", "'reason'", shown);
        Assert.Equal(Severity.Warning, diagnostic.Severity);
        Assert.NotNull(file.Removal);
    }

    [Theory]
    [InlineData("harvest")]
    [InlineData("Harvest")]
    public void An_id_that_names_the_harvest_cache_folder_is_FUL1035(string id)
    {
        var json = WithForget("""{ "labels": [3] }""").Replace("\"id\": \"req-1\"", $"\"id\": \"{id}\"", StringComparison.Ordinal);

        Only(ReadRemoval(json), "FUL1035", json, $"\"id\": »\"{id}\"", $"'{id}'", "Fisher harvest cache ('harvest')");
    }

    [Theory]
    [InlineData("{ \"labels\": \"3\" }", "\"labels\": »\"3\"")]
    [InlineData("{ \"samples\": 7 }", "\"samples\": »7")]
    public void Labels_or_samples_of_the_wrong_type_are_one_error_not_also_nothing_to_forget(string forget, string marked)
    {
        var json = WithForget(forget);

        Only(ReadRemoval(json), "FUL1006", json, marked);
    }

    [Fact]
    public void A_reason_on_several_lines_with_tabs_is_fine()
    {
        NoDiagnostics(ReadRemoval(WithForget("""{ "labels": [3] }""", ", \"reason\": \"line one\\n\\tline two\"")));
    }

    [Theory]
    [InlineData("{ }")]
    [InlineData("{ \"labels\": [] }")]
    [InlineData("{ \"labels\": [], \"samples\": [] }")]
    public void Request_with_nothing_to_forget_is_FUL1019(string forget)
    {
        var json = WithForget(forget);

        Only(ReadRemoval(json), "FUL1019", json, "\"forget\": »{", "labels", "samples");
    }

    [Fact]
    public void Unknown_method_is_FUL1024_at_its_value_and_known_ones_keep_where_they_are_written()
    {
        var json = WithForget("""{ "labels": [3] }""", ", \"method\": \"fast-unlearn\"");
        var knownJson = WithForget("""{ "labels": [3] }""", ",\n  \"method\": \"SSD\", \"parameters\": { \"alpha\": 2 }");
        var known = ReadRemoval(knownJson);

        Only(ReadRemoval(json), "FUL1024", json, "\"method\": »\"fast-unlearn\"", "'fast-unlearn'", "fiun, ssd, retrain");
        NoDiagnostics(known);
        Assert.Equal("SSD", known.Removal!.Method);
        Assert.Equal(TextPosition.Of(knownJson, "\"method\": »\"SSD\""), (known.Removal.MethodLocation!.Line, known.Removal.MethodLocation.Column));
        Assert.Equal(TextPosition.Of(knownJson, "\"alpha\": »2"), (known.Removal.ParameterLocations["alpha"].Line, known.Removal.ParameterLocations["alpha"].Column));
    }

    [Fact]
    public void Missing_forget_is_FUL1007()
    {
        var json = """{ "schemaVersion": 1, "id": "req-1" }""";

        Only(ReadRemoval(json), "FUL1007", json, "»{", "'forget'");
    }

    [Fact]
    public void Split_other_than_train_or_test_is_FUL1020()
    {
        var json = WithForget("""{ "samples": [ { "dataset": "d", "split": "validation", "indices": [1] } ] }""");

        Only(ReadRemoval(json), "FUL1020", json, "\"split\": »\"validation\"", "'forget.samples[0].split'", "'validation'", "train, test");
    }

    [Fact]
    public void Duplicate_sample_indices_are_FUL1021()
    {
        var json = WithForget("""{ "samples": [ { "dataset": "d", "split": "train", "indices": [4, 5, 4] } ] }""");

        var file = ReadRemoval(json);

        Only(file, "FUL1021", json, "[4, 5, »4]", "'forget.samples[0].indices'", "index 4");
        Assert.Equal([4, 5], file.Removal!.Samples[0].Indices);
    }

    [Fact]
    public void An_index_listed_again_by_another_selection_of_the_same_split_is_FUL1021()
    {
        var json = WithForget("""{ "samples": [ { "dataset": "d", "split": "train", "indices": [4, 5] }, { "dataset": "d", "split": "train", "indices": [6, 5] }, { "dataset": "d", "split": "test", "indices": [5] } ] }""");

        var file = ReadRemoval(json);

        Only(file, "FUL1021", json, "\"indices\": »[6, 5]", "'forget.samples' (d, train)", "index 5");
    }

    [Fact]
    public void Duplicate_forgotten_labels_are_FUL1021()
    {
        var json = WithForget("""{ "labels": [3, 3] }""");

        Only(ReadRemoval(json), "FUL1021", json, "[3, »3]", "'forget.labels'", "label 3");
    }

    [Fact]
    public void Negative_sample_index_is_FUL1014()
    {
        var json = WithForget("""{ "samples": [ { "dataset": "d", "split": "train", "indices": [0, -1] } ] }""");

        Only(ReadRemoval(json), "FUL1014", json, "[0, »-1]", "'forget.samples[0].indices[1]'", "-1", "outside the positions of the split's samples (0 and up");
    }

    [Theory]
    [InlineData("2147483648")]
    [InlineData("99999999999999999999999")]
    public void A_sample_index_too_large_for_any_split_says_the_largest(string index)
    {
        var json = WithForget($$"""{ "samples": [ { "dataset": "d", "split": "train", "indices": [0, {{index}}] } ] }""");

        Only(ReadRemoval(json), "FUL1014", json, $"[0, »{index}]", "'forget.samples[0].indices[1]'", index, "(0 and up, in the order the data file stores them): at most 2,147,483,647");
    }

    [Fact]
    public void Negative_label_is_FUL1014_saying_a_label_is_a_class_index_of_its_dataset()
    {
        var json = WithForget("""{ "labels": [-1] }""");

        Only(ReadRemoval(json), "FUL1014", json, "[»-1]", "'forget.labels[0]'", "-1", "outside the class indices of a dataset (0 to its classes - 1, at most 99999)");
    }

    [Fact]
    public void Empty_index_list_is_FUL1022()
    {
        var json = WithForget("""{ "samples": [ { "dataset": "d", "split": "train", "indices": [] } ] }""");

        Only(ReadRemoval(json), "FUL1022", json, "\"indices\": »[]", "'forget.samples[0].indices'");
    }

    [Fact]
    public void Sample_selection_missing_its_fields_is_FUL1007_for_each()
    {
        var json = WithForget("""{ "samples": [ { "dataset": "d" } ] }""");

        var file = ReadRemoval(json);

        Assert.Equal(["FUL1007", "FUL1007"], Codes(file));
        Assert.Contains(file.Diagnostics, d => d.Message.Contains("'forget.samples[0].split'", StringComparison.Ordinal));
        Assert.Contains(file.Diagnostics, d => d.Message.Contains("'forget.samples[0].indices'", StringComparison.Ordinal));
    }

    [Fact]
    public void Target_outside_zero_to_one_is_FUL1014()
    {
        var json = WithForget("""{ "labels": [1] }""", """, "targets": { "maxForgetAccuracy": 5 }""");

        Only(ReadRemoval(json), "FUL1014", json, "\"maxForgetAccuracy\": »5", "'targets.maxForgetAccuracy'", "[0, 1]");
    }

    [Fact]
    public void Parameter_that_is_not_a_scalar_is_FUL1006()
    {
        var json = WithForget("""{ "labels": [1] }""", """, "parameters": { "alpha": 1, "layers": ["fc1"] }""");

        Only(ReadRemoval(json), "FUL1006", json, "\"layers\": »[", "'parameters.layers'", "a string, number or boolean");
    }

    [Fact]
    public void Parameters_named_x_are_ignored_whatever_their_value()
    {
        // docs/methods.md: names starting 'x-' are ignored; QA found "x-foo": {"a":1} refused as FUL1006.
        var json = WithForget("""{ "labels": [1] }""", """, "parameters": { "alpha": 1, "x-note": "why", "x-foo": { "a": 1 }, "x-list": [1, 2], "x-none": null }""");

        var file = ReadRemoval(json);

        NoDiagnostics(file);
        Assert.Equal("1", file.Removal!.Parameters["alpha"]);
        Assert.DoesNotContain("x-foo", file.Removal.Parameters.Keys);
    }

    [Fact]
    public void Request_date_that_is_not_iso_8601_is_FUL1020()
    {
        var json = WithForget("""{ "labels": [1] }""", """, "requestedAt": "04/11/2026" """);

        Only(ReadRemoval(json), "FUL1020", json, "\"requestedAt\": »\"04", "'requestedAt'", "'04/11/2026'", "ISO 8601");
    }

    [Theory]
    [InlineData("2026-11-04")]
    [InlineData("2026-11-04T09:30:00+01:00")]
    [InlineData("2026-11-04T09:30:00.123Z")]
    public void Iso_8601_request_dates_are_accepted(string date)
    {
        NoDiagnostics(ReadRemoval(WithForget("""{ "labels": [1] }""", $$""", "requestedAt": "{{date}}" """)));
    }

    [Fact]
    public void Misspelt_forget_field_is_FUL1005_with_a_suggestion()
    {
        var json = WithForget("""{ "label": [1] }""");

        var file = ReadRemoval(json);

        Single(file, "FUL1005", json, "»\"label\"", "'forget.label'", "did you mean 'labels'?");
        Single(file, "FUL1019", json, "\"forget\": »{");
    }
}
