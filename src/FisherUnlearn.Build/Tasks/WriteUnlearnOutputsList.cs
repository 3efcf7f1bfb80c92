using Microsoft.Build.Framework;

namespace FisherUnlearn.Build.Tasks;

/// <summary>
/// Writes <c>obj/unlearn.outputs.txt</c>, the list of the outputs a project produced, for <c>dotnet clean</c>
/// (<c>UnlearnClean</c>) and <c>IncrementalClean</c>: one path per line, only when the list changes, so an unchanged build
/// keeps its timestamp. It is bookkeeping, not work a build still has to do: under <c>msbuild -question</c> (MSBuild then
/// sets <see cref="FailIfNotIncremental"/>) nothing is written and nothing fails, where <c>WriteLinesToFile</c> would fail
/// with MSB3492 once an output left the list (a model a removal no longer affects, removed by <c>dotnet unlearn run</c>).
/// </summary>
public sealed class WriteUnlearnOutputsList : Microsoft.Build.Utilities.Task, IIncrementalTask
{
    [Required]
    public string File { get; set; } = string.Empty;

    public ITaskItem[] Lines { get; set; } = [];

    public bool FailIfNotIncremental { get; set; }

    public override bool Execute()
    {
        if (FailIfNotIncremental)
        {
            return true;
        }

        // As WriteLinesToFile wrote it before, so that the first build of this version rewrites nothing.
        var text = string.Concat(Lines.Select(l => l.ItemSpec + Environment.NewLine));
        if (System.IO.File.Exists(File) && string.Equals(System.IO.File.ReadAllText(File), text, StringComparison.Ordinal))
        {
            return true;
        }

        Lineage.IO.AtomicFile.WriteAllText(File, text);
        return true;
    }
}
