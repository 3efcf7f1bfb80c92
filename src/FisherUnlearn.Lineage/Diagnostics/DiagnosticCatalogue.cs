namespace FisherUnlearn.Lineage.Diagnostics;

/// <summary>
/// The one catalogue of FUL diagnostic codes. Ranges: 1xxx manifests and settings, 2xxx graph and plan,
/// 3xxx tool and build integration, 4xxx engine (checkpoints, datasets, compute), 5xxx verification.
/// Codes are stable: never reuse or renumber one. Messages say what to do.
/// </summary>
public static class DiagnosticCatalogue
{
    private static DiagnosticDescriptor Error(string code, string title, string message) => new(code, Severity.Error, title, message);

    private static DiagnosticDescriptor Warning(string code, string title, string message) => new(code, Severity.Warning, title, message);

    private static DiagnosticDescriptor Info(string code, string title, string message) => new(code, Severity.Info, title, message);

    // 1xxx: manifests and settings
    public static readonly DiagnosticDescriptor MalformedJson = Error("FUL1001", "Malformed JSON",
        "The file is not valid JSON: {0}. Fix the syntax at this position.");
    public static readonly DiagnosticDescriptor InvalidUtf8 = Error("FUL1002", "Invalid UTF-8",
        "The file is not valid UTF-8 (byte 0x{0:X2} at offset {1}). Save it as UTF-8.");
    public static readonly DiagnosticDescriptor NestingTooDeep = Error("FUL1003", "JSON nested too deeply",
        "The JSON is nested deeper than {0} levels. Manifests are shallow documents: flatten it.");
    public static readonly DiagnosticDescriptor DuplicateKey = Error("FUL1004", "Duplicate key",
        "The key '{0}' appears more than once in this object. Keep one.");
    public static readonly DiagnosticDescriptor UnknownField = Error("FUL1005", "Unknown field",
        "Unknown field '{0}'{1}. Remove it, or prefix it with 'x-' to keep it as an extension.");
    public static readonly DiagnosticDescriptor WrongType = Error("FUL1006", "Wrong type",
        "'{0}' must be {1}, not {2}.");
    public static readonly DiagnosticDescriptor MissingField = Error("FUL1007", "Missing field",
        "Required field '{0}' is missing. Add it.");
    public static readonly DiagnosticDescriptor UnsupportedSchemaVersion = Error("FUL1008", "Unsupported schema version",
        "schemaVersion {0} is not supported; this tool reads schemaVersion 1. Set \"schemaVersion\": 1 or update the tool.");
    public static readonly DiagnosticDescriptor InvalidId = Error("FUL1009", "Invalid id",
        "'{0}' is not a valid id: use 1 to 100 letters, digits, '.', '-' or '_', starting with a letter or digit and not ending with '.' (ids become file names).");
    public static readonly DiagnosticDescriptor DuplicateId = Error("FUL1010", "Duplicate id",
        "The {0} id '{1}' is also declared in {2}. Ids must be unique within the workspace: rename one.");
    public static readonly DiagnosticDescriptor ReservedId = Error("FUL1029", "Id reserved on Windows",
        "'{0}' names the Windows device {1}: no file or folder can have that name there, and ids become file names. Rename it.");
    public static readonly DiagnosticDescriptor IdsDifferOnlyInCase = Error("FUL1030", "Ids differ only in case",
        "The {0} id '{1}' differs only in case from '{2}' in {3}: on Windows and macOS their files would be one and the same. Rename one.");
    public static readonly DiagnosticDescriptor UnknownRelation = Error("FUL1011", "Unknown relation",
        "Unknown relation '{0}'. Use one of: finetune, aggregate, transfer, distill, merge.");
    public static readonly DiagnosticDescriptor UnknownFormat = Error("FUL1012", "Unknown dataset format",
        "Unknown dataset format '{0}'. Use one of: idx, csv, safetensors.");
    public static readonly DiagnosticDescriptor InvalidArchitecture = Error("FUL1013", "Invalid architecture",
        "Invalid architecture: {0}.");
    public static readonly DiagnosticDescriptor OutOfRange = Error("FUL1014", "Value out of range",
        "'{0}' is {1}, outside {2}. Use a value in that range.");
    public static readonly DiagnosticDescriptor PathOutsideWorkspace = Error("FUL1015", "Path leaves the workspace",
        "The path '{0}' leaves the workspace. Paths are relative to the manifest's folder and must stay inside the workspace.");
    public static readonly DiagnosticDescriptor LabelOutOfRange = Error("FUL1016", "Label out of range",
        "Label {0} is outside 0..{1} (the {2} classes of {3}). Use a label the dataset has.");
    public static readonly DiagnosticDescriptor FileTooLarge = Error("FUL1017", "Manifest too large",
        "The file is {0} bytes; manifests are limited to {1} bytes. Is this really a manifest?");
    public static readonly DiagnosticDescriptor EmptyForget = Error("FUL1019", "Nothing to forget",
        "'forget' names no labels and no samples. Add \"labels\": [...] or \"samples\": [...].");
    public static readonly DiagnosticDescriptor InvalidValue = Error("FUL1020", "Invalid value",
        "'{0}' is '{1}'. Use one of: {2}.");
    public static readonly DiagnosticDescriptor DuplicateValue = Error("FUL1021", "Duplicate value",
        "{0} lists {1} more than once. List each once.");
    public static readonly DiagnosticDescriptor EmptyValue = Error("FUL1022", "Empty value",
        "'{0}' must not be empty.");
    public static readonly DiagnosticDescriptor UnreadableFile = Error("FUL1023", "Unreadable file",
        "The file cannot be read: {0}.");
    public static readonly DiagnosticDescriptor UnreadableFolder = Error("FUL1033", "Unreadable folder",
        "The folder '{0}' cannot be listed ({1}), so no manifest in it was read and its models would leave the network. Let the user running the tool read it (chmod a+rx), or leave it out with an 'exclude' glob in unlearn.json.");
    public static readonly DiagnosticDescriptor UnusablePath = Error("FUL1034", "Unusable path",
        "The path in '{0}' {1}. Write a path relative to the manifest's folder, such as 'bin/model.safetensors'.");
    public static readonly DiagnosticDescriptor RemovalIdReserved = Error("FUL1035", "Removal id reserved",
        "The removal id '{0}' names the folder of the output root where the tool keeps its Fisher harvest cache ('{1}'), so the request's outputs and reports would mix with the cache. Choose another id.");
    public static readonly DiagnosticDescriptor OutputIsAFile = Error("FUL1036", "Output is a file",
        "'output' names '{0}'{1}: the tool writes its outputs, reports and cache into a folder there. Name a folder (the default is 'artifacts/unlearn'), or move the file.");
    public static readonly DiagnosticDescriptor UnknownMethodName = Error("FUL1024", "Unknown method",
        "Unknown method '{0}'. Use one of: {1}.");
    public static readonly DiagnosticDescriptor MergeTakesNoTraining = Error("FUL1025", "A merge does not train",
        "A 'merge' model averages its parents and trains on nothing, so its '{0}' would be ignored. Remove it, or use 'aggregate' to train after averaging.");
    public static readonly DiagnosticDescriptor SettingWithoutEffect = Warning("FUL1026", "Setting without effect",
        "'{0}' applies only to {1}; model '{2}' is {3}, so it is ignored. Remove it{4}.");
    public static readonly DiagnosticDescriptor LinkOutOfWorkspace = Warning("FUL1028", "Folder link out of the workspace",
        "'{0}' is a link to '{1}', outside the workspace, so no manifest in it was read. Move what belongs to this workspace into it, or exclude the link in unlearn.json ('exclude').");
    public static readonly DiagnosticDescriptor ManifestSuffixCase = Warning("FUL1032", "Manifest name in other case",
        "'{0}' is named like a {1} manifest, but its suffix is not '{2}' in this case, so it is not read (file names are case-sensitive here, though not on Windows or macOS, where it would be). Rename it to end in '{2}'.");
    public static readonly DiagnosticDescriptor HiddenCharacter = Warning("FUL1031", "Hidden character",
        "'{0}' holds a character a reader cannot see ({1}: a control or text-direction character); reports show it escaped, as {1}. Remove it unless it is meant.");
    public static readonly DiagnosticDescriptor NotARegularFile = Error("FUL1027", "Not a regular file",
        "'{0}' is {1}, not a regular file, so reading it could block or never end: it was not opened. Replace it with a regular file, or point the manifest that names it at one (a symbolic link to a regular file is fine).");

