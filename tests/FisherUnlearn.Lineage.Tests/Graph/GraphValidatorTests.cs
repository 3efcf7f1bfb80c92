using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Graph;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Lineage.Tests.Graph;

public sealed class GraphValidatorTests
{
    private static WorkspaceBuilder Digits() => new WorkspaceBuilder()
        .Dataset("mnist", classes: 10, trainCount: 1000)
        .Model("digits-base", data: ["mnist:0-6"]);

    private static Diagnostic Single(Workspace workspace, string code)
    {
        var diagnostics = GraphValidator.Validate(workspace);
        return Assert.Single(diagnostics, d => d.Code == code);
    }

    [Fact]
    public void A_valid_workspace_has_no_diagnostics()
    {
        var workspace = Digits()
            .Model("plus-7", data: ["mnist:7"], parents: ["digits-base"])
            .Model("head", data: ["mnist:1"], parents: ["digits-base"], relation: Relation.Transfer)
            .Model("fed", data: ["mnist"], parents: ["plus-7", "head"], relation: Relation.Aggregate)
            .Model("student", data: ["mnist"], parents: ["fed"], relation: Relation.Distill, architecture: WorkspaceBuilder.Mlp(10, 784, 16))
            .Removal("forget-3", labels: [3], samples: [WorkspaceBuilder.Samples("mnist", 1, 2, 999)])
            .Build();

        Assert.Empty(GraphValidator.Validate(workspace));
    }

