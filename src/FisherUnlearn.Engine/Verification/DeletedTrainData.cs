using FisherUnlearn.Engine.Unlearning;
using FisherUnlearn.Lineage;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Planning;
using FisherUnlearn.Lineage.Text;

namespace FisherUnlearn.Engine.Verification;

/// <summary>
/// What a label request loses when train data files were deleted after the harvest (design.md section 2): nothing of the
/// unlearning, which the cached harvest and forget plans serve, but the membership-inference rate, whose attack needs
/// train samples (<see cref="MetricsEvaluator.TrainDataDeleted"/>). One FUL5008 warning per such dataset, at the line of
/// its manifest that names the file (at the manifest when several are gone). A link that leads nowhere counts as deleted;
/// a folder in a file's place does not (it is FUL4001). A sample request gets none: it cannot run without the samples, and
/// says so with the missing file's FUL4001.
/// </summary>
public static class DeletedTrainData
{
    public static IReadOnlyList<Diagnostic> Warnings(WorkspaceAnalysis analysis, RemovalPlan plan)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Removal.Samples.Count > 0)
        {
            return [];
        }

        var models = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var datasets = new Dictionary<string, Lineage.Manifests.DatasetManifest>(StringComparer.Ordinal);
        foreach (var affected in plan.Affected.Where(a => analysis.Workspace.Models.ContainsKey(a.Id)))
        {
            foreach (var knowledge in RemovalScope.KnowledgeOf(analysis.Workspace, analysis.Graph, affected.Id).Where(k => RemovalData.Deleted(k.Dataset.Train)))
            {
                datasets[knowledge.Dataset.Id] = knowledge.Dataset;
                (models.TryGetValue(knowledge.Dataset.Id, out var ids) ? ids : models[knowledge.Dataset.Id] = new SortedSet<string>(StringComparer.Ordinal)).Add(affected.Id);
            }
        }

        return [.. models.Select(m =>
        {
            var dataset = datasets[m.Key];
            var gone = RemovalData.DeletedFiles(dataset.Train);
            // At the line that names the file, when one is gone; at the manifest when several are.
            var location = gone.Count == 1 ? dataset.Train.FileLocations.GetValueOrDefault(gone[0]) ?? dataset.Location : dataset.Location;
            return Diagnostic.Create(DiagnosticCatalogue.TrainDataDeleted, location, dataset.Id, string.Join(", ", gone.Select(analysis.Workspace.Relative)), NameList.Quoted(m.Value));
        })];
    }
}
