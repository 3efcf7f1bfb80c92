namespace FisherUnlearn.Lineage.Text;

/// <summary>Lists of names in messages.</summary>
public static class NameList
{
    /// <summary><c>'a', 'b', 'c'</c>, at most <paramref name="max"/> names then "and N more"; "none" when empty.</summary>
    public static string Quoted(IReadOnlyCollection<string> names, int max = 20)
    {
        if (names.Count == 0)
        {
            return "none";
        }

        var shown = string.Join(", ", names.Take(max).Select(n => $"'{n}'"));
        return names.Count > max ? $"{shown} and {names.Count - max} more" : shown;
    }
}
