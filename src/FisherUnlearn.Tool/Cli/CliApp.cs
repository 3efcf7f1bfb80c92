using System.CommandLine;
using System.Reflection;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Tool.Commands;
using FisherUnlearn.Tool.Output;

namespace FisherUnlearn.Tool.Cli;

/// <summary>Builds the <c>dotnet unlearn</c> command line and runs it against a <see cref="CliContext"/>.</summary>
internal static class CliApp
{
    public static string Version { get; } =
        typeof(CliApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public static RootCommand Build(CliContext context)
    {
        var options = new GlobalOptions();
        var root = new RootCommand($"dotnet unlearn {Version}: make every model in a lineage forget what a removal request names, in parallel.");
        foreach (var option in options.All)
        {
            root.Options.Add(option);
        }

        ToolVersion.Configure(root, options);

        root.Subcommands.Add(InitCommand.Create(context, options));
        root.Subcommands.Add(ValidateCommand.Create(context, options));
        root.Subcommands.Add(PlanCommand.Create(context, options));
        root.Subcommands.Add(GraphCommand.Create(context, options));
        root.Subcommands.Add(TrainCommand.Create(context, options));
        root.Subcommands.Add(HarvestCommand.Create(context, options));
        root.Subcommands.Add(RunCommand.Create(context, options));
        root.Subcommands.Add(VerifyCommand.Create(context, options));
        root.Subcommands.Add(StatusCommand.Create(context, options));
        root.Subcommands.Add(DemoCommand.Create(context, options));
        root.Subcommands.Add(WorkerCommand.Create(context, options));
        return root;
    }

    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        var parseResult = Build(context).Parse(args);
        var exitCode = await InvokeAsync(parseResult, args, context, cancellationToken).ConfigureAwait(false);
        if (exitCode != ExitCodes.Ok && args.Contains("--json", StringComparer.Ordinal) && !context.WroteOutput)
        {
            // --json promises one JSON document on stdout: a command stopped by an error before its own gets this one
            // ("command" null when no command was recognised: QA read an empty string as a command's name).
            var command = parseResult.CommandResult.Command is RootCommand ? null : parseResult.CommandResult.Command.Name;
            context.Out.WriteLine(JsonDocuments.Failure(command, exitCode, context.Reported, context).ToString(Newtonsoft.Json.Formatting.Indented));
        }

        return exitCode;
    }

    // "Unknown command 'vlidate' (did you mean 'validate'?)" when the first word is not a command of the tool; else null.
    private static string? UnknownCommand(ParseResult parseResult)
    {
        if (parseResult.CommandResult.Command is not RootCommand root || parseResult.UnmatchedTokens.FirstOrDefault(t => !t.StartsWith('-')) is not { } first)
        {
            return null;
        }

        var names = root.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToList();
        return root.Subcommands.Any(c => c.Name == first || c.Aliases.Contains(first))
            ? null
            : $"Unknown command '{first}'{Lineage.Text.EditDistance.DidYouMean(first, names)}. The commands: {string.Join(", ", names)}";
    }

    private static async Task<int> InvokeAsync(ParseResult parseResult, string[] args, CliContext context, CancellationToken cancellationToken)
    {
        var problems = OptionValues.Check(parseResult, args);
        if (parseResult.Errors.Count > 0 || problems.Count > 0)
        {
            var writer = new DiagnosticWriter(context, Verbosity.Normal);
            foreach (var problem in problems)
            {
                writer.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null, problem.Message));
            }

