using System.CommandLine;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Lineage.Rendering;
using FisherUnlearn.Tool.Cli;
using FisherUnlearn.Tool.Output;
using FisherUnlearn.Tool.Reports;
using Newtonsoft.Json.Linq;

namespace FisherUnlearn.Tool.Commands;

/// <summary><c>dotnet unlearn graph</c>: the lineage as a picture (Mermaid renders on GitHub; DOT for Graphviz; SVG drawn by
/// the tool itself; HTML = a self-contained page with that SVG and a table of the models and, for a removal, their roles).</summary>
internal static class GraphCommand
{
    public static readonly string[] Formats = ["mermaid", "dot", "svg", "html"];

    /// <summary>The format a file name's extension asks for (<c>lineage.svg</c>: svg), or null when it names none; '-'
    /// and no file: null.</summary>
    internal static string? FormatOf(string? file) =>
        file is null or "-" ? null
        : Path.GetExtension(file).ToLowerInvariant() switch
        {
            ".svg" => "svg",
            ".dot" or ".gv" => "dot",
            ".html" or ".htm" => "html",
            ".mmd" or ".mermaid" => "mermaid",
            ".md" or ".markdown" => "markdown", // Mermaid in a fenced block, which GitHub draws
            _ => null,
        };

    // Extensions of formats graph does not write: Mermaid text in them would be a broken file (QA: '-o x.png' wrote it).
    private static readonly string[] NotWritten = [".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".pdf", ".json", ".xml", ".yaml", ".yml"];

    public static Command Create(CliContext context, GlobalOptions options)
    {
        var removal = new Option<string?>("--removal", "-r") { Description = "Mark this removal request's roots and affected models.", HelpName = "removal" };
        var format = new Option<string>("--format", "-f")
        {
            Description = "mermaid (renders in GitHub Markdown), dot (Graphviz), svg (drawn by the tool) or html (a page with the SVG and a table of the models).",
            DefaultValueFactory = _ => "mermaid",
        };
        format.AcceptOnlyFromAmong(Formats);
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Write to this file instead of stdout (- is stdout); without --format, its extension chooses the format (.svg, .dot or .gv, .html or .htm, .md for Mermaid in a fenced block; else mermaid).",
            HelpName = "file",
        };
        var command = new Command("graph", "Draw the lineage: models, relations and datasets; with --removal, roots and affected models are marked.")
        {
            removal,
            format,
            output,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var env = new CommandEnvironment(context, options, parseResult);
            var analysis = env.LoadValidWorkspace(cancellationToken);
            if (analysis is null)
            {
                return Task.FromResult(ExitCodes.InvalidInput);
            }

            RemovalPlan? plan = null;
            if (parseResult.GetValue(removal) is { } removalId)
            {
                var request = RemovalLookup.Find(analysis.Workspace, removalId, context);
                if (request.Value is null)
                {
                    env.Diagnostics.Write(request.Diagnostics);
                    return Task.FromResult(ExitCodes.InvalidInput);
                }

                plan = Planner.Plan(analysis.Workspace, analysis.Graph, request.Value);
            }

            var highlight = plan is null ? GraphHighlight.None : GraphHighlight.Of(plan);
            var explicitFormat = parseResult.GetResult(format) is { Implicit: false };
            var target = parseResult.GetValue(output);
            if (explicitFormat && env.Json && target is null or "-")
            {
                // With --json and no file, the lineage is printed as data: a --format would be ignored (QA).
                env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null,
                    "--format chooses the picture that --output writes; with --json and no --output the lineage is printed as data. Add --output <file>, or leave out --format."));
                return Task.FromResult(ExitCodes.InvalidInput);
            }

            if (!explicitFormat && target is not null and not "-" && NotWritten.Contains(Path.GetExtension(target).ToLowerInvariant()))
            {
                env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null,
                    $"'{target}' names a format graph does not write: it writes .svg, .dot or .gv, .html or .htm, .mmd or .mermaid, and .md (Mermaid in a fenced block). Use one of those, or --format to write Mermaid or another format into that name."));
                return Task.FromResult(ExitCodes.InvalidInput);
            }

            var chosen = explicitFormat ? parseResult.GetValue(format)! : FormatOf(target) ?? "mermaid";
            var text = chosen switch
            {
                "dot" => GraphRenderer.Dot(analysis.Workspace, highlight),
                "svg" => SvgGraphRenderer.Render(LineageDiagram.From(analysis.Workspace, highlight)),
                "html" => LineagePage.Render(LineagePageModel.From(analysis.Workspace, plan)),
                "markdown" => "```mermaid\n" + GraphRenderer.Mermaid(analysis.Workspace, highlight).TrimEnd('\n') + "\n```\n",
                _ => GraphRenderer.Mermaid(analysis.Workspace, highlight),
            };
            // Only where the Mermaid text is written: --json alone prints the lineage as data, datasets included.
            if (chosen is not ("dot" or "svg" or "html") && (!env.Json || parseResult.GetValue(output) is { Length: > 0 } and not "-")
                && GraphRenderer.FitOf(LineageDiagram.From(analysis.Workspace, highlight)) is not MermaidFit.Whole and var fit)
            {
                env.Diagnostics.Log(fit == MermaidFit.WithoutDatasets
                    ? $"warning: with its datasets the graph has more than the {GraphRenderer.MermaidMaxEdges} edges Mermaid draws, so they are left out; --format svg or html draws them."
                    : $"warning: the lineage has more relations than the {GraphRenderer.MermaidMaxEdges} edges Mermaid draws, so GitHub and other Mermaid renderers will show an error instead of it; use --format svg, html or dot.");
            }

            string? outputPath = null;
            // "-o -" is stdout, by the usual convention (a file named "-" would surprise; "./-" still writes one).
            if (parseResult.GetValue(output) is { } file && file != "-")
            {
                var path = Path.GetFullPath(Path.Combine(context.CurrentDirectory, file));
                if (Directory.Exists(path))
                {
                    env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null,
                        $"'{context.Display(path)}' is a folder: --output takes a file name, such as {context.Display(Path.Combine(path, "lineage.html"))}."));
                    return Task.FromResult(ExitCodes.InvalidInput);
                }

                // A file where a folder of the path goes: named, not .NET's "The file '…' already exists" (QA).
                if (Lineage.IO.RegularFile.FileAtOrAbove(Path.GetDirectoryName(path)!) is { } inTheWay)
                {
                    env.Diagnostics.Write(Diagnostic.Create(DiagnosticCatalogue.UsageError, null,
                        $"'{context.Display(inTheWay)}' is a file, so '{context.Display(path)}' cannot be written under it: give --output a path in a folder."));
                    return Task.FromResult(ExitCodes.InvalidInput);
                }

                AtomicFile.WriteAllText(path, text);
                env.Diagnostics.Log($"wrote {context.Display(path)}");
                outputPath = path;
            }
            else if (!env.Json)
            {
                context.Out.Write(text);
            }

            if (env.Json)
            {
                // The lineage as data (the picture, when wanted, goes to --output).
                env.WriteJson(new JObject
                {
                    ["schemaVersion"] = JsonDocuments.SchemaVersion,
                    ["removal"] = plan?.RemovalId,
                    ["output"] = outputPath is null ? null : context.Display(outputPath),
                    ["lineage"] = JsonDocuments.Diagram(LineageDiagram.From(analysis.Workspace, highlight)),
                });
            }

            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}