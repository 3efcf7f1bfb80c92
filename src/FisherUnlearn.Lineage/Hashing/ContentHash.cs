using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.IO;
using FisherUnlearn.Lineage.Json;

namespace FisherUnlearn.Lineage.Hashing;

/// <summary>
/// SHA-256 content hashes as lowercase hex, the keys of incremental outputs and of the report's provenance.
/// A manifest is hashed by its <see cref="CanonicalJson"/> text, so reformatting or reordering keys does not
/// change its hash while any change of a value does.
/// </summary>
public static class ContentHash
{
    [ThreadStatic]
    private static StringBuilder? cachedBuilder;

    /// <summary>Hash of the canonical JSON of a parsed document.</summary>
    public static string OfJson(JsonNode node) => OfJson(node, null);

    /// <summary>Hash of the canonical JSON of a parsed document without the object properties, at any depth, whose
    /// names <paramref name="omitProperty"/> accepts.</summary>
    public static string OfJson(JsonNode node, Func<string, bool>? omitProperty)
    {
        // Called once per manifest of a workspace load: reuse the builder and buffers of this thread.
        var builder = cachedBuilder ?? new StringBuilder(1024);
        cachedBuilder = null;
        builder.Clear();
        CanonicalJson.Write(node, builder, omitProperty);
        var chars = ArrayPool<char>.Shared.Rent(builder.Length);
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(builder.Length));
        try
        {
            builder.CopyTo(0, chars, builder.Length);
            var count = Encoding.UTF8.GetBytes(chars, 0, builder.Length, bytes, 0);
            return OfBytes(bytes.AsSpan(0, count));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
            ArrayPool<byte>.Shared.Return(bytes);
            if (builder.Capacity <= 1 << 16)
            {
                cachedBuilder = builder;
            }
        }
    }

    /// <summary>Parses JSON text and hashes its canonical form.</summary>
    /// <exception cref="FormatException">The text is not valid JSON (the message holds the first problem).</exception>
    public static string OfJsonText(string json)
    {
        var diagnostics = new DiagnosticBag();
        var node = JsonDocumentReader.Parse(json, string.Empty, diagnostics);
        return node is null
            ? throw new FormatException(diagnostics.Items.Count > 0 ? diagnostics.Items[0].Message : "Invalid JSON.")
            : OfJson(node);
    }

    /// <summary>Hash of the raw bytes of a file (checkpoints, data files), streamed.</summary>
    /// <exception cref="NotARegularFileException">The path leads to a FIFO, a device or a socket (FUL1027), which
    /// would block or never end.</exception>
    public static string OfFile(string path)
    {
        using var stream = RegularFile.OpenRead(path, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static string OfBytes(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Hash of the parts' bytes one after the other: <see cref="OfBytes"/> of their concatenation, without making it.</summary>
    public static string OfParts(IEnumerable<byte[]> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var part in parts)
        {
            hash.AppendData(part);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Hash of a string's UTF-8 bytes.</summary>
    public static string OfText(string text) => OfBytes(Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// One hash for several parts (hashes, versions, parameters), order-sensitive. Each part is length-prefixed
    /// before hashing, so <c>("ab", "c")</c> and <c>("a", "bc")</c> differ.
    /// </summary>
    public static string Combine(params string[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var part in parts)
        {
            var bytes = Encoding.UTF8.GetBytes(part ?? string.Empty);
            BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
