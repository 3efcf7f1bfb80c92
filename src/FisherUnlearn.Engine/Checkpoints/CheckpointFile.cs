using FisherUnlearn.Lineage.Diagnostics;

namespace FisherUnlearn.Engine.Checkpoints;

/// <summary>The core's atomic write (temporary file, then rename), with I/O failures reported as FUL4028.</summary>
internal static class CheckpointFile
{
    public static void WriteAtomically(string path, Action<Stream> write, bool durable = true)
    {
        var fullPath = Path.GetFullPath(path);
        try
        {
            Lineage.IO.AtomicFile.Write(fullPath, write, durable);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw EngineException.At(DiagnosticCatalogue.CheckpointWriteFailed, new SourceLocation(fullPath), ex, fullPath, ex.Message);
        }
    }
}
