using CsCheck;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Lineage.Tests.Planning;

public sealed class ShardRules
{
    [Theory]
    [InlineData("1/1", 1, 1)]
    [InlineData("2/4", 2, 4)]
    [InlineData("12/12", 12, 12)]
    public void Valid_shard_texts_parse(string text, int index, int count)
    {
        Assert.True(Shard.TryParse(text, out var shard));
        Assert.Equal(new Shard(index, count), shard);
        Assert.Equal(text, shard.ToString());
    }

    [Theory]
    [InlineData("0/4")]
    [InlineData("5/4")]
    [InlineData("1/0")]
    [InlineData("-1/4")]
    [InlineData("1-4")]
    [InlineData("a/b")]
    [InlineData("")]
    [InlineData(null)]
    public void Invalid_shard_texts_are_refused(string? text) => Assert.False(Shard.TryParse(text, out _));

    [Fact]
    public void Shards_partition_the_affected_models_whatever_the_count()
    {
        Gen.Int[1, 40].Select(Gen.Int[1, 12]).Sample((models, count) =>
        {
            var builder = new WorkspaceBuilder().Dataset("d", classes: 2).Model("m0", data: ["d:0"]);
            for (var i = 1; i < models; i++)
            {
                builder.Model($"m{i}", data: ["d:1"], parents: [$"m{(i - 1) / 2}"]);
            }

            var workspace = builder.Removal("r", labels: [0]).Build();
            var plan = Planner.Plan(workspace, "r").Value!;

            var shares = Enumerable.Range(1, count).Select(i => new Shard(i, count).Select(plan)).ToList();

            Assert.Equal(plan.Affected.Select(a => a.Id).Order(StringComparer.Ordinal), shares.SelectMany(s => s).Order(StringComparer.Ordinal));
            Assert.True(shares.Max(s => s.Count) - shares.Min(s => s.Count) <= 1);
        });
    }

    [Fact]
    public void A_matrix_has_one_shard_per_affected_model_up_to_the_limit()
    {
        var workspace = new WorkspaceBuilder().Dataset("d", classes: 2)
            .Model("a", data: ["d:0"]).Model("b", data: ["d:1"], parents: ["a"]).Model("c", data: ["d:1"], parents: ["a"])
            .Removal("r", labels: [0]).Build();
        var plan = Planner.Plan(workspace, "r").Value!;

        Assert.Equal(3, Shard.For(plan, maxJobs: 8).Count);
        Assert.Equal([new Shard(1, 2), new Shard(2, 2)], Shard.For(plan, maxJobs: 2));
    }
}
