using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Text;

namespace FisherUnlearn.Lineage.Graph;

/// <summary>
/// The cross-file rules of a workspace: what no single manifest can check on its own. Every problem is reported,
/// each at the file, line and column of the offending element, in a deterministic order (file, line, column, code).
/// </summary>
/// <remarks>
/// Rules: unknown parents (FUL2001), unknown datasets in a model's data or a removal's samples (FUL2002),
/// cycles (FUL2003, once per strongly connected group, naming one shortest cycle), self-parents (FUL2004),
/// <c>aggregate</c>/<c>merge</c> with fewer than two parents (FUL2005), <c>finetune</c>/<c>transfer</c>/<c>distill</c>
/// with more than one (FUL2008), duplicate parents (FUL2009), mixed relations (FUL2010), architecture mismatch
/// across weight-inheriting links (FUL2011), sample indices beyond a split's declared count (FUL2013), an output
/// layer with fewer classes than a dataset trained on (FUL2015), and labels outside a dataset's classes (FUL1016):
/// in a model's data against that dataset, in a removal against the dataset with the most classes (a removal's
/// labels apply to every dataset, so a label is out of range only when no dataset has it).
/// Parent counts are of distinct parents; they are checked only when the relations agree. A checkpoint path must be the
/// model's own (FUL2017): not another model's checkpoint (<c>train</c> would write one model over the other, and
/// <c>run</c> unlearn one model's weights as the other's), nor a data file, a manifest or a module assembly, which
/// <c>train</c> would overwrite; paths differing only in case count as one, as they are on Windows and macOS, and paths
/// are compared where they lead (symbolic links resolved).
/// </remarks>
public static class GraphValidator
{
    private const int MaxSampleReportsPerSelection = 5;

    /// <summary>Validates the workspace, building its graph.</summary>
    public static IReadOnlyList<Diagnostic> Validate(Workspace workspace) => Validate(workspace, LineageGraph.Build(workspace));

    /// <summary>Validates the workspace with an already built graph of it.</summary>
    public static IReadOnlyList<Diagnostic> Validate(Workspace workspace, LineageGraph graph)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(graph);
        var bag = new DiagnosticBag();
        for (var i = 0; i < graph.Count; i++)
        {
            var model = graph.ManifestAt(i);
            CheckParents(workspace, model, bag);
            CheckData(workspace, model, bag);
        }

        foreach (var removal in workspace.Removals.Values)
        {
            CheckRemoval(workspace, removal, bag);
        }

        CheckCheckpointPaths(workspace, bag);

