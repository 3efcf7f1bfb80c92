using FisherUnlearn.Testing;

namespace FisherUnlearn.Build.Tests.Support;

/// <summary>The repository's sample workspace (samples/digits), manifests only, copied to a temporary folder.</summary>
internal static class Digits
{
    public static string RepoRoot { get; } = RepoPaths.Root;

    public static TempWorkspace Copy()
    {
        var ws = new TempWorkspace("fiun-build");
        var sample = Path.Combine(RepoRoot, "samples", "digits");
        foreach (var file in Directory.EnumerateFiles(sample, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(sample, file).Replace('\\', '/');
            if (relative.Split('/').Any(p => p is "bin" or "obj" or "artifacts") || relative.StartsWith("data/", StringComparison.Ordinal) && !relative.EndsWith(".gz", StringComparison.Ordinal))
            {
                continue;
            }

            ws.WriteBytes(relative, File.ReadAllBytes(file));
        }

        return ws;
    }

}
