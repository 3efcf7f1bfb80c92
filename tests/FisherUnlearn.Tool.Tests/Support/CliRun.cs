using FisherUnlearn.Tool.Cli;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Tests.Support;

/// <summary>The outcome of running <c>dotnet unlearn</c> in-process.</summary>
internal sealed record CliRun(int ExitCode, string Out, string Error)
{
    public static async Task<CliRun> InvokeAsync(string currentDirectory, params string[] args) =>
        await InvokeAsync(currentDirectory, new Dictionary<string, string>(), args);

    public static async Task<CliRun> InvokeAsync(string currentDirectory, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        await InvokeAsync(currentDirectory, environment, errorIsTerminal: false, args);

    /// <summary>As a person at a terminal runs it: stderr counts as a terminal, so live displays are drawn (outside CI).</summary>
    public static async Task<CliRun> InvokeInTerminalAsync(string currentDirectory, params string[] args) =>
        await InvokeAsync(currentDirectory, new Dictionary<string, string>(), errorIsTerminal: true, args);

    /// <summary>As <see cref="InvokeInTerminalAsync(string, string[])"/>, with these environment variables.</summary>
    public static async Task<CliRun> InvokeInTerminalAsync(string currentDirectory, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        await InvokeAsync(currentDirectory, environment, errorIsTerminal: true, args);

    private static async Task<CliRun> InvokeAsync(string currentDirectory, IReadOnlyDictionary<string, string> environment, bool errorIsTerminal, string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var context = new CliContext(output, error, name => environment.TryGetValue(name, out var value) ? value : null, currentDirectory, errorIsTerminal);
        var exitCode = await CliApp.RunAsync(args, context, TestContext.Current.CancellationToken);
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    public JObject Json => JObject.Parse(Out);

    /// <summary>The last frame of a live table on stderr (from its last top border), colours dropped.</summary>
    public string LastLiveFrame =>
        System.Text.RegularExpressions.Regex.Replace(Error[Error.LastIndexOf('╭')..Error.LastIndexOf('╯')], @"\x1b\[[0-9;?]*[A-Za-z]", string.Empty);

    /// <summary>The lines written after the live table.</summary>
    public IEnumerable<string> LinesAfterLiveTable =>
        Error[(Error.LastIndexOf('╯') + 1)..].Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => System.Text.RegularExpressions.Regex.Replace(l, @"\x1b\[[0-9;?]*[A-Za-z]", string.Empty)).Where(l => l.Length > 0);

    public IEnumerable<string> ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
