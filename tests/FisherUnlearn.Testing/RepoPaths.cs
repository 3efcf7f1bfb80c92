namespace FisherUnlearn.Testing;

/// <summary>Files of the repository (the committed sample workspace and its data), found from a test's output folder.</summary>
public static class RepoPaths
{
    /// <summary>The repository root: the first folder above the test assembly that holds FisherUnlearn.Tooling.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The sample workspace committed under samples/digits (read-only in tests: copy before writing).</summary>
    public static string DigitsSample => Path.Combine(Root, "samples", "digits");

    /// <summary>The gzipped IDX files of the 10,000 MNIST digits the sample uses.</summary>
    public static string DigitsData => Path.Combine(DigitsSample, "data");

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FisherUnlearn.Tooling.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (FisherUnlearn.Tooling.sln) was not found above " + AppContext.BaseDirectory);
    }
}
