using System.Text;
using FisherUnlearn.Lineage.Manifests;
using FisherUnlearn.Lineage.Schemas;

namespace FisherUnlearn.Tool.Scaffolding;

/// <summary>
/// What <c>dotnet unlearn init</c> writes, relative to the workspace root: <c>unlearn.json</c> with every default
/// spelled out, the JSON Schemas of the four file kinds under <c>.unlearn/schemas/</c>, and a small example lineage
/// under <c>examples/</c> (a dataset, a base model, a fine-tuned child and a removal request) with a README that
/// explains each field. JSON has no comments, so the files explain themselves in <c>x-comment</c> fields, which the
/// readers ignore (unknown fields starting with <c>x-</c> are extensions). Every file points at its schema with a
/// relative <c>$schema</c>, so editors complete and check fields. The examples are valid together: <c>dotnet unlearn
/// validate</c> passes on a fresh <c>init</c>. Text is UTF-8 without a BOM, with '\n' line ends on every OS.
/// </summary>
internal static class InitTemplates
{
    public const string SchemaFolder = ".unlearn/schemas";

    /// <summary>The files in the order they are written (and reported).</summary>
    /// <summary>Whether a scaffolded path is one of the examples (meant to be copied, then deleted).</summary>
    public static bool IsExample(string relativePath) => relativePath.StartsWith("examples/", StringComparison.Ordinal);

    /// <summary>The <c>.gitignore</c> init writes where the folder has none (never over one: that is the user's, even with
    /// --force): the output folder of its <c>unlearn.json</c> holds outputs, reports and the harvest cache, which are
    /// published as build artifacts, not committed (QA: a new user's first commit held them).</summary>
    public static (string Path, byte[] Content) GitIgnore { get; } = (".gitignore", Text("""
        # dotnet unlearn: unlearned checkpoints, their reports and the Fisher harvest cache ('output' of unlearn.json).
        # Publish them as build artifacts (docs/github-actions.md); commit the manifests, not these.
        /artifacts/
        """));

    public static IReadOnlyList<(string Path, byte[] Content)> Files()
    {
        var files = new List<(string, byte[])>
        {
            (WorkspaceSettings.FileName, Text(Settings)),
            ("examples/README.md", Text(Readme)),
            ("examples/example.dataset.json", Text(Dataset)),
            ("examples/base/base.lineage.json", Text(BaseModel)),
            ("examples/child/child.lineage.json", Text(ChildModel)),
            ("examples/forget-label.removal.json", Text(Removal)),
        };
        foreach (var kind in new[] { ManifestKind.Settings, ManifestKind.Lineage, ManifestKind.Dataset, ManifestKind.Removal })
        {
            files.Add(($"{SchemaFolder}/{ManifestSchemas.FileName(kind)}", Text(ManifestSchemas.Get(kind))));
        }

        return files;
    }

    /// <summary>What earlier versions of init wrote at <paramref name="relativePath"/>: init brings such a file up to date
    /// (nobody edited it), and the demo keeps it as the tool's, not "yours differ". Until the twenty-ninth session <c>unlearn.json</c>'s first comment pointed
    /// at examples/README.md, which init does not write in a folder with models of its own (QA).</summary>
    public static IEnumerable<byte[]> Earlier(string relativePath) => relativePath == WorkspaceSettings.FileName ? [Text(SettingsUntilSession29)] : [];

    // unlearn.json as init wrote it until the twenty-ninth session, byte for byte (its first comment pointed at
    // examples/README.md): kept as written then, not derived from today's template, which may change in other lines.
    private const string SettingsUntilSession29 = """
        {
          "$schema": ".unlearn/schemas/settings.schema.json",
          "x-comment": "dotnet unlearn workspace settings. Every field is optional; the values below are the defaults. Fields starting with 'x-' are ignored. See examples/README.md.",
          "schemaVersion": 1,
          "x-comment-include": "Globs (relative to this folder) of the manifests to read.",
          "include": ["**/*.lineage.json", "**/*.dataset.json", "**/*.removal.json"],
          "x-comment-exclude": "Globs left out. bin/ and obj/ are always left out.",
          "exclude": ["**/bin/**", "**/obj/**"],
          "x-comment-output": "Where unlearned checkpoints and reports go: <output>/<removal-id>/.",
          "output": "artifacts/unlearn",
          "x-comment-method": "The unlearning method when a removal request names none: fiun (Fisher information unlearning; MFIM for several roots).",
          "method": "fiun",
          "x-comment-parameters": "Method settings (names mapped to strings, numbers or booleans); a removal request's own parameters win.",
          "parameters": {},
          "x-comment-parallelism": "Optional: \"parallelism\": <n> (models unlearned at once) and \"threads\": <n> (TorchSharp threads per model), 1 to 1024. Omitted, 'dotnet unlearn run' chooses them (its --parallel and --threads override both)."
        }
        """;