    // 2xxx: graph and plan
    public static readonly DiagnosticDescriptor UnknownParent = Error("FUL2001", "Unknown parent",
        "Parent '{0}' is not a model of this workspace{1}. Add its lineage manifest or fix the id; if its manifest exists, it is left out: by 'include' or 'exclude' of unlearn.json, under a bin/ or obj/ folder, or in a folder with an unlearn.json of its own.");
    public static readonly DiagnosticDescriptor UnknownDataset = Error("FUL2002", "Unknown dataset",
        "Dataset '{0}' is not declared in this workspace{1}. Add '{0}.dataset.json' or fix the id.");
    public static readonly DiagnosticDescriptor Cycle = Error("FUL2003", "Cycle in the lineage",
        "The lineage has a cycle: {0}. A model cannot inherit from its own descendants: remove one edge.");
    public static readonly DiagnosticDescriptor SelfParent = Error("FUL2004", "Model is its own parent",
        "Model '{0}' lists itself as a parent. Remove that entry.");
    public static readonly DiagnosticDescriptor TooFewParents = Error("FUL2005", "Too few parents",
        "Relation '{0}' combines two or more parents, but model '{1}' has {2}. Add parents or use 'finetune'.");
    public static readonly DiagnosticDescriptor RemovalNotFound = Error("FUL2006", "Removal not found",
        "No removal request '{0}' in the workspace. Known: {1}.");
    public static readonly DiagnosticDescriptor ModelNotFound = Error("FUL2007", "Model not found",
        "No model '{0}' in the workspace{1}.");
    public static readonly DiagnosticDescriptor TooManyParents = Error("FUL2008", "Too many parents",
        "Relation '{0}' takes exactly one parent, but model '{1}' has {2}. Use 'aggregate' or 'merge' to combine parents.");
    public static readonly DiagnosticDescriptor DuplicateParent = Error("FUL2009", "Duplicate parent",
        "Model '{0}' lists parent '{1}' more than once. List it once.");
    public static readonly DiagnosticDescriptor MixedRelations = Error("FUL2010", "Mixed relations",
        "Model '{0}' mixes the relations {1}; all of a model's parents must share one relation.");
    public static readonly DiagnosticDescriptor ArchitectureMismatch = Error("FUL2011", "Architecture mismatch",
        "Model '{0}' ({1}) inherits weights by '{2}' from '{3}' ({4}); the architectures must be equal. Fix the one that is wrong: this manifest's 'architecture', or the one of '{3}' at {5}; to learn from a model of another architecture, use 'distill'.");
    public static readonly DiagnosticDescriptor NothingAffected = Info("FUL2012", "Nothing affected",
        "Removal '{0}' touches no model: no model's own data holds what it asks to forget. Nothing to do.");
    public static readonly DiagnosticDescriptor SampleOutOfRange = Error("FUL2013", "Sample index out of range",
        "Sample index {0} is outside the {1} split of '{2}' ({3} samples). Indices count from 0 in the order of the split's file; correct or remove it in the removal manifest's 'samples'.");
    public static readonly DiagnosticDescriptor NoManifests = Warning("FUL2014", "No manifests",
        "No lineage, dataset or removal manifests were found under '{0}'. Check --workspace and the include globs of unlearn.json.");
    public static readonly DiagnosticDescriptor TooFewClasses = Error("FUL2015", "Too few output classes",
        "Model '{0}' has {1} output classes but trains on '{2}', which has {3} classes. Set architecture.classes to at least {3}.");
    public static readonly DiagnosticDescriptor DistillClassMismatch = Error("FUL2016", "Student and teacher classes differ",
        "Model '{0}' ({1} classes) distils '{2}' ({3} classes); a student learns its teacher's output distribution class by class, so both need the same number of classes. Set architecture.classes to {3}.");
    public static readonly DiagnosticDescriptor CheckpointNotOwn = Error("FUL2017", "Checkpoint not the model's own",
        "The checkpoint of model '{0}' is {1}{2}: 'train' would write over it, and 'run' would unlearn the wrong weights. Give the model a checkpoint file of its own in 'checkpoint'.");

