namespace FisherUnlearn.Lineage.Manifests;

/// <summary>
/// What of a dataset manifest shapes what is read from it, as stable text: its id, format and number of classes, and per
/// split which files it has (images, labels, a single file) and a csv's label column. Not where the files lie (callers
/// hash each file's content beside this, in <see cref="DatasetSplit.Files"/> order), nor a declared <c>count</c> (a check
/// the reader makes, not a value it reads), nor <c>x-</c> fields: moving the data files, with their paths in the
/// manifest, retrains nothing and makes no output stale, as moving a checkpoint does not (<see cref="ModelContent"/>).
/// </summary>
public static class DatasetContent
{
    /// <summary>The dataset's content (<see cref="DatasetContent"/>).</summary>
    public static string Of(DatasetManifest dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return string.Join('\n',
            $"dataset {dataset.Id} format={dataset.Format} classes={dataset.Classes}",
            Split("train", dataset.Train),
            Split("test", dataset.Test));
    }

    private static string Split(string name, DatasetSplit? split) => split is null
        ? $"split {name} none"
        : $"split {name} images={split.Images is not null} labels={split.Labels is not null} file={split.Path is not null} labelColumn={split.LabelColumn}";
}
