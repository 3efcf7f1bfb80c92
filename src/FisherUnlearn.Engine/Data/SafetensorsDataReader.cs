using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Engine.Data;

/// <summary>
/// Reads a dataset split stored as safetensors: <c>x</c> [N, ...] float32 (as is) or uint8 (scaled to 0..1),
/// and <c>y</c> [N] int64, int32 or uint8.
/// </summary>
public static class SafetensorsDataReader
{
    public sealed record SafetensorsContent(int[] SampleShape, float[] Features, long[] Labels);

    public static SafetensorsContent Read(string path)
    {
        EngineException.ThrowIfDataMissing(path);

        EngineException.ThrowIfNotRegular(path);
        FileSignature.ThrowIfOtherFormat(path, "a safetensors file", head => FileSignature.IsSafetensors(head));

        SafetensorsDocument document;
        try
        {
            document = SafetensorsFile.Read(path, checkFinite: false);
        }
        catch (EngineException ex) when (ex.Reason is { } reason)
        {
            // The same structural checks as for checkpoints, reported as a problem of the data file.
            var location = new SourceLocation(path);
            throw ex.Code == DiagnosticCatalogue.CheckpointTruncated.Code ? EngineException.At(DiagnosticCatalogue.DataTruncated, location, ex, path, reason)
                : ex.Code == DiagnosticCatalogue.CheckpointUnreadable.Code ? EngineException.At(DiagnosticCatalogue.DataUnreadable, location, ex, path, reason)
                : EngineException.At(DiagnosticCatalogue.DataBadLayout, location, ex, path, $"not a valid safetensors file ({reason})");
        }

        if (!document.Tensors.TryGetValue("x", out var x) || !document.Tensors.TryGetValue("y", out var y))
        {
            throw Layout(path, $"tensors 'x' (features) and 'y' (labels) are required; found {string.Join(", ", document.Tensors.Keys.Select(k => $"'{k}'"))}");
        }

        if (x.DType is not (SafetensorsDType.F32 or SafetensorsDType.U8))
        {
            throw Layout(path, $"'x' is {x.DType}; use F32 (values as they are) or U8 (scaled to 0..1)");
        }

        if (y.DType is not (SafetensorsDType.I64 or SafetensorsDType.I32 or SafetensorsDType.U8))
        {
            throw Layout(path, $"'y' is {y.DType}; use I64, I32 or U8");
        }

        if (x.Shape.Count < 2 || x.Shape.Skip(1).Any(d => d <= 0 || d > int.MaxValue))
        {
            throw Layout(path, $"'x' has shape {SafetensorsFile.Describe(x.Shape)}; features must be [N, ...], one row of at least one value per sample");
        }

        // With no samples, the shape alone can claim any size of sample; one sample's values are counted in an int.
        var sampleSize = x.Shape.Skip(1).Aggregate(1L, (product, d) => d != 0 && product > int.MaxValue / d ? 1L + int.MaxValue : product * d);
        if (sampleSize > int.MaxValue)
        {
            throw Layout(path, $"'x' has shape {SafetensorsFile.Describe(x.Shape)}; one sample of more than {int.MaxValue} values is more than the engine holds");
        }

        if (y.Shape.Count != 1)
        {
            throw Layout(path, $"'y' has shape {SafetensorsFile.Describe(y.Shape)}; labels must be 1-D, one per sample: [N]");
        }

        if (x.Shape[0] != y.Shape[0])
        {
            throw EngineException.Create(DiagnosticCatalogue.DataCountMismatch, path,
                $"{path}#x {SafetensorsFile.Describe(x.Shape)}", x.Shape[0], $"{path}#y {SafetensorsFile.Describe(y.Shape)}", y.Shape[0]);
        }

        var features = x.DType == SafetensorsDType.U8 ? x.Data.Select(b => b / 255f).ToArray() : x.ToFloats();
        var bad = features.Count(v => !float.IsFinite(v));
        if (bad > 0)
        {
            var first = Array.FindIndex(features, v => !float.IsFinite(v));
            var perSample = features.Length / (int)x.Shape[0];
            throw Layout(path, $"'x' holds {bad} NaN or infinite value(s), the first in sample {first / perSample}; features must be finite numbers");
        }

        return new SafetensorsContent([.. x.Shape.Skip(1).Select(d => (int)d)], features, y.ToInt64s());
    }

    private static EngineException Layout(string path, string detail) =>
        EngineException.Create(DiagnosticCatalogue.DataBadLayout, path, path, detail);
}