    // 3xxx: tool and build integration
    public static readonly DiagnosticDescriptor ToolNotFound = Error("FUL3001", "Tool not found",
        "The dotnet-unlearn tool was not found: {0}. {1}");
    public static readonly DiagnosticDescriptor NativePatchAssumptionBroken = Error("FUL3002", "Native library patch not applicable",
        "Cannot patch '{0}': {1}. The TorchSharp native library no longer matches the patch's assumptions; re-check with 'objdump -T' and 'readelf -r' and update the fixup.");
    public static readonly DiagnosticDescriptor NativeLoadFailed = Error("FUL3003", "TorchSharp failed to load",
        "TorchSharp's native library failed to load: {0}.");
    public static readonly DiagnosticDescriptor WorkspaceNotFound = Error("FUL3004", "Workspace not found",
        "The workspace folder '{0}' does not exist. Pass an existing folder with --workspace.");
    public static readonly DiagnosticDescriptor UsageError = Error("FUL3005", "Usage error",
        "{0}");
    public static readonly DiagnosticDescriptor NativePatched = Info("FUL3006", "Native library patched",
        "Patched '{0}': GLIBCXX_3.4.32 is now a weak version requirement, so it loads on Debian 12 and Ubuntu 22.04.");
    public static readonly DiagnosticDescriptor OutputLocked = Error("FUL3007", "Workspace busy",
        "Another dotnet-unlearn process ({0}) is writing to '{1}'. Wait for it to finish: the lock is released when that process ends, even if it is killed.");
    public static readonly DiagnosticDescriptor Cancelled = Error("FUL3008", "Cancelled",
        "Cancelled. Finished outputs were kept; run the command again to finish the job.");
    public static readonly DiagnosticDescriptor FileSystemError = Error("FUL3009", "File or folder not usable",
        "{0} Check the path given (--workspace, --out, --output) and its permissions: outputs need a folder you can write to.");
    public static readonly DiagnosticDescriptor BuildPropertyOutOfRange = Error("FUL3015", "Build property out of range",
        "The property '{0}' is '{1}'; it must be a whole number from 1 to {2}, as '{3}' in unlearn.json, or empty or 0 for unlearn.json's (else automatic). Fix it.");
    public static readonly DiagnosticDescriptor BuildPropertyNotAMethod = Error("FUL3017", "Build property not a method",
        "The property 'UnlearnMethod' is '{0}'; it must be one of {1}{2}, or empty for the removal's method (else unlearn.json's, else fiun). Fix it.");
    public static readonly DiagnosticDescriptor PackageVersionNeeded = Error("FUL3014", "FisherUnlearn.Build version needed",
        "This workspace gets FisherUnlearn.Build as a package: pass -p:FisherUnlearnBuildVersion=<version> (the version of your dotnet-unlearn tool), with the package on a NuGet feed.");
    public static readonly DiagnosticDescriptor ShardInvalid = Error("FUL3020", "Invalid shard",
        "'{0}' is not a shard: use i/n with 1 <= i <= n and n at most 2147483647, such as 2/4.");
    public static readonly DiagnosticDescriptor ShardResultsMissing = Error("FUL3022", "Shard results missing",
        "No shard has produced {0} of removal '{1}' yet. Run the missing shards ('dotnet unlearn plan {1} --matrix' lists them), then --merge again.");
    public static readonly DiagnosticDescriptor ShardResultsStale = Error("FUL3023", "Shard results out of date",
        "The results of {0} of removal '{1}' were made for other inputs or another method than '{2}' (a checkpoint, manifest or dataset changed since, or the shards ran with different --method). Run those shards again with the same --method, then --merge again.");
    public static readonly DiagnosticDescriptor InternalError = Error("FUL3024", "Internal error",
        "dotnet-unlearn stopped on an error it does not know how to explain: {0}. What was written is complete (every write is a temporary file, then a rename). Rerun with '--verbosity detailed' for the stack trace and report it.");
    public static readonly DiagnosticDescriptor OutOfMemory = Error("FUL3025", "Out of memory",
        "{0} model '{1}' ran out of memory ({2}): {3}. Free memory, or {4}, or use a machine with more memory.");
    public static readonly DiagnosticDescriptor WorkerFailed = Error("FUL3021", "Worker failed",
        "The worker process for model '{0}' exited with code {1}: {2}. Run 'dotnet unlearn run {3} --only {0} --parallel 1' to see the whole error.");