    private static byte[] Text(string text) =>
        new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text.ReplaceLineEndings("\n").TrimEnd('\n') + "\n");

    private const string Settings = """
        {
          "$schema": ".unlearn/schemas/settings.schema.json",
          "x-comment": "dotnet unlearn workspace settings. Every field is optional; the values below are the defaults, and each x-comment-* field says what the field after it does. Fields starting with 'x-' are ignored.",
          "schemaVersion": 1,
          "x-comment-include": "Globs (relative to this folder) of the manifests to read.",
          "include": ["**/*.lineage.json", "**/*.dataset.json", "**/*.removal.json"],
          "x-comment-exclude": "Globs left out. bin/ and obj/ are always left out.",
          "exclude": ["**/bin/**", "**/obj/**"],
          "x-comment-output": "Where unlearned checkpoints and reports go: <output>/<removal-id>/.",
          "output": "artifacts/unlearn",
          "x-comment-method": "The unlearning method when a removal request names none: fiun (Fisher information unlearning; MFIM for several roots).",
          "method": "fiun",
          "x-comment-parameters": "Method settings (names mapped to strings, numbers or booleans); a removal request's own parameters win.",
          "parameters": {},
          "x-comment-parallelism": "Optional: \"parallelism\": <n> (models unlearned at once) and \"threads\": <n> (TorchSharp threads per model), 1 to 1024. Omitted, 'dotnet unlearn run' chooses them (its --parallel and --threads override both)."
        }
        """;

    private const string Dataset = """
        {
          "$schema": "../.unlearn/schemas/dataset.schema.json",
          "x-comment": "A dataset: its id (what lineage manifests and removal requests name), format, number of classes and the files of its splits, relative to this file. Formats: idx (optionally gzipped), csv (path, labelColumn, header row), safetensors (path; tensors x and y).",
          "schemaVersion": 1,
          "id": "example",
          "format": "idx",
          "classes": 10,
          "train": { "images": "data/train-images-idx3-ubyte.gz", "labels": "data/train-labels-idx1-ubyte.gz" },
          "test": { "images": "data/test-images-idx3-ubyte.gz", "labels": "data/test-labels-idx1-ubyte.gz" }
        }
        """;

    private const string BaseModel = """
        {
          "$schema": "../../.unlearn/schemas/lineage.schema.json",
          "x-comment": "One model, stored next to the project that trains it. 'data' lists the model's OWN training data (labels omitted = every label); what its parents learned is inherited. 'training' is the recipe 'dotnet unlearn train' and exact retraining use.",
          "schemaVersion": 1,
          "id": "example-base",
          "checkpoint": "bin/example-base.safetensors",
          "architecture": { "kind": "mlp", "inputs": 784, "hidden": [256, 128], "classes": 10 },
          "data": [ { "dataset": "example", "labels": [0, 1, 2, 3, 4] } ],
          "training": { "epochs": 3, "batchSize": 64, "optimizer": "adam", "learningRate": 0.001, "seed": 1 }
        }
        """;

    private const string ChildModel = """
        {
          "$schema": "../../.unlearn/schemas/lineage.schema.json",
          "x-comment": "A child of example-base: it continues training from the parent's weights ('finetune'). Other relations: aggregate (average of two or more parents, then train), transfer (copy a parent, train only training.trainable), distill (learn from a teacher's outputs), merge (combine weights, no training).",
          "schemaVersion": 1,
          "id": "example-child",
          "checkpoint": "bin/example-child.safetensors",
          "architecture": { "kind": "mlp", "inputs": 784, "hidden": [256, 128], "classes": 10 },
          "parents": [ { "id": "example-base", "relation": "finetune" } ],
          "data": [ { "dataset": "example", "labels": [5, 6, 7] } ],
          "training": { "epochs": 2, "batchSize": 64, "optimizer": "adam", "learningRate": 0.0005, "seed": 2 }
        }
        """;

    private const string Removal = """
        {
          "$schema": "../.unlearn/schemas/removal.schema.json",
          "x-comment": "A removal request: what every model that learned it, directly or by inheritance, must forget. Here label 3, which example-base trains on, so example-base is a root and example-child a descendant. Samples are forgotten with \"samples\": [ { \"dataset\": \"example\", \"split\": \"train\", \"indices\": [10, 11] } ].",
          "schemaVersion": 1,
          "id": "example-forget-label",
          "reason": "Example: every sample of label 3 must be forgotten.",
          "forget": { "labels": [3] },
          "method": "fiun",
          "targets": { "maxForgetAccuracy": 0.01, "maxRetainDrop": 0.02 },
          "requestedAt": "2026-01-01"
        }
        """;

    private const string Readme = """
        # dotnet unlearn: example manifests

        `dotnet unlearn init` wrote these files as a starting point. They are valid together
        (`dotnet unlearn validate` passes), and they are real manifests: the tool reads every `*.lineage.json`,
        `*.dataset.json` and `*.removal.json` under the workspace (see `include` in `../unlearn.json`). Copy them
        next to your training projects and change them, then delete this folder.

        JSON has no comments, so each file explains itself in `x-comment` fields: fields whose name starts with `x-`
        are extensions, which the tool ignores. `$schema` points at the JSON Schemas in `../.unlearn/schemas/`, so
        editors complete and check the fields. All paths are relative to the manifest's own folder and must stay
        inside the workspace.

        ## `example.dataset.json`: a dataset

        | field | meaning |
        |---|---|
        | `schemaVersion` | `1` |
        | `id` | the name lineage manifests and removal requests use (letters, digits, `.`, `_`, `-`) |
        | `format` | `idx` (optionally gzipped), `csv` or `safetensors` (tensors `x` and `y`) |
        | `classes` | number of labels, `0` to `classes - 1` |
        | `train`, `test` | the split's files: `images` and `labels` (idx), or `path` and `labelColumn` (csv, header row), or `path` (safetensors) |

        Samples are addressed by zero-based index within a split.

        ## `base/base.lineage.json` and `child/child.lineage.json`: models

        One lineage manifest per model (checkpoint), stored next to the project that trains it.

        | field | meaning |
        |---|---|
        | `id` | the model's name |
        | `checkpoint` | its `.safetensors` file; originals are never modified |
        | `architecture` | `mlp` (`inputs`, `hidden`, `classes`), `cnn` (`inputShape` such as `[1, 28, 28]`, `classes`) or `custom` (`assembly`, `type`) |
        | `parents` | `[ { "id", "relation" } ]`; relation is `finetune`, `aggregate`, `transfer`, `distill` or `merge` |
        | `data` | the model's *own* training data: `[ { "dataset", "labels" } ]`, labels omitted = every label; what parents learned is inherited |
        | `training` | the recipe for `dotnet unlearn train` and exact retraining: `epochs`, `batchSize`, `optimizer` (`sgd`, `adam`), `learningRate`, `momentum`, `weightDecay`, `seed`; `trainable` (globs over parameter names) for `transfer`; `temperature` for `distill` |

        `example-child` fine-tunes `example-base`, so it has learned labels 0-4 (inherited) and 5-7 (its own): a removal of
        label 3 reaches it. Fine-tuned on 5-7 alone, it keeps only part of what it inherited, so its retain accuracy on 0-4
        is low before and after unlearning; a child meant to keep its parent's labels also lists them (or a sample of them)
        in its own `data`.

        ## `forget-label.removal.json`: a removal request

        | field | meaning |
        |---|---|
        | `id`, `reason` | the request's name and why it was made |
        | `forget` | `labels` and/or `samples` (`[ { "dataset", "split", "indices" } ]`) |
        | `method`, `parameters` | how to unlearn (default: `unlearn.json`'s `method`, else `fiun`) |
        | `targets` | `maxForgetAccuracy`, `maxRetainDrop`: what `dotnet unlearn verify` checks |
        | `requestedAt` | ISO 8601 date or date-time |

        Try it: `dotnet unlearn plan example-forget-label` shows `example-base` as the root (it trains on label 3)
        and `example-child` as a descendant (it inherits label 3).

        ## `../unlearn.json`: workspace settings

        Optional, at the workspace root; `init` spells out the defaults: `include`/`exclude` globs for finding
        manifests (bin/ and obj/ are always excluded), `output` (default `artifacts/unlearn`), and defaults for
        `method`, `parameters`, `parallelism` and `threads`.
        """;
}
