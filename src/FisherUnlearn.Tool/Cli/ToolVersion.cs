using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using FisherUnlearn.Tool.Output;

namespace FisherUnlearn.Tool.Cli;

/// <summary>
/// <c>dotnet unlearn --version</c>: the tool's version on stdout, as text, or with <c>--json</c> as the one document
/// <c>{ "schemaVersion": 1, "toolVersion": "..." }</c> (the same <c>toolVersion</c> as report.json), so a script can
/// compare them. The global options (<c>--json</c>, <c>--verbosity</c>, <c>--no-progress</c>, <c>--workspace</c>) may
/// come with it, as with every command; anything else (a command, an argument) is a usage error.
/// </summary>
internal static class ToolVersion
{
    public static void Configure(RootCommand root, GlobalOptions options)
    {
        var version = root.Options.OfType<VersionOption>().Single();
        version.Action = new PrintVersion(options);
        version.Validators.Clear();
        version.Validators.Add(result =>
        {
            if (result.Parent is CommandResult parent && parent.Children.Any(child => child switch
            {
                OptionResult option => option.Option is not VersionOption && !options.All.Contains(option.Option) && !option.Implicit,
                ArgumentResult argument => !argument.Implicit,
                _ => true, // a command
            }))
            {
                result.AddError($"{result.IdentifierToken?.Value ?? "--version"} takes no command or argument (only the global options such as --json).");
            }
        });
    }

    public static Newtonsoft.Json.Linq.JObject Document() => new()
    {
        ["schemaVersion"] = JsonDocuments.SchemaVersion,
        ["toolVersion"] = CliApp.Version,
    };

    private sealed class PrintVersion(GlobalOptions options) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine(parseResult.GetValue(options.Json) ? Document().ToString(Newtonsoft.Json.Formatting.Indented) : CliApp.Version);
            return ExitCodes.Ok;
        }
    }
}