    // 301x: the MSBuild package (FisherUnlearn.Build)
    public static readonly DiagnosticDescriptor WorkspaceErrorsElsewhere = Error("FUL3010", "Workspace has errors in other projects",
        "The workspace '{0}' has {1} error(s) in manifests outside this project, first: {2}. Fix them; 'dotnet unlearn validate' lists them all.");
    public static readonly DiagnosticDescriptor ToolFailed = Error("FUL3011", "Tool failed",
        "'{0}' exited with code {1} without reporting a FUL error{2}. Run the command yourself to see its output.");
    public static readonly DiagnosticDescriptor UnlearnedOutputStale = Error("FUL3012", "Unlearned checkpoint out of date",
        "The unlearned checkpoint '{0}' (model '{1}', removal '{2}') is out of date: {3}. Build the 'Unlearn' target to update it.");
    public static readonly DiagnosticDescriptor ToolOutputNotWritten = Error("FUL3013", "Tool wrote no output",
        "'{0}' succeeded but did not write '{1}'. Check that UnlearnOutputPath and the tool's 'run --out' agree, and that the tool is up to date.");
    public static readonly DiagnosticDescriptor ModelOfNoProject = Warning("FUL3016", "Affected model no project builds",
        "Model '{0}' is affected by '{1}', but no project folder holds its lineage manifest, so no build makes its unlearned checkpoint. Move the manifest into a project's folder, or run 'dotnet unlearn run {1}' for it.");

