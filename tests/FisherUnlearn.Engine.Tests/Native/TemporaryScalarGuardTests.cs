using System.Text.RegularExpressions;
using FisherUnlearn.Testing;

namespace FisherUnlearn.Engine.Tests.Native;

/// <summary>
/// A guard against new sites of the TorchSharp 0.107 Scalar-lifetime race (docs/engine-notes.md): a temporary Scalar
/// that the finalizer thread frees while libtorch still reads it fails a run, rarely, with "Expected false to be true"
/// (CI, twenty-fifth session: the probe's <c>add(bias)</c>, written after the sweep). The engine's source is scanned for
/// the forms that make one: <c>add(Tensor)</c> and <c>add_(Tensor)</c> with TorchSharp's own alpha, <c>square()</c>, and a
/// number literal passed where a Scalar is taken. It is a text scan, not the Roslyn scanner the notes describe: it
/// catches the usual forms, not an implicit conversion of a variable.
/// </summary>
public sealed partial class TemporaryScalarGuardTests
{
    [Fact]
    public void The_engine_passes_no_temporary_scalar_in_the_forms_that_make_one()
    {
        var engine = RepoPaths.PathOf("src/FisherUnlearn.Engine");
        var found = Directory.EnumerateFiles(engine, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => Sites(File.ReadAllLines(f)).Select(s => $"{Path.GetRelativePath(engine, f)}:{s.Line}: {s.Text}"))
            .ToList();

        Assert.True(found.Count == 0, "Temporary Scalars (hold them: HeldScalars, or 'using var s = value.ToScalar()'):\n" + string.Join("\n", found));
    }

    [Theory]
    [InlineData("var logits = x.matmul(w).add(bias);")]
    [InlineData("sum.add_(other);")]
    [InlineData("var s = grad.square();")]
    [InlineData("x.mul(0.5).clamp(0, 1);")]
    [InlineData("head.sub_(-1.5);")]
    public void The_scan_finds_each_form(string line)
    {
        Assert.Single(Sites([line]));
    }

    [Theory]
    [InlineData("var logits = x.matmul(w).Plus(bias);")]
    [InlineData("sum.add_(other, IntOne);")]
    [InlineData("grad = grad.add(parameter, alpha: weightDecay);")]
    [InlineData("/// <summary><c>x.square()</c> with a held exponent.</summary>")]
    [InlineData("x.mul(half); // not x.mul(0.5)")]
    [InlineData("var n = list.Count; values.Add(3);")]
    public void Held_scalars_comments_and_other_calls_pass(string line)
    {
        Assert.Empty(Sites([line]));
    }

    private static IEnumerable<(int Line, string Text)> Sites(IReadOnlyList<string> lines)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            var code = lines[i].TrimStart();
            if (code.StartsWith("//", StringComparison.Ordinal))
            {
                continue;
            }

            var comment = code.IndexOf("//", StringComparison.Ordinal);
            code = comment >= 0 ? code[..comment] : code;
            if (SingleArgumentAdd().IsMatch(code) || code.Contains(".square()", StringComparison.Ordinal) || NumberAsScalar().IsMatch(code))
            {
                yield return (i + 1, lines[i].Trim());
            }
        }
    }

    // .add(x) or .add_(x) with one argument (one level of parentheses inside it allowed): TorchSharp passes alpha 1 itself.
    [GeneratedRegex(@"\.add_?\((?:[^(),]|\([^()]*\))+\)")]
    private static partial Regex SingleArgumentAdd();

    // A number literal where a tensor operation takes a Scalar: an implicit double/int -> Scalar conversion.
    [GeneratedRegex(@"\.(?:mul|div|add|sub|pow|clamp|fill|gt|lt|ge|le|eq|ne|remainder|fmod)_?\(\s*-?[0-9]")]
    private static partial Regex NumberAsScalar();
}
