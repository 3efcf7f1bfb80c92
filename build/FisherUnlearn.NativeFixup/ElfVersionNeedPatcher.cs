using System.Buffers.Binary;
using System.Text;

namespace FisherUnlearn.NativeFixup;

/// <summary>What <see cref="ElfVersionNeedPatcher"/> did (or, for an inspection, would do) to a file.</summary>
public enum PatchStatus
{
    /// <summary>The version requirement was strong and has been made weak (the file changed).</summary>
    Patched,

    /// <summary>The version requirement is already weak; the file was not touched.</summary>
    AlreadyPatched,

    /// <summary>The file does not require the version at all; the file was not touched.</summary>
    NotNeeded,

    /// <summary>The requirement is present and strong: <see cref="ElfVersionNeedPatcher.Patch(string, string?)"/> would patch it.
    /// Only returned by inspections.</summary>
    NeedsPatch,

    /// <summary>The file is not what the patch assumes (or could not be read or written); see <see cref="PatchResult.Reason"/>.
    /// The file was not touched.</summary>
    Error,
}

/// <summary>The outcome for one file.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Reason">Why, for <see cref="PatchStatus.Error"/>; otherwise null.</param>
/// <param name="FlagOffset">File offset of the <c>vna_flags</c> field of the version's Vernaux entry, or -1 when there is none.</param>
/// <param name="VersionIndex">The version index (<c>vna_other</c>) the requirement uses, or 0 when there is none.</param>
/// <param name="SymbolCount">How many dynamic symbols use that version index.</param>
public sealed record PatchResult(PatchStatus Status, string? Reason = null, long FlagOffset = -1, int VersionIndex = 0, int SymbolCount = 0)
{
    public bool IsError => Status == PatchStatus.Error;

    internal static PatchResult Fail(string reason) => new(PatchStatus.Error, reason);
}

/// <summary>
/// Makes one GNU symbol-version requirement of an ELF64 little-endian shared library weak (VER_FLG_WEAK in its Vernaux
/// <c>vna_flags</c>), so glibc's loader no longer refuses the library when the providing library lacks that version.
/// Built for TorchSharp 0.107.0's <c>libLibTorchSharp.so</c>, whose only GLIBCXX_3.4.32 import is the
/// <c>std::ios_base_library_init</c> marker, never bound by a relocation (docs/torchsharp-on-debian12.md).
/// Safe only under these checks, each of which fails with a reason instead of patching: ELF magic, ELFCLASS64,
/// little-endian, well-formed section headers and Verneed chain, exactly one Vernaux entry with the version, at most
/// one dynamic symbol using its version index, and no REL/RELA relocation referencing such a symbol.
/// Pure: no MSBuild types; writes only through <see cref="Patch(string, string?)"/> (temp file, then rename).
/// </summary>
public sealed class ElfVersionNeedPatcher
{
    public const string DefaultVersionName = "GLIBCXX_3.4.32";

    /// <summary>VER_FLG_WEAK: a missing version is not an error for the loader.</summary>
    public const ushort VerFlagWeak = 0x2;

    private const uint ShtRela = 4;
    private const uint ShtRel = 9;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;
    private const int Elf64SectionHeaderSize = 64;
    private const int VerneedSize = 16;
    private const int VernauxSize = 16;

    public ElfVersionNeedPatcher(string versionName = DefaultVersionName)
    {
        ArgumentException.ThrowIfNullOrEmpty(versionName);
        VersionName = versionName;
    }

    /// <summary>The version whose requirement is made weak, e.g. GLIBCXX_3.4.32.</summary>
    public string VersionName { get; }

    /// <summary>Checks an image without changing it. Status is NeedsPatch, AlreadyPatched, NotNeeded or Error.</summary>
    public PatchResult Inspect(ReadOnlySpan<byte> image)
    {
        try
        {
            return Analyze(image);
        }
        catch (ElfFormatException ex)
        {
            return PatchResult.Fail(ex.Message);
        }
    }