    // 4xxx: engine
    // 40xx datasets
    public static readonly DiagnosticDescriptor DataFileNotFound = Error("FUL4001", "Data file not found",
        "The data file '{0}' {1}. Fix the path in the dataset manifest or restore the file.");
    public static readonly DiagnosticDescriptor DataBadMagic = Error("FUL4002", "Not a data file of the declared format",
        "'{0}' is not {1} (found {2}). Check the dataset's format and that the path names the right file.");
    public static readonly DiagnosticDescriptor DataTruncated = Error("FUL4003", "Data file truncated",
        "'{0}' is truncated or has extra bytes: {1}. Regenerate or download the file again.");
    public static readonly DiagnosticDescriptor DataBadHeader = Error("FUL4004", "Implausible data header",
        "'{0}' declares {1}, which is not plausible. The file is corrupt or not of this format; regenerate it.");
    public static readonly DiagnosticDescriptor DataLabelOutOfRange = Error("FUL4005", "Data label out of range",
        "'{0}': sample {1} has label {2}, outside 0..{3} (the dataset declares {4} classes). Fix the labels or 'classes' in the dataset manifest.");
    public static readonly DiagnosticDescriptor DataCountMismatch = Error("FUL4006", "Sample count mismatch",
        "'{0}' holds {1} samples but '{2}' holds {3} labels. Images and labels must come from the same split.");
    public static readonly DiagnosticDescriptor DataBadCell = Error("FUL4007", "Bad CSV cell",
        "Column '{0}' holds '{1}', which is not {2}. Fix the cell: features are finite numbers (invariant culture, '.' decimal point), labels are integers.");
    public static readonly DiagnosticDescriptor DataBadLayout = Error("FUL4008", "Bad data layout",
        "'{0}': {1}. Fix the file or the dataset manifest.");
    public static readonly DiagnosticDescriptor DataSplitMissing = Error("FUL4009", "Split missing",
        "Dataset '{0}' declares no usable '{1}' split: {2}. Add it to the dataset manifest.");
    public static readonly DiagnosticDescriptor DataUnreadable = Error("FUL4010", "Data file unreadable",
        "'{0}' cannot be read: {1}. Check the file and its permissions.");
    public static readonly DiagnosticDescriptor DataDeclaredCountMismatch = Error("FUL4011", "Declared sample count differs",
        "Dataset '{0}' declares count {1} for its '{2}' split, but '{3}' holds {4} samples. Fix 'count' in the dataset manifest or the data file.");

    // 402x checkpoints
    public static readonly DiagnosticDescriptor CheckpointNotFound = Error("FUL4020", "Checkpoint not found",
        "The checkpoint '{0}' {1}. Train the model first ('dotnet unlearn train') or fix the manifest's 'checkpoint' path.");
    public static readonly DiagnosticDescriptor CheckpointTruncated = Error("FUL4021", "Checkpoint truncated",
        "'{0}' is truncated: {1}. Regenerate the checkpoint.");
    public static readonly DiagnosticDescriptor CheckpointBadHeader = Error("FUL4022", "Bad checkpoint header",
        "'{0}' has an invalid safetensors header: {1}. Fetch the real file, or regenerate it if it is corrupt.");
    public static readonly DiagnosticDescriptor CheckpointBadTensor = Error("FUL4023", "Bad checkpoint tensor",
        "'{0}': tensor '{1}' is invalid: {2}. {3}");
    public static readonly DiagnosticDescriptor CheckpointNonFinite = Error("FUL4024", "Non-finite weights",
        "'{0}': tensor '{1}' holds {2} NaN or infinite value(s) (or values beyond float32's range, which the engine computes in). Training diverged or the file is corrupt; {3}.");
    public static readonly DiagnosticDescriptor CheckpointArchitectureMismatch = Error("FUL4025", "Checkpoint does not fit the architecture",
        "'{0}' does not fit {1}: {2}. Fix 'architecture' in the lineage manifest or retrain the checkpoint.");
    public static readonly DiagnosticDescriptor CheckpointUnknownFormat = Error("FUL4026", "Unknown checkpoint format",
        "'{0}' has the extension '{1}'. Use .safetensors (outputs and inputs), .pt/.pth (PyTorch state_dict, input) or .dat (TorchSharp state_dict).");
    public static readonly DiagnosticDescriptor CheckpointUnreadable = Error("FUL4027", "Checkpoint unreadable",
        "'{0}' cannot be read as a {1} checkpoint: {2}. Save a state_dict (not a whole model) in that format.");
    public static readonly DiagnosticDescriptor CheckpointWriteFailed = Error("FUL4028", "Checkpoint not written",
        "'{0}' could not be written: {1}. Check free space and permissions of the output folder.");
    public static readonly DiagnosticDescriptor CheckpointPathIsFolder = Error("FUL4029", "Checkpoint path is a folder",
        "The checkpoint '{0}' of model '{1}' is a folder, so 'train' cannot write the model's checkpoint there. Move the folder away, or point 'checkpoint' at a path where no folder is.");
    public static readonly DiagnosticDescriptor CheckpointFolderIsFile = Error("FUL4076", "Checkpoint's folder is a file",
        "The checkpoint '{0}' of model '{1}' goes into a folder, but '{2}' is a file, so 'train' cannot write the model's checkpoint there. Move that file away, or point 'checkpoint' at a path under folders.");

