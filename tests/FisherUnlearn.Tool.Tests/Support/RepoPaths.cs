namespace FisherUnlearn.Tool.Tests.Support;

internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The sample workspace committed under samples/digits (read-only in tests: copy before writing).</summary>
    public static string DigitsSample => Path.Combine(Root, "samples", "digits");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FisherUnlearn.Tooling.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("FisherUnlearn.Tooling.sln not found above " + AppContext.BaseDirectory);
    }
}
