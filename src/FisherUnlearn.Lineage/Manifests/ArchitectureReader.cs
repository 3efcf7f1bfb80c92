using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Json;
using FisherUnlearn.Lineage.Text;

namespace FisherUnlearn.Lineage.Manifests;

/// <summary>Reads the <c>architecture</c> object of a lineage manifest.</summary>
internal static class ArchitectureReader
{
    public static readonly string[] Fields = ["kind", "classes", "inputs", "hidden", "inputShape", "assembly", "type"];

    public const int MinClasses = 2;
    public const int MaxClasses = 100_000;
    public const int MaxInputs = 100_000_000;
    public const int MaxHiddenSize = 1_000_000;
    public const int MaxHiddenLayers = 64;

    /// <summary>The fields each kind takes, besides <c>kind</c>.</summary>
    private static readonly Dictionary<string, string[]> FieldsByKind = new(StringComparer.Ordinal)
    {
        [ArchitectureSpec.Mlp] = ["classes", "inputs", "hidden"],
        [ArchitectureSpec.Cnn] = ["classes", "inputShape"],
        [ArchitectureSpec.Custom] = ["classes", "assembly", "type"],
    };

    /// <summary>Always returns a spec (so the model stays in the workspace); <c>Kind</c> is empty when unreadable.</summary>
    public static ArchitectureSpec Read(ObjectReader root)
    {
        var context = root.Context;
        if (root.ObjectField("architecture", required: true) is not { } obj)
        {
            return new ArchitectureSpec { Kind = string.Empty, Classes = 0 };
        }

        var reader = new ObjectReader(context, obj, "architecture");
        var errorsBefore = context.Diagnostics.Items.Count;
        var kind = reader.String("kind", required: true);
        string[]? applicable = null;
        if (kind is not null && !FieldsByKind.TryGetValue(kind, out applicable))
        {
            context.Report(DiagnosticCatalogue.InvalidArchitecture, obj["kind"]!,
                $"unknown kind '{kind}'{EditDistance.DidYouMean(kind, ArchitectureSpec.Kinds)}; use one of: {string.Join(", ", ArchitectureSpec.Kinds)}");
        }

        bool Takes(string field) => applicable is null || ObjectReader.Contains(applicable, field);
        bool Needs(string field) => applicable is not null && ObjectReader.Contains(applicable, field);

        var classes = reader.Int("classes", MinClasses, MaxClasses, required: kind is not null) ?? 0;
        var inputs = Takes("inputs") ? reader.Int("inputs", 1, MaxInputs, required: Needs("inputs")) : null;
        var hidden = Takes("hidden") ? ReadHidden(reader) : [];
        var inputShape = Takes("inputShape") ? ReadInputShape(reader, Needs("inputShape")) : [];
        var assembly = Takes("assembly") ? reader.PathValue("assembly", required: Needs("assembly")) : null;
        var type = Takes("type") ? reader.String("type", required: Needs("type")) : null;
        if (type is not null && !IsTypeName(type) && obj["type"] is { } typeNode)
        {
            // The name is looked up in the assembly, and also shown in graphs and reports: a line break or a control
            // character in it is never a class, and would only break what shows it.
            context.Report(DiagnosticCatalogue.InvalidArchitecture, typeNode,
                $"'architecture.type' \"{Text.HiddenCharacters.Visible(type.Length > 80 ? type[..80] + "..." : type)}\" is not the full name of a class: write it as C# names it, namespaces with '.' and a nested class with '+', such as 'MyModels.DigitNet'");
        }

        reader.RejectUnknown(Fields, property =>
        {
            // A field of another kind: known, but not here.
            if (applicable is not null && property.Name != "kind" && !ObjectReader.Contains(applicable, property.Name))
            {
                context.Report(DiagnosticCatalogue.InvalidArchitecture, property,
                    $"'architecture.{property.Name}' does not apply to kind '{kind}' (it takes kind, {string.Join(", ", applicable)}); remove it");
            }
        });

        var spec = new ArchitectureSpec
        {
            Kind = kind ?? string.Empty,
            Classes = classes,
            Inputs = inputs,
            Hidden = hidden,
            InputShape = inputShape,
            Assembly = assembly,
            Type = type,
        };

        // Each field within its limits, the layers they make may still be too large to hold (found in QA: hidden
        // [1000000, 1000000] passed validate, and train failed with libtorch's "tried to allocate 4000000000000 bytes").
        if (context.Diagnostics.Items.Count == errorsBefore && spec.WeightsTooLarge() is { } tooLarge)
        {
            context.Report(DiagnosticCatalogue.InvalidArchitecture, obj, tooLarge);
        }

        return spec;
    }

    /// <summary>A CLR type's full name: identifiers (a letter or '_', then letters, digits, '_') joined by '.' (namespaces)
    /// or '+' (nesting), each with an optional generic arity ("`1"); at most 1,024 characters.</summary>
    internal static bool IsTypeName(string name)
    {
        if (name.Length is 0 or > 1024)
        {
            return false;
        }

        foreach (var part in name.Split('.', '+'))
        {
            var tick = part.IndexOf('`', StringComparison.Ordinal);
            var identifier = tick >= 0 ? part[..tick] : part;
            if (tick >= 0 && (tick == part.Length - 1 || !part[(tick + 1)..].All(char.IsAsciiDigit)))
            {
                return false;
            }

            if (identifier.Length == 0 || !(char.IsLetter(identifier[0]) || identifier[0] == '_')
                || !identifier.All(c => char.IsLetterOrDigit(c) || c == '_' || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.ConnectorPunctuation
                    or System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark))
            {
                return false;
            }
        }

        return true;
    }

    private static List<int> ReadHidden(ObjectReader reader)
    {
        var result = new List<int>();
        if (reader.Array("hidden") is not { } hidden)
        {
            return result;
        }

        var context = reader.Context;
        if (hidden.Count > MaxHiddenLayers)
        {
            context.Report(DiagnosticCatalogue.OutOfRange, hidden, "architecture.hidden", $"{hidden.Count} layers", $"0..{MaxHiddenLayers} layers");
        }

        for (var i = 0; i < hidden.Count; i++)
        {
            if (context.AsInt(hidden.Items[i], $"architecture.hidden[{i}]", 1, MaxHiddenSize) is { } size)
            {
                result.Add(size);
            }
        }

        return result;
    }

    private static List<int> ReadInputShape(ObjectReader reader, bool required)
    {
        var result = new List<int>();
        if (reader.Array("inputShape", required) is not { } shape)
        {
            return result;
        }

        var context = reader.Context;
        if (shape.Count != 3)
        {
            context.Report(DiagnosticCatalogue.InvalidArchitecture, shape,
                $"'architecture.inputShape' has {shape.Count} dimension(s); give 3: [channels, height, width], such as [1, 28, 28]");
        }

        long product = 1;
        for (var i = 0; i < shape.Count; i++)
        {
            // Height and width: the cnn's two 5x5 convolutions and 2x2 poolings need at least 12 (docs/architectures.md).
            var min = i >= 1 && shape.Count == 3 ? ArchitectureSpec.CnnMinSide : 1;
            if (context.AsInt(shape.Items[i], $"architecture.inputShape[{i}]", min, MaxInputs) is { } size)
            {
                result.Add(size);
                product = Math.Min(product * size, long.MaxValue / MaxInputs);
            }
        }

        if (result.Count == shape.Count && product > MaxInputs)
        {
            context.Report(DiagnosticCatalogue.OutOfRange, shape, "architecture.inputShape", $"{product} values per sample", $"1..{MaxInputs} values");
        }

        return result;
    }
}