    /// <summary>Checks a file without changing it. Status is NeedsPatch, AlreadyPatched, NotNeeded or Error.</summary>
    public PatchResult Inspect(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] image;
        try
        {
            image = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return PatchResult.Fail($"cannot read the file ({ex.Message})");
        }

        return Inspect(image);
    }

    /// <summary>Patches an image in memory. Status is Patched (image changed), AlreadyPatched, NotNeeded or Error
    /// (image unchanged).</summary>
    public PatchResult Patch(Span<byte> image)
    {
        var result = Inspect(image);
        if (result.Status != PatchStatus.NeedsPatch)
        {
            return result;
        }

        var field = image.Slice(checked((int)result.FlagOffset), 2);
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(field);
        BinaryPrimitives.WriteUInt16LittleEndian(field, (ushort)(flags | VerFlagWeak));
        return result with { Status = PatchStatus.Patched };
    }

    /// <summary>
    /// Patches a file. Refuses a file inside <paramref name="protectedRoot"/> (the NuGet global packages folder:
    /// shared, and TorchSharp's own fallback copies from it). Writes only when the status is Patched, through a
    /// temporary file in the same folder renamed over the original (which also breaks any hard link into the NuGet
    /// cache); keeps the file's mode and last-write time, so MSBuild's unchanged-file check does not copy the original
    /// back over it on every build.
    /// </summary>
    public PatchResult Patch(string path, string? protectedRoot = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var fullPath = Path.GetFullPath(path);
        if (IsUnder(fullPath, protectedRoot))
        {
            return PatchResult.Fail(
                $"the file is inside the NuGet global packages folder '{protectedRoot}', which is shared; only copies (bin/, publish/) are patched");
        }

        byte[] image;
        try
        {
            image = File.ReadAllBytes(fullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return PatchResult.Fail($"cannot read the file ({ex.Message})");
        }

        var result = Patch(image.AsSpan());
        if (result.Status != PatchStatus.Patched)
        {
            return result;
        }

        var directory = Path.GetDirectoryName(fullPath)!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var lastWrite = File.GetLastWriteTimeUtc(fullPath);
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(image);
                stream.Flush(flushToDisk: true);
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temp, File.GetUnixFileMode(fullPath));
            }

            File.SetLastWriteTimeUtc(temp, lastWrite);
            File.Move(temp, fullPath, overwrite: true);
            return result;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            return PatchResult.Fail($"cannot write the patched file ({ex.Message})");
        }
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="root"/> or inside it (ordinal; case-insensitive on Windows).</summary>
    public static bool IsUnder(string path, string? root)
    {
        if (string.IsNullOrWhiteSpace(root))
        {
            return false;
        }

        var full = Path.GetFullPath(path);
        var fullRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return full.Equals(fullRoot, comparison)
            || full.StartsWith(fullRoot + Path.DirectorySeparatorChar, comparison)
            || full.StartsWith(fullRoot + Path.AltDirectorySeparatorChar, comparison);
    }

    private PatchResult Analyze(ReadOnlySpan<byte> image)
    {
        if (image.Length < 4 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
        {
            return PatchResult.Fail("not an ELF file (bad magic)");
        }

        if (image.Length < 64)
        {
            return PatchResult.Fail("truncated ELF header");
        }

        if (image[4] != 2)
        {
            return PatchResult.Fail($"not a 64-bit ELF file (EI_CLASS {image[4]}, expected 2 = ELFCLASS64)");
        }

        if (image[5] != 1)
        {
            return PatchResult.Fail($"not a little-endian ELF file (EI_DATA {image[5]}, expected 1 = ELFDATA2LSB)");
        }

        var shoff = U64(image, 0x28);
        var shentsize = U16(image, 0x3A);
        var shnum = U16(image, 0x3C);
        if (shoff == 0 || shnum == 0)
        {
            return PatchResult.Fail("the file has no section headers");
        }

        if (shentsize != Elf64SectionHeaderSize)
        {
            return PatchResult.Fail($"unexpected section header size {shentsize} (expected {Elf64SectionHeaderSize})");
        }

        Check(image, shoff, (ulong)shnum * Elf64SectionHeaderSize, "section header table");
        var sections = new Section[shnum];
        for (var i = 0; i < shnum; i++)
        {
            var at = (int)shoff + (i * Elf64SectionHeaderSize);
            sections[i] = new Section(i, U32(image, at + 4), U64(image, at + 24), U64(image, at + 32), U32(image, at + 40),
                U32(image, at + 44), U64(image, at + 56));
        }

        var verneeds = sections.Where(s => s.Type == ShtGnuVerneed).ToList();
        if (verneeds.Count == 0)
        {
            return new PatchResult(PatchStatus.NotNeeded);
        }

        if (verneeds.Count > 1)
        {
            return PatchResult.Fail($"{verneeds.Count} SHT_GNU_verneed sections (expected one)");
        }

        var verneed = verneeds[0];
        Check(image, verneed.Offset, verneed.Size, "SHT_GNU_verneed section");
        if (verneed.Link == 0 || verneed.Link >= shnum)
        {
            return PatchResult.Fail($"the SHT_GNU_verneed section links to section {verneed.Link}, which does not exist");
        }

        var dynstr = sections[verneed.Link];
        Check(image, dynstr.Offset, dynstr.Size, "string table of SHT_GNU_verneed");

        var matches = new List<(long FlagOffset, ushort Flags, ushort Index)>();
        var wanted = Encoding.ASCII.GetBytes(VersionName);
        var needOffset = verneed.Offset;
        var end = verneed.Offset + verneed.Size;
        var entries = 0;
        while (true)
        {
            if (needOffset + VerneedSize > end)
            {
                return PatchResult.Fail($"Verneed entry at 0x{needOffset:x} runs past its section");
            }

            if (++entries > 10_000)
            {
                return PatchResult.Fail("Verneed chain does not end");
            }

            var at = (int)needOffset;
            var count = U16(image, at + 2);
            var aux = U32(image, at + 8);
            var next = U32(image, at + 12);
            var auxOffset = needOffset + aux;
            for (var j = 0; j < count; j++)
            {
                if ((aux == 0 && j == 0) || auxOffset + VernauxSize > end)
                {
                    return PatchResult.Fail($"Vernaux entry at 0x{auxOffset:x} runs past its section");
                }

                var a = (int)auxOffset;
                var flags = U16(image, a + 4);
                var other = U16(image, a + 6);
                var name = U32(image, a + 8);
                var auxNext = U32(image, a + 12);
                if (NameEquals(image, dynstr, name, wanted))
                {
                    matches.Add(((long)auxOffset + 4, flags, other));
                }

                if (auxNext == 0)
                {
                    if (j != count - 1)
                    {
                        return PatchResult.Fail($"Vernaux chain at 0x{needOffset:x} ends after {j + 1} of {count} entries");
                    }

                    break;
                }

                auxOffset += auxNext;
            }

            if (next == 0)
            {
                break;
            }

            needOffset += next;
        }

        if (matches.Count == 0)
        {
            return new PatchResult(PatchStatus.NotNeeded);
        }

        if (matches.Count > 1)
        {
            return PatchResult.Fail($"{matches.Count} Vernaux entries require {VersionName} (expected exactly one)");
        }

        var (flagOffset, currentFlags, versionIndex) = matches[0];
        if (versionIndex < 2)
        {
            return PatchResult.Fail($"the {VersionName} requirement has reserved version index {versionIndex}");
        }

        var symbolCount = CountSymbolsAndCheckRelocations(image, sections, versionIndex, out var failure);
        if (failure is not null)
        {
            return PatchResult.Fail(failure);
        }

        var status = (currentFlags & VerFlagWeak) != 0 ? PatchStatus.AlreadyPatched : PatchStatus.NeedsPatch;
        return new PatchResult(status, null, flagOffset, versionIndex, symbolCount);
    }

    private int CountSymbolsAndCheckRelocations(ReadOnlySpan<byte> image, Section[] sections, ushort versionIndex, out string? failure)
    {
        failure = null;
        var versyms = sections.Where(s => s.Type == ShtGnuVersym).ToList();
        if (versyms.Count != 1)
        {
            failure = $"{versyms.Count} SHT_GNU_versym (.gnu.version) sections (expected one), so the symbols using {VersionName} cannot be checked";
            return 0;
        }

        var versym = versyms[0];
        Check(image, versym.Offset, versym.Size, "SHT_GNU_versym section");
        var symbolTotal = (int)(versym.Size / 2);
        var symbols = new List<int>();
        for (var i = 0; i < symbolTotal; i++)
        {
            if ((U16(image, (int)versym.Offset + (2 * i)) & 0x7fff) == versionIndex)
            {
                symbols.Add(i);
            }
        }

        if (symbols.Count > 1)
        {
            failure = $"{symbols.Count} dynamic symbols use {VersionName} (version index {versionIndex}; expected at most one, the std::ios_base_library_init marker)";
            return symbols.Count;
        }

        foreach (var relocations in sections.Where(s => (s.Type == ShtRela || s.Type == ShtRel) && s.Link == versym.Link))
        {
            var entrySize = relocations.Type == ShtRela ? 24UL : 16UL;
            if (relocations.EntrySize != 0 && relocations.EntrySize != entrySize)
            {
                failure = $"relocation section {relocations.Index} has entry size {relocations.EntrySize} (expected {entrySize})";
                return symbols.Count;
            }

            Check(image, relocations.Offset, relocations.Size, $"relocation section {relocations.Index}");
            for (var at = relocations.Offset; at + entrySize <= relocations.Offset + relocations.Size; at += entrySize)
            {
                var symbol = U64(image, (int)at + 8) >> 32;
                if (symbol != 0 && symbol < (ulong)symbolTotal && symbols.Contains((int)symbol))
                {
                    failure = $"the relocation at 0x{at:x} (section {relocations.Index}) references symbol {symbol}, which uses {VersionName}; making it weak could leave it unbound";
                    return symbols.Count;
                }
            }
        }

        return symbols.Count;
    }

    private static bool NameEquals(ReadOnlySpan<byte> image, Section strtab, uint name, byte[] wanted)
    {
        if (name >= strtab.Size)
        {
            throw new ElfFormatException($"a version name offset ({name}) lies outside its string table");
        }

        var start = (int)(strtab.Offset + name);
        var available = image[start..(int)(strtab.Offset + strtab.Size)];
        var length = available.IndexOf((byte)0);
        if (length < 0)
        {
            throw new ElfFormatException("a version name is not NUL-terminated inside its string table");
        }

        return available[..length].SequenceEqual(wanted);
    }

    private static void Check(ReadOnlySpan<byte> image, ulong offset, ulong size, string what)
    {
        if (offset > (ulong)image.Length || size > (ulong)image.Length - offset || offset > int.MaxValue)
        {
            throw new ElfFormatException($"the {what} (offset 0x{offset:x}, size 0x{size:x}) lies outside the file ({image.Length} bytes): truncated or malformed");
        }
    }

    private static ushort U16(ReadOnlySpan<byte> image, int at) => BinaryPrimitives.ReadUInt16LittleEndian(image.Slice(at, 2));

    private static uint U32(ReadOnlySpan<byte> image, int at) => BinaryPrimitives.ReadUInt32LittleEndian(image.Slice(at, 4));

    private static ulong U64(ReadOnlySpan<byte> image, int at) => BinaryPrimitives.ReadUInt64LittleEndian(image.Slice(at, 8));

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover temp file is harmless and named as ours.
        }
    }

    private readonly record struct Section(int Index, uint Type, ulong Offset, ulong Size, uint Link, uint Info, ulong EntrySize);

    private sealed class ElfFormatException(string message) : Exception(message);
}