    // 404x architectures
    public static readonly DiagnosticDescriptor ArchitectureUnsupported = Error("FUL4040", "Architecture cannot be built",
        "Cannot build {0}: {1}. Fix 'architecture' in the lineage manifest.");
    public static readonly DiagnosticDescriptor CustomAssemblyNotFound = Error("FUL4041", "Model assembly not found",
        "The model assembly '{0}' cannot be loaded: {1}. Build the training project first, or fix 'architecture.assembly' (relative to the manifest's folder).");
    public static readonly DiagnosticDescriptor CustomTypeNotFound = Error("FUL4042", "Model type not found",
        "The type '{0}' is not in '{1}'. Use the full name (namespace and type) of a public class in 'architecture.type'.");
    public static readonly DiagnosticDescriptor CustomTypeInvalid = Error("FUL4043", "Model type not usable",
        "The type '{0}' cannot be used as a model: {1}.");
    public static readonly DiagnosticDescriptor CustomModelFailed = Error("FUL4044", "Model constructor failed",
        "Creating '{0}' failed: {1}. Fix the module's constructor.");

    // 406x training ('train' and the retrained reference)
    public static readonly DiagnosticDescriptor TrainingRecipeMissing = Error("FUL4060", "No training recipe",
        "Model '{0}' cannot be trained: it has no 'training' recipe{1}. Add a 'training' recipe (epochs, batchSize, optimizer, learningRate, seed) to its lineage manifest{2}.");
    public static readonly DiagnosticDescriptor TrainableMatchesNothing = Error("FUL4061", "Trainable glob matches nothing",
        "Model '{0}': {1}. The parameters of {2} are: {3}. Fix 'training.trainable' (globs over PyTorch parameter names, such as \"fc3.*\": '*' matches any characters, dots included, '?' one, and every other character itself).");
    public static readonly DiagnosticDescriptor TrainingNoData = Error("FUL4062", "No training data",
        "Model '{0}' has no training samples: {1}. Fix its 'data' entries (dataset and labels).");
    public static readonly DiagnosticDescriptor TrainingDiverged = Error("FUL4063", "Training diverged",
        "Training model '{0}' diverged: the loss became {1} in epoch {2}. Lower 'training.learningRate' and train again.");
    public static readonly DiagnosticDescriptor CheckpointNotTrainable = Error("FUL4064", "Checkpoint is a user file",
        "The checkpoint '{0}' of model '{1}' is a {2} file, which 'train' only reads and never writes. Point 'checkpoint' at a .safetensors path to let 'train' produce it, or provide the file yourself.");
    public static readonly DiagnosticDescriptor RetrainWouldOverwrite = Error("FUL4065", "Retrain output would overwrite an input",
        "The retrained reference of model '{0}' would be written to '{1}', which is {2}. Inputs are never modified and retrained models go to a separate folder: choose another output folder.");
    public static readonly DiagnosticDescriptor TrainingFailed = Error("FUL4066", "Training failed",
        "Training model '{0}' failed: {1}. Check its recipe and data; run again with --verbosity detailed for more.");
    public static readonly DiagnosticDescriptor TrainingDataMismatch = Error("FUL4067", "Training data do not fit together",
        "Model '{0}' trains on samples that do not fit together: {1}. All 'data' entries of one model must hold samples of one layout, or flat rows of as many values beside it (such as [784] beside [28, 28]), which are taken in that layout.");
    public static readonly DiagnosticDescriptor DataDoesNotFitArchitecture = Error("FUL4068", "Data do not fit the architecture",
        "Model '{0}' ({1}) cannot take {2}: {3}. Make the architecture match the data ('inputs' of an mlp, 'inputShape' of a cnn, the outputs of a custom module and 'classes'; docs/architectures.md).");

