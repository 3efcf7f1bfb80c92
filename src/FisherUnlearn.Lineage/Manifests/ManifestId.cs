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
}