        bag.AddRange(CycleDiagnostics(graph));
        return bag.ToSortedList();
    }

    /// <summary>FUL2003 for each cycle of the graph, at the parent link that closes it in its first model's manifest.</summary>
    internal static IEnumerable<Diagnostic> CycleDiagnostics(LineageGraph graph)
    {
        foreach (var cycle in graph.CycleIndices)
        {
            var first = graph.ManifestAt(cycle[0]);
            var closing = graph.IdAt(cycle[^1]);
            var link = first.Parents.FirstOrDefault(p => p.Id == closing);
            var text = string.Join(" -> ", cycle.Select(graph.IdAt).Append(first.Id));
            yield return Diagnostic.Create(DiagnosticCatalogue.Cycle, link?.Location ?? first.Location, text);
        }
    }

    private static void CheckParents(Workspace workspace, ModelManifest model, DiagnosticBag bag)
    {
        if (model.Parents.Count == 0)
        {
            return;
        }

        var distinct = new HashSet<string>(StringComparer.Ordinal);
        var reportedDuplicates = new HashSet<string>(StringComparer.Ordinal);
        var distinctLinks = new List<ParentLink>();
        foreach (var link in model.Parents)
        {
            if (!distinct.Add(link.Id))
            {
                if (reportedDuplicates.Add(link.Id))
                {
                    bag.Report(DiagnosticCatalogue.DuplicateParent, link.Location, model.Id, link.Id);
                }

                continue;
            }

            distinctLinks.Add(link);
            if (link.Id == model.Id)
            {
                bag.Report(DiagnosticCatalogue.SelfParent, link.Location, model.Id);
            }
            else if (!workspace.Models.TryGetValue(link.Id, out var parent))
            {
                // Never the model's own id as the "did you mean": that would be its own parent (FUL2004).
                bag.Report(DiagnosticCatalogue.UnknownParent, link.Location, link.Id, EditDistance.DidYouMean(link.Id, workspace.Models.Keys.Where(k => k != model.Id)));
            }
            else if (link.Relation.InheritsWeights() && model.ArchitectureComplete && parent.ArchitectureComplete
                && !model.Architecture.StructurallyEquals(parent.Architecture))
            {
                // Where the parent's architecture is written: the mistake may be there (QA: a typo in a parent's type was
                // reported at each child only, with 'use distill' as the fix).
                var there = parent.ArchitectureLocation ?? parent.Location;
                bag.Report(DiagnosticCatalogue.ArchitectureMismatch, link.Location,
                    model.Id, model.Architecture, link.Relation.ToName(), parent.Id, parent.Architecture,
                    (there with { File = workspace.Relative(there.File) }).ToString());
            }
            else if (link.Relation == Relation.Distill && model.ArchitectureComplete && parent.ArchitectureComplete
                && model.Architecture.Classes != parent.Architecture.Classes)
            {
                // The distillation loss compares the two output distributions class by class (train failed with a tensor
                // size error, FUL4066, after validate had said the workspace was valid).
                bag.Report(DiagnosticCatalogue.DistillClassMismatch, link.Location, model.Id, model.Architecture.Classes, parent.Id, parent.Architecture.Classes);
            }
        }

        if (!model.ParentsComplete)
        {
            return; // an unreadable parent entry has its own error; counting the rest would contradict the manifest
        }

        var relations = model.Parents.Select(p => p.Relation).Distinct().ToList();
        if (relations.Count > 1)
        {
            var odd = model.Parents.First(p => p.Relation != relations[0]);
            bag.Report(DiagnosticCatalogue.MixedRelations, odd.Location, model.Id, string.Join(", ", relations.Select(r => r.ToName())));
            return;
        }

        var relation = relations[0];
        if (relation.CombinesParents() && distinctLinks.Count < 2)
        {
            bag.Report(DiagnosticCatalogue.TooFewParents, distinctLinks[0].Location, relation.ToName(), model.Id, distinctLinks.Count);
        }
        else if (!relation.CombinesParents() && distinctLinks.Count > 1)
        {
            bag.Report(DiagnosticCatalogue.TooManyParents, distinctLinks[1].Location, relation.ToName(), model.Id, distinctLinks.Count);
        }
    }

    private static void CheckData(Workspace workspace, ModelManifest model, DiagnosticBag bag)
    {
        HashSet<string>? classChecked = null;
        foreach (var use in model.Data)
        {
            if (!workspace.Datasets.TryGetValue(use.Dataset, out var dataset))
            {
                bag.Report(DiagnosticCatalogue.UnknownDataset, use.DatasetLocation ?? use.Location, use.Dataset, EditDistance.DidYouMean(use.Dataset, workspace.Datasets.Keys));
                continue;
            }

            // A dataset or architecture whose own 'classes' was refused (reported in its file) reads as 0 here: nothing
            // to compare against, and saying "outside 0..-1" would only repeat that error.
            if (use.Labels is { } labels && dataset.Classes > 0)
            {
                foreach (var label in labels)
                {
                    if (label < 0 || label >= dataset.Classes)
                    {
                        bag.Report(DiagnosticCatalogue.LabelOutOfRange, use.LabelLocations.GetValueOrDefault(label) ?? use.Location, label, dataset.Classes - 1, dataset.Classes, $"'{dataset.Id}'");
                    }
                }
            }

            if (model.Architecture.Classes > 0 && model.Architecture.Classes < dataset.Classes && (classChecked ??= new(StringComparer.Ordinal)).Add(dataset.Id))
            {
                bag.Report(DiagnosticCatalogue.TooFewClasses, use.Location, model.Id, model.Architecture.Classes, dataset.Id, dataset.Classes);
            }
        }
    }

    private static void CheckRemoval(Workspace workspace, RemovalManifest removal, DiagnosticBag bag)
    {
        // A dataset whose own 'classes' was refused (reported in its file) reads as 0: its labels are unknown, so no label
        // can be said to lie beyond every dataset's (QA: "outside 0..-1 (the 0 classes of 'mnist')" on every removal).
        if (removal.Labels.Count > 0 && workspace.Datasets.Count > 0 && workspace.Datasets.Values.All(d => d.Classes > 0))
        {
            var widest = workspace.Datasets.Values
                .OrderByDescending(d => d.Classes)
                .ThenBy(d => d.Id, StringComparer.Ordinal)
                .First();
            foreach (var label in removal.Labels.Distinct())
            {
                if (label < 0 || label >= widest.Classes)
                {
                    bag.Report(DiagnosticCatalogue.LabelOutOfRange, removal.LabelLocations.GetValueOrDefault(label) ?? removal.Location, label, widest.Classes - 1, widest.Classes,
                        $"'{widest.Id}', the dataset with the most classes");
                }
            }
        }

        // The datasets of entries left out for another mistake too, so that every problem is listed at once.
        foreach (var (id, at) in removal.DroppedSampleDatasets.Where(d => !workspace.Datasets.ContainsKey(d.Id)))
        {
            bag.Report(DiagnosticCatalogue.UnknownDataset, at, id, EditDistance.DidYouMean(id, workspace.Datasets.Keys));
        }

        foreach (var selection in removal.Samples)
        {
            if (!workspace.Datasets.TryGetValue(selection.Dataset, out var dataset))
            {
                bag.Report(DiagnosticCatalogue.UnknownDataset, selection.Location, selection.Dataset, EditDistance.DidYouMean(selection.Dataset, workspace.Datasets.Keys));
                continue;
            }

            if (dataset.GetSplit(selection.Split)?.Count is { } count)
            {
                var reported = 0;
                foreach (var index in selection.Indices)
                {
                    if ((index < 0 || index >= count) && reported++ < MaxSampleReportsPerSelection)
                    {
                        bag.Report(DiagnosticCatalogue.SampleOutOfRange, selection.Location, index, selection.Split, dataset.Id, count);
                    }
                }
            }
        }
    }

    private static void CheckCheckpointPaths(Workspace workspace, DiagnosticBag bag)
    {
        // Every file a checkpoint must not be, with what it is; checkpoints are added model by model in id order, so a
        // collision is reported at the later model, naming the first.
        var taken = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var physical = new IO.PhysicalPath.Resolver();
        void Take(string path, string what)
        {
            if (path.Length > 0)
            {
                taken.TryAdd(physical.Of(path), what);
            }
        }

        if (workspace.Settings.SettingsPath is { } settings)
        {
            Take(settings, $"the workspace's settings '{WorkspaceSettings.FileName}'");
        }

        foreach (var dataset in workspace.Datasets.Values.OrderBy(d => d.Id, StringComparer.Ordinal))
        {
            Take(dataset.ManifestPath, $"the manifest of dataset '{dataset.Id}'");
            foreach (var file in Planning.JobInputs.DataFiles(dataset))
            {
                Take(file, $"a data file of dataset '{dataset.Id}'");
            }
        }

        foreach (var removal in workspace.Removals.Values)
        {
            Take(removal.ManifestPath, $"the manifest of removal '{removal.Id}'");
        }

        var models = workspace.Models.Values.OrderBy(m => m.Id, StringComparer.Ordinal).ToList();
        foreach (var model in models)
        {
            Take(model.ManifestPath, $"the manifest of model '{model.Id}'");
            if (model.Architecture.Kind == ArchitectureSpec.Custom && !string.IsNullOrWhiteSpace(model.Architecture.Assembly))
            {
                Take(Path.Combine(model.ManifestDirectory, model.Architecture.Assembly), $"the module assembly of model '{model.Id}'");
            }
        }

        foreach (var model in models.Where(m => m.CheckpointPath.Length > 0)) // one that could not be read is reported where it is written
        {
            var path = physical.Of(model.CheckpointPath); // through symbolic links: a linked folder or file is the same file
            if (taken.TryGetValue(path, out var what))
            {
                var sameCase = taken.Keys.First(k => string.Equals(k, path, StringComparison.OrdinalIgnoreCase));
                bag.Report(DiagnosticCatalogue.CheckpointNotOwn, model.CheckpointLocation ?? model.Location, model.Id, what,
                    string.Equals(sameCase, path, StringComparison.Ordinal) ? string.Empty : " (the paths differ only in case: one file on Windows and macOS)");
            }
            else
            {
                taken.Add(path, $"the checkpoint of model '{model.Id}'");
            }
        }
    }
}
