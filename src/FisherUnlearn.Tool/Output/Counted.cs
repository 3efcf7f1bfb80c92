using System.Globalization;

namespace FisherUnlearn.Tool.Output;

/// <summary>A count with its noun in the singular or the plural: "1 dataset", "2 errors".</summary>
internal static class Counted
{
    /// <summary><paramref name="noun"/> takes an "s" unless <paramref name="n"/> is 1.</summary>
    public static string Of(int n, string noun) => $"{n.ToString(CultureInfo.InvariantCulture)} {noun}{(n == 1 ? string.Empty : "s")}";
}
