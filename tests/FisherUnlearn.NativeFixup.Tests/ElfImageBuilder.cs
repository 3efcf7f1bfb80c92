using System.Buffers.Binary;
using System.Text;

namespace FisherUnlearn.NativeFixup.Tests;

/// <summary>
/// Builds tiny ELF64 little-endian images with just the parts the patcher reads: section headers, .dynstr,
/// .dynsym, .gnu.version (versym), .gnu.version_r (verneed) and .rela.dyn / .rel.dyn. Not loadable; enough to
/// exercise every check of <see cref="ElfVersionNeedPatcher"/>.
/// </summary>
internal sealed class ElfImageBuilder
{
    public const uint ShtStrtab = 3;
    public const uint ShtRela = 4;
    public const uint ShtDynsym = 11;
    public const uint ShtRel = 9;
    public const uint ShtGnuVerneed = 0x6ffffffe;
    public const uint ShtGnuVersym = 0x6fffffff;

    /// <summary>Verneed entries: a needed file and its Vernaux entries (version name, version index, flags).</summary>
    public List<(string File, List<(string Name, ushort Index, ushort Flags)> Aux)> Needs { get; } = [];

    /// <summary>One version index per dynamic symbol, symbol 0 (the null symbol) included.</summary>
    public List<ushort> SymbolVersions { get; } = [0];

    /// <summary>Relocations: the symbol index each one references.</summary>
    public List<uint> RelocationSymbols { get; } = [];

    public bool IncludeVerneed { get; set; } = true;

    public bool IncludeVersym { get; set; } = true;

    /// <summary>Emit the relocations as SHT_REL (16-byte entries) instead of SHT_RELA.</summary>
    public bool UseRel { get; set; }

    /// <summary>Byte offset of the section header table in the last built image.</summary>
    public int SectionHeaderOffset { get; private set; }

    /// <summary>A library needing libstdc++ GLIBCXX_3.4.30 (index 2) and GLIBCXX_3.4.32 (index 3) with one symbol on each,
    /// like TorchSharp 0.107.0's shim.</summary>
    public static ElfImageBuilder LikeTorchSharp(ushort flags32 = 0)
    {
        var builder = new ElfImageBuilder();
        builder.Needs.Add(("libc.so.6", [("GLIBC_2.34", 4, 0)]));
        builder.Needs.Add(("libstdc++.so.6", [("GLIBCXX_3.4.30", 2, 0), ("GLIBCXX_3.4.32", 3, flags32)]));
        builder.SymbolVersions.AddRange([2, 3, 4, 1]);
        builder.RelocationSymbols.AddRange([1, 3]);
        return builder;
    }

    public byte[] Build()
    {
        var dynstr = new MemoryStream();
        dynstr.WriteByte(0);
        var names = new Dictionary<string, uint>(StringComparer.Ordinal);
        uint Str(string s)
        {
            if (!names.TryGetValue(s, out var offset))
            {
                offset = (uint)dynstr.Length;
                var bytes = Encoding.ASCII.GetBytes(s);
                dynstr.Write(bytes);
                dynstr.WriteByte(0);
                names[s] = offset;
            }

            return offset;
        }

        foreach (var (file, aux) in Needs)
        {
            Str(file);
            foreach (var a in aux)
            {
                Str(a.Name);
            }
        }

        var image = new List<byte>(new byte[64]);
        var sections = new List<(uint Type, int Offset, int Size, uint Link, uint Info, ulong EntrySize)> { (0, 0, 0, 0, 0, 0) };

        int Append(byte[] bytes)
        {
            while (image.Count % 8 != 0)
            {
                image.Add(0);
            }

            var at = image.Count;
            image.AddRange(bytes);
            return at;
        }

        var dynstrBytes = dynstr.ToArray();
        sections.Add((ShtStrtab, Append(dynstrBytes), dynstrBytes.Length, 0, 0, 0));
        const uint dynstrIndex = 1;

        var dynsym = new byte[24 * SymbolVersions.Count];
        sections.Add((ShtDynsym, Append(dynsym), dynsym.Length, dynstrIndex, 1, 24));
        const uint dynsymIndex = 2;

        if (IncludeVersym)
        {
            var versym = new byte[2 * SymbolVersions.Count];
            for (var i = 0; i < SymbolVersions.Count; i++)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(versym.AsSpan(2 * i), SymbolVersions[i]);
            }

            sections.Add((ShtGnuVersym, Append(versym), versym.Length, dynsymIndex, 0, 2));
        }

