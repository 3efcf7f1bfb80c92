using System.Globalization;
using System.Text;

namespace FisherUnlearn.Testing;

/// <summary>
/// The smallest useful lineage, shared by the test projects: dataset <c>toy</c> (csv, 4 features, 4 classes),
/// model <c>a</c> (mlp 4-8-4, labels 0 and 1) and its fine-tuned child <c>b</c> (label 2), checkpoints under bin/.
/// </summary>
public static class ToyChain
{
    /// <summary>Writes the dataset and the two lineage manifests, and, when <paramref name="trainRows"/> is given,
    /// seeded csv data (<see cref="Csv"/>) for both splits.</summary>
    public static void Write(TempWorkspace ws, int? trainRows = null, int testRows = 20)
    {
        ws.Write("toy.dataset.json", """
            { "schemaVersion": 1, "id": "toy", "format": "csv", "classes": 4,
              "train": { "path": "data/train.csv", "labelColumn": "label" },
              "test": { "path": "data/test.csv", "labelColumn": "label" } }
            """);
        ws.Write("a/a.lineage.json", """
            { "schemaVersion": 1, "id": "a", "checkpoint": "bin/a.safetensors",
              "architecture": { "kind": "mlp", "inputs": 4, "hidden": [8], "classes": 4 },
              "data": [ { "dataset": "toy", "labels": [0, 1] } ] }
            """);
        ws.Write("b/b.lineage.json", """
            { "schemaVersion": 1, "id": "b", "checkpoint": "bin/b.safetensors",
              "architecture": { "kind": "mlp", "inputs": 4, "hidden": [8], "classes": 4 },
              "parents": [ { "id": "a", "relation": "finetune" } ],
              "data": [ { "dataset": "toy", "labels": [2] } ] }
            """);
        if (trainRows is { } rows)
        {
            ws.Write("data/train.csv", Csv(rows, seed: 1));
            ws.Write("data/test.csv", Csv(testRows, seed: 2));
        }
    }

    /// <summary>Seeded csv rows (header f0..f3,label): label i % 4, feature of the label near 1, the others near 0.</summary>
    public static string Csv(int rows, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder("f0,f1,f2,f3,label\n");
        for (var i = 0; i < rows; i++)
        {
            var label = i % 4;
            for (var f = 0; f < 4; f++)
            {
                var value = (f == label ? 1.0 : 0.0) + (random.NextDouble() * 0.5);
                text.Append(value.ToString("0.####", CultureInfo.InvariantCulture)).Append(',');
            }

            text.Append(label.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return text.ToString();
    }
}
