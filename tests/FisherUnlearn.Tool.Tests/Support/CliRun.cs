using FisherUnlearn.Tool.Cli;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Tests.Support;

/// <summary>The outcome of running <c>dotnet unlearn</c> in-process.</summary>
internal sealed record CliRun(int ExitCode, string Out, string Error)
{
    public static async Task<CliRun> InvokeAsync(string currentDirectory, params string[] args) =>
        await InvokeAsync(currentDirectory, new Dictionary<string, string>(), args);

    public static async Task<CliRun> InvokeAsync(string currentDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var context = new CliContext(output, error, name => environment.TryGetValue(name, out var value) ? value : null, currentDirectory);
        var exitCode = await CliApp.RunAsync(args, context, TestContext.Current.CancellationToken);
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    public JObject Json => JObject.Parse(Out);

    public IEnumerable<string> ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
