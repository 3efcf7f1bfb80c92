namespace FisherUnlearn.Engine.Checkpoints;

/// <summary>Why a checkpoint path names no checkpoint file, in the words FUL4020 and FUL4104 complete: a folder at the
/// path is not the same mistake as nothing there (it usually means the manifest names the output folder, not the file).</summary>
public static class CheckpointPresence
{
    /// <summary>Null when <paramref name="path"/> is a file; otherwise what is wrong with it.</summary>
    public static string? Absence(string path) =>
        File.Exists(path) ? Lineage.IO.RegularFile.BrokenLink(path)
        : Directory.Exists(path) ? "is a folder, not a checkpoint file: move the folder away before training ('train' will not write over it)"
        : "does not exist";

    /// <summary>True when <paramref name="path"/> names an existing file.</summary>
    public static bool IsPresent(string path) => Absence(path) is null;
}