    [Fact]
    public void Unknown_parent_is_reported_at_the_link_with_a_suggestion()
    {
        var workspace = Digits().Model("plus-7", data: ["mnist:7"], parents: ["digit-base"]).Build();

        var d = Single(workspace, "FUL2001");

        Assert.Equal(workspace.Models["plus-7"].Parents[0].Location, d.Location);
        Assert.Contains("'digit-base'", d.Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'digits-base'?", d.Message, StringComparison.Ordinal);
        Assert.True(d.Location.Line > 1);
    }

    [Fact]
    public void An_unknown_parent_is_never_answered_with_the_models_own_id_and_the_message_says_where_a_manifest_may_be_left_out()
    {
        // digits-plus-5's manifest excluded: digits-plus-6, one letter away, must not be offered as its own parent.
        var workspace = Digits().Model("digits-plus-6", data: ["mnist:6"], parents: ["digits-plus-5"]).Build();

        var d = Single(workspace, "FUL2001");

        Assert.DoesNotContain("did you mean 'digits-plus-6'", d.Message, StringComparison.Ordinal);
        Assert.Contains("'exclude' of unlearn.json", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_dataset_in_data_is_reported_at_the_data_use()
    {
        var workspace = Digits().Model("other", data: ["mnist:1", "mnits:2"]).Build();

        var d = Single(workspace, "FUL2002");

        Assert.Equal(workspace.Models["other"].Data[1].Location, d.Location);
        Assert.Contains("'mnits'", d.Message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'mnist'?", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_dataset_in_removal_samples_is_reported_at_the_selection()
    {
        var workspace = Digits().Removal("erase", samples: [WorkspaceBuilder.Samples("mnist", 1), WorkspaceBuilder.Samples("feedback", 4)]).Build();

        var d = Single(workspace, "FUL2002");

        Assert.Equal(workspace.Removals["erase"].Samples[1].Location, d.Location);
        Assert.Contains("'feedback'", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Self_parent_is_reported()
    {
        var workspace = Digits().Model("loop", data: ["mnist"], parents: ["loop"]).Build();

        var d = Single(workspace, "FUL2004");

        Assert.Equal(workspace.Models["loop"].Parents[0].Location, d.Location);
        Assert.Contains("'loop'", d.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(GraphValidator.Validate(workspace), x => x.Code == "FUL2003");
    }

    [Theory]
    [InlineData(Relation.Aggregate)]
    [InlineData(Relation.Merge)]
    public void Combining_relation_with_one_parent_is_reported(Relation relation)
    {
        var workspace = Digits().Model("fed", data: ["mnist"], parents: ["digits-base"], relation: relation).Build();

        var d = Single(workspace, "FUL2005");

        Assert.Equal(workspace.Models["fed"].Parents[0].Location, d.Location);
        Assert.Contains("'fed'", d.Message, StringComparison.Ordinal);
        Assert.Contains($"'{relation.ToName()}'", d.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Relation.Finetune)]
    [InlineData(Relation.Transfer)]
    [InlineData(Relation.Distill)]
    public void Single_parent_relation_with_two_parents_is_reported_at_the_second(Relation relation)
    {
        var workspace = Digits()
            .Model("other", data: ["mnist"])
            .Model("child", data: ["mnist"], parents: ["digits-base", "other"], relation: relation)
            .Build();

        var d = Single(workspace, "FUL2008");

        Assert.Equal(workspace.Models["child"].Parents[1].Location, d.Location);
        Assert.Contains("'child'", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_parent_is_reported_at_the_repetition()
    {
        var workspace = Digits().Model("child", data: ["mnist"], parents: ["digits-base", "digits-base"], relation: Relation.Finetune).Build();

        var diagnostics = GraphValidator.Validate(workspace);

        var d = Assert.Single(diagnostics);
        Assert.Equal("FUL2009", d.Code);
        Assert.Equal(workspace.Models["child"].Parents[1].Location, d.Location);
        Assert.Contains("'digits-base'", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mixed_relations_are_reported_at_the_first_odd_link()
    {
        var workspace = Digits()
            .Model("other", data: ["mnist"])
            .Model("child", data: ["mnist"], parents: ["digits-base:aggregate", "other:merge"])
            .Build();

        var d = Single(workspace, "FUL2010");

        Assert.Equal(workspace.Models["child"].Parents[1].Location, d.Location);
        Assert.Contains("aggregate, merge", d.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(GraphValidator.Validate(workspace), x => x.Code is "FUL2005" or "FUL2008");
    }

    [Fact]
    public void Architecture_mismatch_is_reported_for_weight_inheritance_but_not_distillation()
    {
        var small = WorkspaceBuilder.Mlp(10, 784, 16);
        var workspace = Digits()
            .Model("finetuned", data: ["mnist"], parents: ["digits-base"], architecture: small)
            .Model("student", data: ["mnist"], parents: ["digits-base"], relation: Relation.Distill, architecture: small)
            .Build();

        var d = Single(workspace, "FUL2011");

        Assert.Equal(workspace.Models["finetuned"].Parents[0].Location, d.Location);
        Assert.Contains("'finetuned' (mlp 784-16-10)", d.Message, StringComparison.Ordinal);
        Assert.Contains("'digits-base' (mlp 784-32-10)", d.Message, StringComparison.Ordinal);
        // The parent's architecture may be the wrong one: where it is written is named too.
        var parent = workspace.Models["digits-base"];
        Assert.Contains($"or the one of 'digits-base' at {workspace.Relative((parent.ArchitectureLocation ?? parent.Location).File)}", d.Message, StringComparison.Ordinal);
        Assert.EndsWith("to learn from a model of another architecture, use 'distill'.", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_student_with_another_number_of_classes_than_its_teacher_is_reported_at_the_parent_link()
    {
        var workspace = Digits()
            .Model("student", data: ["mnist"], parents: ["digits-base"], relation: Relation.Distill, architecture: WorkspaceBuilder.Mlp(12, 784, 16))
            .Model("good-student", data: ["mnist"], parents: ["digits-base"], relation: Relation.Distill, architecture: WorkspaceBuilder.Mlp(10, 784, 16))
            .Build();

        var d = Single(workspace, "FUL2016");

        Assert.Equal(workspace.Models["student"].Parents[0].Location, d.Location);
        Assert.Contains("'student' (12 classes) distils 'digits-base' (10 classes)", d.Message, StringComparison.Ordinal);
        Assert.Contains("Set architecture.classes to 10", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cycle_is_named_and_reported_once()
    {
        var workspace = Digits()
            .Model("c", data: ["mnist"], parents: ["b"])
            .Model("b", data: ["mnist"], parents: ["a"])
            .Model("a", parents: ["digits-base", "c"], relation: Relation.Aggregate)
            .Build();

        var d = Single(workspace, "FUL2003");

        Assert.Contains("a -> b -> c -> a", d.Message, StringComparison.Ordinal);
        Assert.Equal(workspace.Models["a"].Parents[1].Location, d.Location);
    }

    [Fact]
    public void Two_separate_cycles_are_two_diagnostics()
    {
        var workspace = Digits()
            .Model("a", data: ["mnist"], parents: ["b"])
            .Model("b", data: ["mnist"], parents: ["a"])
            .Model("x", data: ["mnist"], parents: ["z"])
            .Model("y", data: ["mnist"], parents: ["x"])
            .Model("z", data: ["mnist"], parents: ["y"])
            .Build();

        var cycles = GraphValidator.Validate(workspace).Where(d => d.Code == "FUL2003").Select(d => d.Message).ToList();

        Assert.Equal(2, cycles.Count);
        Assert.Contains(cycles, m => m.Contains("a -> b -> a", StringComparison.Ordinal));
        Assert.Contains(cycles, m => m.Contains("x -> y -> z -> x", StringComparison.Ordinal));
    }

    [Fact]
    public void Labels_outside_the_dataset_are_reported_at_the_data_use()
    {
        var workspace = Digits().Model("odd", data: ["mnist:9-11"]).Build();

        var diagnostics = GraphValidator.Validate(workspace).Where(d => d.Code == "FUL1016").ToList();

        Assert.Equal(2, diagnostics.Count);
        Assert.All(diagnostics, d => Assert.Equal(workspace.Models["odd"].Data[0].Location, d.Location));
        Assert.Contains("Label 10 is outside 0..9", diagnostics[0].Message, StringComparison.Ordinal);
        Assert.Contains("'mnist'", diagnostics[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_classes_value_refused_in_its_own_file_brings_no_follow_on_errors()
    {
        // A refused 'classes' reads as 0: neither "outside 0..-1" nor "has 0 output classes" would help.
        var workspace = new WorkspaceBuilder()
            .Dataset("zero", classes: 0)
            .Dataset("mnist")
            .Model("a", data: ["zero:1", "mnist:1"], architecture: WorkspaceBuilder.Mlp(0))
            .Build();

        var codes = GraphValidator.Validate(workspace).Select(d => d.Code).ToList();

        Assert.DoesNotContain("FUL1016", codes);
        Assert.DoesNotContain("FUL2015", codes);
    }

    [Fact]
    public void A_removal_labels_are_not_checked_against_a_dataset_whose_classes_was_refused()
    {
        // QA: "classes": 1 in mnist.dataset.json (FUL1014 there) also gave every removal "Label 3 is outside 0..-1 (the 0
        // classes of 'mnist' ...)". With one dataset's classes unknown, no label can be said to be beyond them all.
        var onlyRefused = new WorkspaceBuilder().Dataset("mnist", classes: 0).Removal("forget-3", labels: [3]).Build();
        var oneRefused = Digits().Dataset("letters", classes: 0).Removal("forget-12", labels: [12]).Build();

        Assert.DoesNotContain("FUL1016", GraphValidator.Validate(onlyRefused).Select(d => d.Code));
        Assert.DoesNotContain("FUL1016", GraphValidator.Validate(oneRefused).Select(d => d.Code));
    }

    [Fact]
    public void A_removal_label_is_out_of_range_only_when_no_dataset_has_it()
    {
        var workspace = Digits()
            .Dataset("letters", classes: 26)
            .Removal("fine", labels: [12])
            .Removal("wrong", labels: [3, 26])
            .Build();

        var d = Single(workspace, "FUL1016");

        Assert.Equal(workspace.Removals["wrong"].Location, d.Location);
        Assert.Contains("Label 26 is outside 0..25", d.Message, StringComparison.Ordinal);
        Assert.Contains("'letters'", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_output_layer_smaller_than_the_dataset_is_reported()
    {
        var workspace = Digits()
            .Dataset("letters", classes: 26)
            .Model("narrow", data: ["letters:0-3", "letters:4"], architecture: WorkspaceBuilder.Mlp(10))
            .Build();

        var d = Single(workspace, "FUL2015");

        Assert.Equal(workspace.Models["narrow"].Data[0].Location, d.Location);
        Assert.Contains("'narrow' has 10 output classes", d.Message, StringComparison.Ordinal);
        Assert.Contains("'letters', which has 26 classes", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sample_indices_beyond_the_declared_count_are_reported()
    {
        var workspace = Digits().Removal("erase", samples: [WorkspaceBuilder.Samples("mnist", 3, 1000)]).Build();

        var d = Single(workspace, "FUL2013");

        Assert.Equal(workspace.Removals["erase"].Samples[0].Location, d.Location);
        Assert.Contains("Sample index 1000", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_reported_in_a_stable_order_with_canonical_locations()
    {
        var builder = Digits()
            .Model("z-bad", data: ["nope"], parents: ["ghost"])
            .Model("a-bad", data: ["mnist:42"], parents: ["a-bad", "digits-base"], relation: Relation.Merge)
            .Removal("erase", samples: [WorkspaceBuilder.Samples("gone", 1)]);

        var first = GraphValidator.Validate(builder.Build());
        var second = GraphValidator.Validate(builder.Build());

        Assert.Equal(["FUL2004", "FUL1016", "FUL2002", "FUL2001", "FUL2002"], first.Select(d => d.Code));
        Assert.Equal(first, second);
        var canonical = first[0].ToCanonicalString();
        Assert.Matches(@"a-bad\.lineage\.json\(\d+,5\): error FUL2004: ", canonical);
    }
}
