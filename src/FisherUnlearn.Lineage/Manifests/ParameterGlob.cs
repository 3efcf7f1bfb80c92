using System.Text;
using System.Text.RegularExpressions;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>
/// A glob over parameter names (<c>training.trainable</c>), matched against the whole PyTorch-style name such as
/// <c>fc3.weight</c>: <c>*</c> matches any run of characters (dots included), <c>?</c> one character; everything
/// else is literal and case-sensitive. So <c>fc3.*</c> selects <c>fc3.weight</c> and <c>fc3.bias</c>, and
/// <c>*.bias</c> every bias.
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

    public override string ToString() => Pattern;
}
