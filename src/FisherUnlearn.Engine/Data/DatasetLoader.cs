using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;

namespace FisherUnlearn.Engine.Data;

/// <summary>
/// Loads one split of a dataset manifest into memory, in any supported format, and checks that every label is
/// one of the dataset's classes. Nothing is cached: each call reads the files again.
/// </summary>
public static class DatasetLoader
{
    /// <param name="manifest">The dataset; its split paths are absolute.</param>
    /// <param name="split"><c>train</c> or <c>test</c>.</param>
    public static DataSplit Load(DatasetManifest manifest, string split)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var files = manifest.GetSplit(split)
            ?? throw EngineException.Create(DiagnosticCatalogue.DataSplitMissing, manifest.ManifestPath, manifest.Id, split,
                split is "train" or "test" ? "the manifest has none" : "splits are 'train' and 'test'");
        DataSplit result;
        try
        {
            result = manifest.Format switch
            {
                "idx" => LoadIdx(manifest, split, files),
                "csv" => LoadCsv(manifest, split, files),
                "safetensors" => LoadSafetensors(manifest, split, files),
                _ => throw EngineException.Create(DiagnosticCatalogue.UnknownFormat, manifest.ManifestPath, manifest.Format),
            };
        }
        catch (EngineException ex) when (ex.Code == DiagnosticCatalogue.DataFileNotFound.Code && files.FileLocations.TryGetValue(ex.Diagnostic.Location.File, out var written))
        {
            // Not there: reported where the manifest names it (the message names the file).
            throw new EngineException(ex.Diagnostic with { Location = written }, ex.InnerException) { Detail = ex.Detail };
        }

        // 'validate' checks sample indices against the declared count, so it must be the file's.
        if (files.Count is { } declared && declared != result.Count)
        {
            throw EngineException.At(DiagnosticCatalogue.DataDeclaredCountMismatch, files.CountLocation ?? manifest.Location, null, manifest.Id, declared, split,
                files.Images ?? files.Path, result.Count);
        }

        return result;
    }

    private static DataSplit LoadIdx(DatasetManifest manifest, string split, DatasetSplit files)
    {
        var imagesPath = Require(manifest, split, files.Images, "images");
        var labelsPath = Require(manifest, split, files.Labels, "labels");
        var images = IdxReader.ReadImages(imagesPath);
        var labels = IdxReader.ReadLabels(labelsPath);
        if (images.Dimensions[0] != labels.Dimensions[0])
        {
            throw EngineException.Create(DiagnosticCatalogue.DataCountMismatch, imagesPath, imagesPath, images.Dimensions[0], labelsPath, labels.Dimensions[0]);
        }

        var features = new float[images.Data.Length];
        for (var i = 0; i < features.Length; i++)
        {
            features[i] = images.Data[i] / 255f;
        }

        var values = Array.ConvertAll(labels.Data, b => (long)b);
        CheckLabels(labelsPath, values, manifest.Classes);
        return new DataSplit(manifest.Id, split, features, values, images.Dimensions[1..], manifest.Classes);
    }

    private static DataSplit LoadCsv(DatasetManifest manifest, string split, DatasetSplit files)
    {
        var path = Require(manifest, split, files.Path, "path");
        var labelColumn = files.LabelColumn;
        if (string.IsNullOrEmpty(labelColumn))
        {
            throw EngineException.Create(DiagnosticCatalogue.DataSplitMissing, manifest.ManifestPath, manifest.Id, split, "a csv split needs 'labelColumn'");
        }

        var content = CsvDataReader.Read(path, labelColumn, manifest.Classes, Sibling(manifest, split));
        CheckLabels(path, content.Labels, manifest.Classes);
        return new DataSplit(manifest.Id, split, content.Features, content.Labels, [content.FeatureNames.Count], manifest.Classes);
    }

    // The other split's header, when it has one that can be read (loading that split reports what is wrong with it).
    private static CsvDataReader.CsvSibling? Sibling(DatasetManifest manifest, string split)
    {
        var otherSplit = split == "train" ? "test" : "train";
        return manifest.GetSplit(otherSplit) is { Path: { } path, LabelColumn: { Length: > 0 } labelColumn }
            && File.Exists(path)
            && CsvDataReader.TryReadFeatureNames(path, labelColumn) is { } names
                ? new CsvDataReader.CsvSibling(otherSplit, path, names)
                : null;
    }

    private static DataSplit LoadSafetensors(DatasetManifest manifest, string split, DatasetSplit files)
    {
        var path = Require(manifest, split, files.Path, "path");
        var content = SafetensorsDataReader.Read(path);
        CheckLabels(path, content.Labels, manifest.Classes);
        return new DataSplit(manifest.Id, split, content.Features, content.Labels, content.SampleShape, manifest.Classes);
    }

    private static string Require(DatasetManifest manifest, string split, string? path, string field) =>
        path ?? throw EngineException.Create(DiagnosticCatalogue.DataSplitMissing, manifest.ManifestPath, manifest.Id, split,
            $"a {manifest.Format} split needs '{field}'");

    private static void CheckLabels(string path, long[] labels, int classes)
    {
        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0 || labels[i] >= classes)
            {
                throw EngineException.Create(DiagnosticCatalogue.DataLabelOutOfRange, path, path, i, labels[i], classes - 1, classes);
            }
        }
    }
}
