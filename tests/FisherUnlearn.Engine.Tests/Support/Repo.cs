namespace FisherUnlearn.Engine.Tests.Support;

/// <summary>Finds files of the repository (the sample data) from the test's output folder.</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

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

        throw new InvalidOperationException("The repository root (FisherUnlearn.Tooling.sln) was not found above the test folder.");
    }
}
