using System.CommandLine;

namespace FisherUnlearn.Tool.Cli;

/// <summary>Options every command takes (design.md section 4).</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Workspace { get; } = new("--workspace", "-w")
    {
        Description = "The workspace folder (default: the nearest folder upwards holding unlearn.json, else the current folder; init: the current folder; demo: its <dir>).",
        Recursive = true,
        HelpName = "dir",
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print one JSON document on stdout; logs and progress go to stderr.",
        Recursive = true,
    };

    public Option<Verbosity> Verbosity { get; } = new("--verbosity", "-v")
    {
        Description = "How much to log on stderr: quiet, normal or detailed (q, n, d as with dotnet).",
        Recursive = true,
        HelpName = "quiet|normal|detailed",
        DefaultValueFactory = _ => Cli.Verbosity.Normal,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value.Trim().ToLowerInvariant() : string.Empty;
            switch (text)
            {
                case "q" or "quiet":
                    return Cli.Verbosity.Quiet;
                case "n" or "normal" or "m" or "minimal":
                    return Cli.Verbosity.Normal;
                case "d" or "detailed" or "diag" or "diagnostic":
                    return Cli.Verbosity.Detailed;
                default:
                    result.AddError($"'{(result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty)}' is not a verbosity: use quiet, normal or detailed.");
                    return Cli.Verbosity.Normal;
            }
        },
    };

    public Option<bool> NoProgress { get; } = new("--no-progress")
    {
        Description = "No live progress display; one line per finished item instead.",
        Recursive = true,
    };

    public IEnumerable<Option> All => [Workspace, Json, Verbosity, NoProgress];
}
