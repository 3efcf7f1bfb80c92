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

        reader.RejectUnknown(Fields, property =>
        {
            // A field of another kind: known, but not here.
            if (applicable is not null && property.Name != "kind" && !ObjectReader.Contains(applicable, property.Name))
            {
                context.Report(DiagnosticCatalogue.InvalidArchitecture, property,
                    $"'architecture.{property.Name}' does not apply to kind '{kind}' (it takes kind, {string.Join(", ", applicable)}); remove it");
            }
        });

        return new ArchitectureSpec
        {
            Kind = kind ?? string.Empty,
            Classes = classes,
            Inputs = inputs,
            Hidden = hidden,
            InputShape = inputShape,
            Assembly = assembly,
            Type = type,
        };
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
