using System.Buffers.Binary;

namespace FisherUnlearn.Engine.Data;

/// <summary>
/// What a file is by its first bytes, when that is a well-known format: a data file of the wrong format is then
/// FUL4002 naming what it is, not a puzzling "truncated" or "unclosed quote" from reading it as the declared format (QA:
/// a ZIP read as safetensors "claims 67324752 bytes", a gzip read as CSV had "the quote at line 1, column 58").
/// </summary>
internal static class FileSignature
{
    /// <summary>Bytes read to tell a file's kind (the longest signature here, a Git LFS pointer's, is 23).</summary>
    public const int Length = 32;

    private static readonly byte[] Npy = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private static readonly byte[] Hdf5 = [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly byte[] Png = [0x89, (byte)'P', (byte)'N', (byte)'G'];
    private static readonly byte[] Elf = [0x7F, (byte)'E', (byte)'L', (byte)'F'];

    /// <summary>The first <see cref="Length"/> bytes of the file (fewer when it is shorter).</summary>
    public static byte[] Head(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var head = new byte[Math.Min(Length, file.Length)];
        file.ReadExactly(head);
        return head;
    }

    /// <summary>The file's kind in words ("gzip-compressed data", "an IDX file"), or null when its first bytes are
    /// no signature known here.</summary>
    public static string? Recognise(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 2 && head[0] == 0x1F && head[1] == 0x8B)
        {
            return "gzip-compressed data";
        }

        if (head.Length >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] is 3 or 5 or 7 && head[3] == head[2] + 1)
        {
            return "a ZIP archive (a PyTorch .pt file or a NumPy .npz file is one)";
        }

        if (head.StartsWith(Npy))
        {
            return "a NumPy .npy array";
        }

        if (head.StartsWith(Hdf5))
        {
            return "an HDF5 file";
        }

        if (head.StartsWith(Png))
        {
            return "a PNG image";
        }

        if (head.StartsWith("%PDF"u8))
        {
            return "a PDF document";
        }

        if (head.StartsWith(Elf))
        {
            return "an executable (ELF)";
        }

        if (IsGitLfsPointer(head))
        {
            return "a Git LFS pointer ('git lfs pull' fetches the file itself)";
        }

        if (IsIdx(head))
        {
            return "an IDX file";
        }

        if (IsSafetensors(head))
        {
            return "a safetensors file";
        }

        return null;
    }

    /// <summary>FUL4002 when the file at <paramref name="path"/> is plainly another format than <paramref name="declared"/>
    /// ("a CSV text file"): a known signature that <paramref name="isDeclared"/> does not accept. Anything else is left to
    /// the reader (a NUL byte in a CSV cell is FUL4007 at its line and column), as is a file that cannot be opened.</summary>
    public static void ThrowIfOtherFormat(string path, string declared, Func<byte[], bool> isDeclared)
    {
        byte[] head;
        try
        {
            head = Head(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;
        }

        if (!isDeclared(head) && Recognise(head) is { } kind)
        {
            throw EngineException.Create(Lineage.Diagnostics.DiagnosticCatalogue.DataBadMagic, path, path, declared, kind);
        }
    }

    /// <summary>The small text file Git LFS leaves in place of a large file it has not fetched.</summary>
    public static bool IsGitLfsPointer(ReadOnlySpan<byte> head) => head.StartsWith("version https://git-lfs"u8);

    /// <summary>An IDX header: two zero bytes, a type code, and 1 to 4 dimensions.</summary>
    public static bool IsIdx(ReadOnlySpan<byte> head) =>
        head.Length >= 4 && head[0] == 0 && head[1] == 0 && head[2] is 0x08 or 0x09 or 0x0B or 0x0C or 0x0D or 0x0E && head[3] is >= 1 and <= 4;

    /// <summary>A safetensors start: an 8-byte little-endian header length, then the JSON header's opening brace.</summary>
    public static bool IsSafetensors(ReadOnlySpan<byte> head) =>
        head.Length >= 9 && head[8] == (byte)'{' && BinaryPrimitives.ReadUInt64LittleEndian(head) is > 1 and < (1UL << 40);
}
