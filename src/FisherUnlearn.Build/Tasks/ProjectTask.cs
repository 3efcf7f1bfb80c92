namespace FisherUnlearn.Build.Tasks;

/// <summary>
/// A task whose diagnostics without a manifest place point at the project that runs it. MSBuild's
/// <c>ProjectFileOfTaskNode</c> names the file the task element is written in, which for these tasks is the package's
/// targets file in the NuGet cache: no one can fix an error there, and in GitHub Actions it would be annotated outside the
/// repository. The targets pass <c>$(MSBuildProjectFullPath)</c> as <see cref="ProjectFile"/>.
/// </summary>
public abstract class ProjectTask : Microsoft.Build.Utilities.Task
{
    /// <summary>The project being built (<c>$(MSBuildProjectFullPath)</c>).</summary>
    public string ProjectFile { get; set; } = string.Empty;

    /// <summary>Where a diagnostic without a place of its own is reported: the project, else the task's node.</summary>
    protected string? ProjectForDiagnostics => ProjectFile.Length > 0 ? ProjectFile : BuildEngine?.ProjectFileOfTaskNode;
}
