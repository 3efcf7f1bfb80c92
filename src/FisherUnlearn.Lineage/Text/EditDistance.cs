namespace FisherUnlearn.Lineage.Text;

/// <summary>Levenshtein distance (case-insensitive) and "did you mean" hints for misspelt field names and ids.</summary>
public static class EditDistance
{
    /// <summary>The case-insensitive edit distance between two strings.</summary>
    public static int Compute(string a, string b) => Distance(a, b, int.MaxValue - 1);

    /// <summary>The closest candidate within a third of the name's length (at least 2 edits), ties by ordinal order, or null. Candidates whose length alone rules them out are skipped without computing a distance.</summary>
    public static string? Closest(string name, IEnumerable<string> candidates)
    {
        var limit = Math.Max(2, name.Length / 3);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            if (Math.Abs(candidate.Length - name.Length) > Math.Min(limit, bestDistance))
            {
                continue;
            }

            var d = Distance(name, candidate, Math.Min(limit, bestDistance));
            if (d < 0)
            {
                continue;
            }

            if (d < bestDistance || (d == bestDistance && string.CompareOrdinal(candidate, best) < 0))
            {
                best = candidate;
                bestDistance = d;
            }
        }

        return best;
    }

    /// <summary><c> (did you mean 'x'?)</c>, or the empty string without a close candidate.</summary>
    public static string DidYouMean(string name, IEnumerable<string> candidates) =>
        Closest(name, candidates) is { } hint ? $" (did you mean '{hint}'?)" : string.Empty;

    /// <summary><see cref="DidYouMean"/>, or without a close candidate <c>; known: 'a', 'b' and n more</c> (QA: an id
    /// with nothing close said only that it was not there).</summary>
    public static string DidYouMeanOrKnown(string name, IEnumerable<string> candidates)
    {
        var all = candidates.Order(StringComparer.Ordinal).ToList();
        return Closest(name, all) is { } hint ? $" (did you mean '{hint}'?)" : $"; known: {NameList.Quoted(all, 10)}";
    }

    /// <summary>The case-insensitive edit distance, or -1 when it exceeds <paramref name="max"/>.</summary>
    private static int Distance(string a, string b, int max)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            var rowMin = current[0];
            var ca = char.ToLowerInvariant(a[i - 1]);
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = ca == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
                rowMin = Math.Min(rowMin, current[j]);
            }

            if (rowMin > max)
            {
                return -1;
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length] <= max ? previous[b.Length] : -1;
    }

}