    // 408x Fisher importance and the harvest
    public static readonly DiagnosticDescriptor FisherNonFinite = Error("FUL4080", "Fisher diagonal not finite",
        "The Fisher diagonal of model '{0}' on {1} holds {2} non-finite values (first in '{3}'). The model's outputs overflow on this data: check (or retrain) the checkpoint and the data's scaling.");
    public static readonly DiagnosticDescriptor FisherFileUnreadable = Error("FUL4081", "Fisher file unreadable",
        "'{0}' is not a usable Fisher diagonal file: {1}. It is a cache: delete it and run 'dotnet unlearn harvest' again.");
    public static readonly DiagnosticDescriptor CheckpointNotReplaced = Error("FUL4070", "Unreadable checkpoint not replaced",
        "Model '{0}' has a checkpoint '{1}' that cannot be read ({2}), so 'train' cannot tell whether it made it and leaves it as it is. Restore or fetch the file, delete it to train the model anew, or use --force to train over it.");
    public static readonly DiagnosticDescriptor CheckpointNotTrained = Warning("FUL4069", "Checkpoint older than its recipe",
        "The checkpoint of model '{0}' {1}: 'dotnet unlearn train' would train it again, and what is made from it now (unlearned outputs, its harvest and forget plans) would then be out of date. Run 'dotnet unlearn train' first, unless the checkpoint as it is, is the one to unlearn.");
    public static readonly DiagnosticDescriptor RetrainNothingLeft = Warning("FUL4072", "Nothing left to retrain on",
        "Model '{0}' has no training sample left once the removal's data is taken out: retraining it trains nothing, so its reference is {1}. Its retrained model is no model of its data: check that '{2}' should remove all of it, and retire the model (take it out of the lineage) if so.");
    public static readonly DiagnosticDescriptor TrainedNotFinite = Error("FUL4073", "Training left values that are not finite",
        "Training model '{0}' left {1} NaN or infinite value(s) in '{2}', so its checkpoint is not written. {3}");
    public static readonly DiagnosticDescriptor BatchOfOne = Error("FUL4074", "Batch statistics need two samples",
        "Model '{0}' keeps batch statistics (BatchNorm), which cannot train on a batch of one sample, and {1}, so training would take no step. {2}");
    public static readonly DiagnosticDescriptor LineageSamplesDoNotFit = Error("FUL4075", "Samples of one lineage do not fit together",
        "Model '{0}' and its ancestors learned the samples of dataset '{1}' ({2}) and of dataset '{3}' ({4}), which do not fit together, and unlearning evaluates them together: the datasets of one lineage must hold samples of one layout, or flat rows of as many values beside it. Convert them to one layout, or split the lineage.");
    public static readonly DiagnosticDescriptor CheckpointBelowUnreadable = Warning("FUL4071", "Checkpoint below an unreadable or missing one",
        "The checkpoint of model '{0}' descends from '{1}', whose checkpoint {2}, so whether 'dotnet unlearn train' would make this one again cannot be told until that one is made again. Run 'dotnet unlearn train' first, unless the checkpoint as it is, is the one to unlearn.");
    public static readonly DiagnosticDescriptor HarvestNoData = Warning("FUL4082", "Nothing to harvest",
        "Model '{0}' and its ancestors train on no dataset, so it has no Fisher harvest. Add 'data' to its lineage manifest (or an ancestor's) if it should have one.");
    public static readonly DiagnosticDescriptor HarvestFailed = Error("FUL4083", "Harvest failed",
        "Harvesting the Fisher diagonals of model '{0}' failed: {1}. Check its checkpoint and data; run again with --verbosity detailed for more.");

    public static readonly DiagnosticDescriptor HarvestCacheNotWritable = Error("FUL4084", "Harvest cache not writable",
        "The Fisher harvest cache '{0}' cannot be written: {1}. It is a cache: make its folder writable, move away what is in its way (a file where a folder belongs, or a folder where a file does), or set 'output' in unlearn.json to a folder you can write to.");

    // 410x unlearning ('run')
    public static readonly DiagnosticDescriptor UnlearningFailed = Error("FUL4100", "Unlearning failed",
        "Unlearning model '{0}' failed: {1}. Its output was not written; other models' outputs were kept. 'dotnet unlearn run {2} --only {0} --parallel 1 --verbosity detailed' shows where it failed.");
    public static readonly DiagnosticDescriptor UnknownMethod = Error("FUL4101", "Unknown unlearning method",
        "Unknown unlearning method '{0}'. Use one of: {1}.");
    public static readonly DiagnosticDescriptor InvalidMethodParameter = Error("FUL4102", "Invalid method parameter",
        "The method parameter '{0}' is {1}; it must be {2}. See docs/methods.md.");
    public static readonly DiagnosticDescriptor ParameterWithoutEffect = Warning("FUL4105", "Parameter without effect",
        "'{0}' applies only to {1}, and {2}, so it is ignored. Remove it, or {3}.");
    public static readonly DiagnosticDescriptor UnlearningWouldOverwrite = Error("FUL4103", "Output would overwrite an input",
        "The unlearned output of model '{0}' would be written to '{1}', which is {2}. Original checkpoints and data are never modified: choose another --out folder.");
    public static readonly DiagnosticDescriptor UnlearningCheckpointMissing = Error("FUL4104", "Checkpoint missing for unlearning",
        "Model '{0}' {3}, but its checkpoint '{1}' {2}. {4}");

