using System.Text;
using System.Text.RegularExpressions;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>
/// A glob over parameter names (<c>training.trainable</c>), matched against the whole PyTorch-style name such as
/// <c>fc3.weight</c>: <c>*</c> matches any run of characters (dots included), <c>?</c> one character; everything
/// else is literal and case-sensitive. So <c>fc3.*</c> selects <c>fc3.weight</c> and <c>fc3.bias</c>, and
/// <c>*.bias</c> every bias. Shell classes and alternatives (<c>[12]</c>, <c>{a,b}</c>) are not syntax here: their
/// characters are literal, and FUL4061 says so when such a glob matches nothing (found in QA: <c>fc[12].*</c>).
/// </summary>
public sealed class ParameterGlob
{
    private readonly Regex regex;

    public ParameterGlob(string pattern)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        Pattern = pattern;
        var text = new StringBuilder("^");
        foreach (var c in pattern)
        {
            text.Append(c switch
            {
                '*' => ".*",
                '?' => ".",
                _ => Regex.Escape(c.ToString()),
            });
        }

        regex = new Regex(text.Append('$').ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }

    public string Pattern { get; }

    public bool IsMatch(string name) => regex.IsMatch(name);

    /// <summary>Why this glob matched none of a module's parameters, for FUL4061: that it matches none, and, when it
    /// holds characters other glob dialects give a meaning, that they are literal here.</summary>
    public string NoMatchReason() =>
        $"the trainable glob '{Pattern}' matches no parameter"
        + (Pattern.AsSpan().IndexOfAny("[]{}") >= 0
            ? " ('[', ']', '{' and '}' are literal characters here, not classes or alternatives: list one glob per layer instead, such as \"fc1.*\", \"fc2.*\")"
            : string.Empty);

    public override string ToString() => Pattern;
}
