using FisherUnlearn.Lineage.IO;

namespace FisherUnlearn.Lineage.Tests.IO;

public sealed class RelativePathRules
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "repo");

    [Theory]
    [InlineData("models/a.lineage.json", "models/a.lineage.json")]
    [InlineData("..hidden/a.removal.json", "..hidden/a.removal.json")]
    [InlineData("a/../b.dataset.json", "b.dataset.json")]
    public void A_file_inside_the_root_is_shown_relative_to_it_with_forward_slashes(string inside, string shown) =>
        Assert.Equal(shown, RelativePath.Within(Root, Path.Combine(Root, inside)));

    [Theory]
    [InlineData("../other/a.lineage.json")]
    [InlineData("..")]
    [InlineData("../repo-two/x.safetensors")]
    public void A_file_outside_the_root_has_no_relative_form(string outside) =>
        Assert.Null(RelativePath.Within(Root, Path.GetFullPath(Path.Combine(Root, outside))));

    [Fact]
    public void A_path_that_is_not_fully_qualified_has_no_relative_form() =>
        Assert.Null(RelativePath.Within(Root, "models/a.lineage.json"));

    [Fact]
    public void The_root_itself_is_dot() => Assert.Equal(".", RelativePath.Within(Root, Root));
}