        if (IncludeVerneed)
        {
            var verneed = new MemoryStream();
            for (var n = 0; n < Needs.Count; n++)
            {
                var (file, aux) = Needs[n];
                var entry = new byte[16 + (16 * aux.Count)];
                BinaryPrimitives.WriteUInt16LittleEndian(entry.AsSpan(0), 1);
                BinaryPrimitives.WriteUInt16LittleEndian(entry.AsSpan(2), (ushort)aux.Count);
                BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(4), Str(file));
                BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(8), aux.Count == 0 ? 0u : 16u);
                BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(12), n == Needs.Count - 1 ? 0u : (uint)entry.Length);
                for (var j = 0; j < aux.Count; j++)
                {
                    var a = entry.AsSpan(16 + (16 * j));
                    BinaryPrimitives.WriteUInt32LittleEndian(a, (uint)aux[j].Name.Length);
                    BinaryPrimitives.WriteUInt16LittleEndian(a[4..], aux[j].Flags);
                    BinaryPrimitives.WriteUInt16LittleEndian(a[6..], aux[j].Index);
                    BinaryPrimitives.WriteUInt32LittleEndian(a[8..], Str(aux[j].Name));
                    BinaryPrimitives.WriteUInt32LittleEndian(a[12..], j == aux.Count - 1 ? 0u : 16u);
                }

                verneed.Write(entry);
            }

            var bytes = verneed.ToArray();
            sections.Add((ShtGnuVerneed, Append(bytes), bytes.Length, dynstrIndex, (uint)Needs.Count, 0));
        }

        if (RelocationSymbols.Count > 0)
        {
            var size = UseRel ? 16 : 24;
            var relocations = new byte[size * RelocationSymbols.Count];
            for (var i = 0; i < RelocationSymbols.Count; i++)
            {
                var r = relocations.AsSpan(size * i);
                BinaryPrimitives.WriteUInt64LittleEndian(r, 0x1000 + (8 * (ulong)i));
                BinaryPrimitives.WriteUInt64LittleEndian(r[8..], ((ulong)RelocationSymbols[i] << 32) | 6 /* R_X86_64_GLOB_DAT */);
            }

            sections.Add((UseRel ? ShtRel : ShtRela, Append(relocations), relocations.Length, dynsymIndex, 0, (ulong)size));
        }

        var headers = new byte[64 * sections.Count];
        for (var i = 0; i < sections.Count; i++)
        {
            var h = headers.AsSpan(64 * i);
            var s = sections[i];
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], s.Type);
            BinaryPrimitives.WriteUInt64LittleEndian(h[24..], (ulong)s.Offset);
            BinaryPrimitives.WriteUInt64LittleEndian(h[32..], (ulong)s.Size);
            BinaryPrimitives.WriteUInt32LittleEndian(h[40..], s.Link);
            BinaryPrimitives.WriteUInt32LittleEndian(h[44..], s.Info);
            BinaryPrimitives.WriteUInt64LittleEndian(h[56..], s.EntrySize);
        }

        SectionHeaderOffset = Append(headers);
        var result = image.ToArray();
        result[0] = 0x7f;
        result[1] = (byte)'E';
        result[2] = (byte)'L';
        result[3] = (byte)'F';
        result[4] = 2; // ELFCLASS64
        result[5] = 1; // ELFDATA2LSB
        result[6] = 1; // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(0x10), 3); // ET_DYN
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(0x12), 62); // EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(0x14), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(0x28), (ulong)SectionHeaderOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(0x34), 64); // e_ehsize
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(0x3A), 64); // e_shentsize
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(0x3C), (ushort)sections.Count);
        return result;
    }
}
