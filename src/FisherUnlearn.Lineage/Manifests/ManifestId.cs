namespace FisherUnlearn.Lineage.Manifests;

/// <summary>Ids of models, datasets and removals become file and folder names, so they are plain names:
/// <c>^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$</c>, not ending with '.'.</summary>
public static class ManifestId
{
    public const int MaxLength = 100;

    public static bool IsValid(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength || !char.IsAsciiLetterOrDigit(id[0]) || id[^1] == '.')
        {
            return false;
        }

        for (var i = 1; i < id.Length; i++)
        {
            var c = id[i];
            if (!char.IsAsciiLetterOrDigit(c) && c != '.' && c != '_' && c != '-')
            {
                return false;
            }
        }

        return true;
    }

    // Names Windows keeps for devices, with or without an extension ("nul.txt" is NUL too): no file or folder there can
    // have them, and the tool ships for Windows.
    private static readonly HashSet<string> DeviceNames = new(
        ["CON", "PRN", "AUX", "NUL", .. Enumerable.Range(0, 10).SelectMany(i => new[] { $"COM{i}", $"LPT{i}" })],
        StringComparer.OrdinalIgnoreCase);

    /// <summary>The Windows device name an id would make its files' names (<c>CON</c> for <c>con.v2</c>), or null.</summary>
    public static string? WindowsDeviceName(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var stem = id.Split('.')[0];
        return DeviceNames.Contains(stem) ? stem.ToUpperInvariant() : null;
    }
}
