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
        if (!File.Exists(path))
        {
            throw EngineException.Create(DiagnosticCatalogue.DataFileNotFound, path, path);
        }

        SafetensorsDocument document;
        try
        {
            document = SafetensorsFile.Read(path);
        }
        catch (EngineException ex) when (ex.Code is "FUL4021" or "FUL4022" or "FUL4023")
        {
            // The same structural checks as for checkpoints, reported as a data problem.
            throw EngineException.At(DiagnosticCatalogue.DataBadLayout, new SourceLocation(path), ex, path, $"not a valid safetensors file ({ex.Diagnostic.Message})");
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

        if (x.Shape.Count < 2 || y.Shape.Count != 1 || x.Shape[0] != y.Shape[0] || x.Shape.Skip(1).Any(d => d <= 0 || d > int.MaxValue))
        {
            throw EngineException.Create(DiagnosticCatalogue.DataCountMismatch, path,
                $"{path}#x {SafetensorsFile.Describe(x.Shape)}", x.Shape.Count > 0 ? x.Shape[0] : 0,
                $"{path}#y {SafetensorsFile.Describe(y.Shape)}", y.Shape.Count > 0 ? y.Shape[0] : 0);
        }

        var features = x.DType == SafetensorsDType.U8 ? x.Data.Select(b => b / 255f).ToArray() : x.ToFloats();
        return new SafetensorsContent([.. x.Shape.Skip(1).Select(d => (int)d)], features, y.ToInt64s());
    }

    private static EngineException Layout(string path, string detail) =>
        EngineException.Create(DiagnosticCatalogue.DataBadLayout, path, path, detail);
}
