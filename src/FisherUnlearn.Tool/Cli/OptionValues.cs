using System.CommandLine;
using System.CommandLine.Parsing;

namespace FisherUnlearn.Tool.Cli;

/// <summary>
/// What System.CommandLine lets through and a mature tool does not. An option that needs a value takes the next
/// token even when that token is another option (<c>harvest --model --no-progress</c> would look for a model named
/// <c>--no-progress</c>), and an unknown option where a command's argument goes becomes that argument
/// (<c>run --bogus</c>). Both are usage errors here, found right after parsing, for every command and option alike.
/// A value that really starts with '-' is written <c>--option=-value</c>; an argument that does, after <c>--</c>.
/// Negative numbers are values (<c>--threads -1</c> is then refused as a number out of range). An empty or blank value
/// (<c>--out "$UNSET"</c>, <c>demo ""</c>) is refused too: taken as a path it would mean the current folder, and a
/// pipeline would write its outputs, or build a demo, where no one meant them.
/// </summary>
internal static class OptionValues
{
    /// <summary>One problem with the symbol result it replaces System.CommandLine's own errors for.</summary>
    public sealed record Problem(SymbolResult Result, string Message);

    public static IReadOnlyList<Problem> Check(ParseResult parseResult, IReadOnlyList<string> args)
    {
        var problems = new List<Problem>();
        var afterDoubleDash = new HashSet<string>(args.SkipWhile(a => a != "--").Skip(1), StringComparer.Ordinal);
        for (SymbolResult? command = parseResult.CommandResult; command is not null; command = command.Parent)
        {
            foreach (var child in ((CommandResult)command).Children)
            {
                switch (child)
                {
                    case OptionResult { Implicit: false, Option.Arity.MinimumNumberOfValues: > 0 } option:
                        CheckOption(option, args, problems);
                        break;
                    case ArgumentResult argument when command == parseResult.CommandResult:
                        var unknown = argument.Tokens.FirstOrDefault(t => LooksLikeOption(t.Value) && !afterDoubleDash.Contains(t.Value));
                        if (unknown is not null)
                        {
                            problems.Add(new Problem(argument, $"Unrecognized option '{unknown.Value}' for '{parseResult.CommandResult.Command.Name}'; a <{argument.Argument.Name}> that starts with '-' goes after '--'."));
                        }
                        else if (argument.Tokens.Any(t => string.IsNullOrWhiteSpace(t.Value)))
                        {
                            var optional = argument.Argument.Arity.MinimumNumberOfValues == 0;
                            problems.Add(new Problem(argument,
                                $"<{argument.Argument.Name}> is given an empty value (an unset variable?): {parseResult.CommandResult.Command.Name} <{argument.Argument.Name}>{(optional ? ", or leave it out" : string.Empty)}."));
                        }

                        break;
                }
            }
        }

        return problems;
    }

    private static void CheckOption(OptionResult option, IReadOnlyList<string> args, List<Problem> problems)
    {
        var name = option.IdentifierToken?.Value ?? option.Option.Name;
        var usage = $"{name} <{option.Option.HelpName ?? option.Option.Name.TrimStart('-')}>";
        if (args.Contains($"{name}=", StringComparer.Ordinal) || args.Contains($"{name}:", StringComparer.Ordinal))
        {
            // "--method=" with nothing after it: System.CommandLine then takes the next token as the value.
            problems.Add(new Problem(option, $"{name} is given an empty value: {usage}."));
            return;
        }

        if (option.Tokens.Count == 0 && option.Option.Arity.MinimumNumberOfValues > 0)
        {
            problems.Add(new Problem(option, $"{name} needs a value: {usage}."));
            return;
        }

        var taken = option.Tokens.FirstOrDefault(t => LooksLikeOption(t.Value) && !Attached(name, t.Value, args));
        if (taken is not null)
        {
            problems.Add(new Problem(option, $"{name} needs a value ({usage}), but the option '{taken.Value}' follows it; a value that starts with '-' is written {option.Option.Name}=<value>."));
        }
        else if (option.Tokens.Any(t => string.IsNullOrWhiteSpace(t.Value)))
        {
            problems.Add(new Problem(option, $"{name} is given an empty value (an unset variable?): {usage}, or leave the option out."));
        }
    }

    /// <summary>True when the value was given in one token with its option (<c>--out=-x</c>, <c>--out:-x</c>).</summary>
    private static bool Attached(string name, string value, IReadOnlyList<string> args) =>
        args.Contains($"{name}={value}", StringComparer.Ordinal) || args.Contains($"{name}:{value}", StringComparer.Ordinal);

    /// <summary>'-x', '--x', '-?': an option; '-1', '-0.5', '-' (stdin, by convention): a value.</summary>
    private static bool LooksLikeOption(string token) =>
        token.Length > 1 && token[0] == '-' && !char.IsAsciiDigit(token[1]) && token[1] != '.';
}