    /// <summary>FUL4104's "{4}": train it, unless it has no recipe to train from (QA: 'run' said "Run 'dotnet unlearn
    /// train' first" where train and status said train cannot make it).</summary>
    public static string CheckpointMissingAdvice(Manifests.ModelManifest model) =>
        model.Training is null
            ? "It has no 'training' recipe, so 'dotnet unlearn train' cannot make it: put its checkpoint there, or fix the manifest's 'checkpoint' path."
            : "Run 'dotnet unlearn train' first, or fix the manifest's 'checkpoint' path.";

    /// <summary>FUL4104's "{3}" for a model the removal affects.</summary>
    public const string AffectedModel = "is affected";

    // 5xxx: verification
    public static readonly DiagnosticDescriptor UnlearnedOutputMissing = Error("FUL5001", "Unlearned output missing",
        "Removal '{0}' has no unlearned output for {1} (looked in '{2}'). Run 'dotnet unlearn run {0}{3}' first.");
    public static readonly DiagnosticDescriptor ForgetTargetMissed = Error("FUL5002", "Forget target missed",
        "Model '{0}' still has forget accuracy {1:0.0}% after unlearning; the target is at most {2:0.0}%. {3}");
    public static readonly DiagnosticDescriptor RetainTargetMissed = Error("FUL5003", "Retain target missed",
        "Model '{0}' lost {1} points of retain accuracy against the {2}; the target allows at most {3:0.0}. {4}");
    public static readonly DiagnosticDescriptor TargetNotMeasurable = Error("FUL5005", "Target not measurable",
        "Model '{0}': the {1} target cannot be checked, since there are no held-out samples to measure it on. Give its datasets a 'test' split that holds the labels it knows, so 'verify' can tell whether the target is met.");
    public static readonly DiagnosticDescriptor VerifiedOutputUnrecorded = Error("FUL5007", "Output without its record",
        "The outputs of {0} have no job record ('.jobs/<model>.json' beside them), so nothing shows that 'run' made them for the current request of '{1}' (a copied or restored file, or an artifact uploaded without its '.jobs' folder). Run 'dotnet unlearn run {1}', which makes them again, then verify again.");
    public static readonly DiagnosticDescriptor TrainDataDeleted = Warning("FUL5008", "Train data deleted",
        "The train data of dataset '{0}' is gone ({1}), so the membership-inference rate of {2} is not measured: the accuracies come from the test split, and the unlearning from the cached harvest and forget plans. Restore the file to measure the rate; 'verify --reference retrain' and sample requests need it too, since they train on it.");
    public static readonly DiagnosticDescriptor VerifiedOutputStale = Error("FUL5006", "Output out of date",
        "The outputs of {0} are out of date: an input changed since they were made, or the output file was changed after it was written, so what was measured is not the current request of '{1}'. Run 'dotnet unlearn train' (when a recipe or its data changed) and 'dotnet unlearn run {1}', then verify again.");
    public static readonly DiagnosticDescriptor UnaffectedOutputsLeft = Warning("FUL5010", "Outputs of models no longer affected",
        "The output folder of '{0}' still holds the outputs of {1}, which it no longer affects (its labels or samples changed, or they left the lineage or stopped learning what is forgotten): they were unlearned for an earlier version of the request, and an upload of the folder would ship them as this one's. Run 'dotnet unlearn run {0}', which removes them.");
    public static readonly DiagnosticDescriptor ReportsNotWritten = Warning("FUL5011", "Reports not updated",
        "The reports in '{0}' could not all be updated ({1}): those not written still show what was there before, without these measurements. Make the folder and its reports writable and run 'dotnet unlearn verify' again.");
    public static readonly DiagnosticDescriptor ForgottenSamplesRecognised = Error("FUL5012", "Forgotten samples still recognised",
        "Model '{0}' still classifies {1} of the {2} forgotten training samples correctly after unlearning; against {3}: {4:0.0%}, with 'sampleTolerance' ({7}) standard errors for chance, at most {5} means forgotten: it still tells them from unseen samples. {6}");
    public static readonly DiagnosticDescriptor VerifiedOutputOtherMethod = Error("FUL5009", "Output made with another method",
        "The outputs of {0} were made with '{1}', not '{2}' ({3}), so they are not what is verified. {4}");

    /// <summary>Every descriptor of the catalogue, for documentation and for the uniqueness test.</summary>
    public static IReadOnlyList<DiagnosticDescriptor> All { get; } =
        [.. typeof(DiagnosticCatalogue)
            .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .OrderBy(d => d.Code, StringComparer.Ordinal)];
}
