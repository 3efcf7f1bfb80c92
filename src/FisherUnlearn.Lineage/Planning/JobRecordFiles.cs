namespace FisherUnlearn.Lineage.Planning;

/// <summary>Where <c>dotnet unlearn run</c> records each finished job: <c>&lt;removal folder&gt;/.jobs/&lt;model&gt;.json</c>,
/// beside the output it vouches for. The tool writes and reads the records; the MSBuild tasks read them to tell an output
/// the tool made for the current request from one placed there otherwise.</summary>
public static class JobRecordFiles
{
    public const string FolderName = ".jobs";

    public static string PathOf(string removalDirectory, string modelId) => Path.Combine(removalDirectory, FolderName, modelId + ".json");
}