            // An unknown command is one problem, not System.CommandLine's two ("Required command was not provided" and
            // "Unrecognized command or argument"): say it once, with the nearest command.
            var unknown = problems.Count == 0 ? UnknownCommand(parseResult) : null;
            if (unknown is not null)
            {
                writer.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null, unknown));
            }

            // System.CommandLine's own errors only when there are none of those: an option that took the next option as
            // its value shifts what follows ("-m -v q": 'q' unmatched, "--threads --json": '--json' not a number).
            var valuesOfUnknownOptions = new HashSet<string>(StringComparer.Ordinal);
            // "dotnet unlearn --verison": the misspelt option is the one problem, not also a command not given.
            var misspeltOption = parseResult.Errors.Any(e => UnrecognizedToken(e.Message) is { Length: > 1 } t && t.StartsWith('-'));
            foreach (var error in problems.Count > 0 || unknown is not null ? [] : parseResult.Errors)
            {
                if (misspeltOption && error.Message == "Required command was not provided.")
                {
                    continue;
                }

                // An option misspelt ("--metod ssd"): one error with the nearest option, not a second for its value.
                if (UnrecognizedToken(error.Message) is { } token)
                {
                    if (valuesOfUnknownOptions.Contains(token))
                    {
                        continue;
                    }

                    if (token.StartsWith('-') && token.Length > 1)
                    {
                        var at = Array.IndexOf(args, token);
                        if (at >= 0 && at + 1 < args.Length && !args[at + 1].StartsWith('-'))
                        {
                            valuesOfUnknownOptions.Add(args[at + 1]);
                        }

                        var current = parseResult.CommandResult.Command;
                        // A real option the parser did not take as one: it came after '--', where every word is an argument.
                        var afterSeparator = OptionNames(parseResult).Contains(token, StringComparer.Ordinal);
                        writer.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null, afterSeparator
                            ? $"'{token}' comes after '--', which makes every word after it an argument: put the options before '--'."
                            : $"Unrecognized option '{token}' for '{(current is RootCommand ? "dotnet unlearn" : current.Name)}'{Lineage.Text.EditDistance.DidYouMean(token, OptionNames(parseResult))}."));
                        continue;
                    }
                }

                // A missing argument, named with what it is (QA: "Required argument missing for command: 'run'.").
                if (error.Message.StartsWith("Required argument missing for command:", StringComparison.Ordinal)
                    && parseResult.CommandResult.Command.Arguments.FirstOrDefault(a => a.Arity.MinimumNumberOfValues > 0) is { } argument)
                {
                    writer.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null,
                        $"'{parseResult.CommandResult.Command.Name}' needs its <{argument.Name}> argument: {argument.Description}"));
                    continue;
                }

                // System.CommandLine lists choices on lines of their own ("Must be one of:\n\t'a'\n\t'b'"): one line here,
                // with the nearest choice.
                var line = OneLine(error.Message);
                writer.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null, NearestChoice(line) is { } hint ? line.TrimEnd('.') + hint + "." : line));
            }

            var command = parseResult.CommandResult.Command is RootCommand ? string.Empty : parseResult.CommandResult.Command.Name + " ";
            context.Error.WriteLine(DiagnosticWriter.Prefix + $"run 'dotnet unlearn {command}--help' for usage.");
            return ExitCodes.InvalidInput;
        }

        // --json keeps stdout for JSON documents: help asked for with it goes to stderr, as the logs do.
        var helpUnderJson = parseResult.Action is System.CommandLine.Help.HelpAction && args.Contains("--json", StringComparer.Ordinal);
        var configuration = new InvocationConfiguration { Output = helpUnderJson ? context.Error : context.Out, Error = context.Error, EnableDefaultExceptionHandler = false };
        try
        {
            return await parseResult.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try
            {
                new DiagnosticWriter(context, Verbosity.Normal).Write(Diagnostic.Create(DiagnosticCatalogue.Cancelled, null));
            }
            catch (IOException)
            {
                // stderr is gone (SIGHUP: the terminal closed): the exit code still says it
            }

            return StopSignals.CancelledExitCode;
        }
        catch (Exception ex) when (Engine.EngineException.DiagnosticOf(ex) is { } diagnostic)
        {
            // A bad input met where a command does not catch it itself (a checkpoint or data file that is a FIFO or a
            // device, met while hashing inputs): its one line, exit 2, no stack trace.
            new DiagnosticWriter(context, Verbosity.Normal).Write(diagnostic);
            return ExitCodes.InvalidInput;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A path the user gave that cannot be used (a file where a folder is needed, no permission, a missing
            // drive): what was written is complete (every write is temporary file, then rename), so say which and stop.
            new DiagnosticWriter(context, Verbosity.Normal).Write(Diagnostic.Create(DiagnosticCatalogue.FileSystemError, null, ex.Message.TrimEnd('.') + "."));
            return ExitCodes.InvalidInput;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Last resort: a defect (ours, or a libtorch error no check foresaw) is one FUL3024 line, exit 1, and the stack
            // trace only when asked for: never an unhandled exception that aborts the process mid-output.
            var writer = new DiagnosticWriter(context, parseResult.GetValue<Verbosity>("--verbosity") == Verbosity.Detailed ? Verbosity.Detailed : Verbosity.Normal);
            writer.Write(Diagnostic.Create(DiagnosticCatalogue.InternalError, null, Engine.EngineException.Summarize(ex)));
            writer.Detail(ex.ToString());
            return ExitCodes.Failed;
        }
    }

    // " (did you mean 'exact'?)" for System.CommandLine's "Argument 'exakt' not recognized. Must be one of: 'exact', ...", or null.
    private static string? NearestChoice(string message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, "^Argument '(.*)' not recognized\\. Must be one of: (.*)$");
        if (!match.Success)
        {
            return null;
        }

        var choices = System.Text.RegularExpressions.Regex.Matches(match.Groups[2].Value, "'([^']*)'").Select(m => m.Groups[1].Value);
        var hint = Lineage.Text.EditDistance.DidYouMean(match.Groups[1].Value, choices);
        return hint.Length == 0 ? null : hint;
    }

    // The token of System.CommandLine's "Unrecognized command or argument 'x'." (in English, as the tool runs), or null.
    private static string? UnrecognizedToken(string message) =>
        System.Text.RegularExpressions.Regex.Match(message, "^Unrecognized command or argument '(.*)'\\.$") is { Success: true } m ? m.Groups[1].Value : null;

    // Every name and alias of the options the command takes, its own and those of the commands above it that pass down.
    private static IEnumerable<string> OptionNames(ParseResult parseResult)
    {
        for (var command = parseResult.CommandResult.Command; command is not null; command = command.Parents.OfType<Command>().FirstOrDefault())
        {
            foreach (var option in command.Options.Where(o => o.Recursive || command == parseResult.CommandResult.Command))
            {
                yield return option.Name;
                foreach (var alias in option.Aliases.Where(a => a.StartsWith("--", StringComparison.Ordinal)))
                {
                    yield return alias;
                }
            }
        }
    }

    private static string OneLine(string message) =>
        ForPeople(System.Text.RegularExpressions.Regex.Replace(message, @":\s*\n\s*", ": ").ReplaceLineEndings("\n").Replace("\n\t", ", ", StringComparison.Ordinal).Replace('\n', ' '));

    // "Cannot parse argument 'x' for option '--threads' as expected type 'System.Nullable`1[System.Int32]'" says what is
    // expected in .NET's words: say it in a user's ("'x' is not a whole number: --threads takes one.").
    private static string ForPeople(string message)
    {
        var kind = @"'System\.(?:Nullable`1\[System\.)?(Int32|Int64|Double|Boolean)\]?'";
        var parse = System.Text.RegularExpressions.Regex.Match(message, @"^Cannot parse argument '(.*)' for option '(.*)' as expected type " + kind + @"\.?$");
        if (!parse.Success)
        {
            return System.Text.RegularExpressions.Regex.Replace(message, kind, m => Kind(m.Groups[1].Value));
        }

        var (given, option, type) = (parse.Groups[1].Value, parse.Groups[2].Value, parse.Groups[3].Value);
        // A whole number too large for its type is a whole number all the same (QA: '99999999999' "is not a whole number").
        return type is "Int32" or "Int64" && System.Text.RegularExpressions.Regex.IsMatch(given.Trim(), @"^[+-]?\d+$")
            ? $"'{given}' is too {(given.TrimStart().StartsWith('-') ? "small" : "large")} a number for {option}."
            : $"'{given}' is not {Kind(type)}: {option} takes {Kind(type)}.";

        static string Kind(string type) => type switch
        {
            "Int32" or "Int64" => "a whole number",
            "Double" => "a number",
            _ => "true or false",
        };
    }
}
