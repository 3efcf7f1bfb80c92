using System.CommandLine;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Text;

namespace FisherUnlearn.Tool.Cli;

/// <summary>The <c>--method</c> option of <c>run</c>, <c>verify</c> and <c>plan --check</c>: a method the engine knows
/// (case and surrounding spaces aside, as in manifests), checked as the command line is parsed, so a typo is a usage error
/// with a did-you-mean before the workspace is read, not a later error about something else.</summary>
internal static class MethodOption
{
    public static Option<string?> Create(string description)
    {
        var option = new Option<string?>("--method") { Description = description, HelpName = "method" };
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count == 1 && result.Tokens[0].Value is { Length: > 0 } given && !string.IsNullOrWhiteSpace(given)
                && !RemovalManifest.Methods.Contains(given.Trim().ToLowerInvariant()))
            {
                result.AddError($"'{given}' is not a method: --method takes {string.Join(", ", RemovalManifest.Methods)}{EditDistance.DidYouMean(given.Trim(), RemovalManifest.Methods)}.");
            }
        });
        return option;
    }
}
