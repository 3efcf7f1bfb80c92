using System.Globalization;
using FisherUnlearn.Engine.Checkpoints;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Hashing;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Fisher;

/// <summary>The diagonal importance of one parameter: its shape and one float per element (row-major).</summary>
public sealed class FisherParameter
{
    public FisherParameter(IReadOnlyList<long> shape, float[] values)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(values);
        long count = 1;
        foreach (var d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            count = checked(count * d);
        }

        if (count != values.LongLength)
        {
            throw new ArgumentException($"A parameter of shape [{string.Join(", ", shape)}] has {count} values, not {values.LongLength}.", nameof(values));
        }

        Shape = [.. shape];
        Values = values;
    }

    public IReadOnlyList<long> Shape { get; }

    /// <summary>The values, row-major. Owned by this object: treat as read-only.</summary>
    public float[] Values { get; }

    internal bool SameShape(FisherParameter other) => Shape.SequenceEqual(other.Shape);
}

/// <summary>
/// A diagonal Fisher importance: one non-negative value per model parameter element, keyed by PyTorch parameter name
/// (<c>fc1.weight</c>, ...), with how it was estimated (<see cref="Estimator"/>, <see cref="SampleCount"/>,
/// <see cref="BatchSize"/>, <see cref="Temperature"/>). Immutable; the arithmetic returns new diagonals. Values are plain managed arrays, so a
/// diagonal needs no disposing; <see cref="ToTensor"/> makes TorchSharp tensors for the methods.
/// </summary>
public sealed class FisherDiagonal
{
    /// <summary>Metadata keys of a saved diagonal.</summary>
    public const string EstimatorKey = "fisher.estimator";
    public const string SamplesKey = "fisher.samples";
    public const string BatchSizeKey = "fisher.batchSize";
    public const string TemperatureKey = "fisher.temperature";
    public const string FormatKey = "fisher.format";
    public const string FormatValue = "fisher-diagonal/1";

    private readonly SortedDictionary<string, FisherParameter> parameters;

    /// <param name="parameters">Values by parameter name.</param>
    /// <param name="estimator">How the values were estimated.</param>
    /// <param name="sampleCount">How many samples they summarise (the weight of this diagonal when combined).</param>
    /// <param name="batchSize">The mini-batch size, for estimators that depend on it; null for <c>exact</c>.</param>
    /// <param name="temperature">The temperature of <c>tempered</c> (required there, finite and &gt; 0); ignored by the
    /// other estimators.</param>
    public FisherDiagonal(IEnumerable<KeyValuePair<string, FisherParameter>> parameters, FisherEstimator estimator, long sampleCount, int? batchSize = null,
        double? temperature = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfNegative(sampleCount);
        this.parameters = new SortedDictionary<string, FisherParameter>(StringComparer.Ordinal);
        foreach (var (name, value) in parameters)
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            ArgumentNullException.ThrowIfNull(value);
            if (!this.parameters.TryAdd(name, value))
            {
                throw new ArgumentException($"The parameter '{name}' appears twice.", nameof(parameters));
            }
        }

        Estimator = estimator;
        SampleCount = sampleCount;
        BatchSize = estimator.UsesBatchSize() ? batchSize : null;
        if (estimator.UsesTemperature())
        {
            Temperature = temperature is { } t && double.IsFinite(t) && t > 0
                ? t
                : throw new ArgumentException($"The {estimator.Name()} estimator needs a finite temperature > 0, not {temperature?.ToString("R", CultureInfo.InvariantCulture) ?? "none"}.", nameof(temperature));
        }
    }

    /// <summary>Values by parameter name, in ordinal name order.</summary>
    public IReadOnlyDictionary<string, FisherParameter> Parameters => parameters;

    public IEnumerable<string> Names => parameters.Keys;

    public FisherParameter this[string name] => parameters[name];

    public FisherEstimator Estimator { get; }

    /// <summary>How many samples the diagonal summarises.</summary>
    public long SampleCount { get; }

    /// <summary>The mini-batch size of <c>batch</c> and <c>labelfree</c>; null for <c>exact</c>.</summary>
    public int? BatchSize { get; }

    /// <summary>The temperature of <c>tempered</c>; null for the other estimators.</summary>
    public double? Temperature { get; }

    /// <summary>The number of values over all parameters.</summary>
    public long ElementCount => parameters.Values.Sum(p => p.Values.LongLength);

    /// <summary>Zeros of the same shapes and estimator, summarising <paramref name="sampleCount"/> samples.</summary>
    public static FisherDiagonal Zeros(IEnumerable<KeyValuePair<string, IReadOnlyList<long>>> shapes, FisherEstimator estimator, long sampleCount = 0, int? batchSize = null,
        double? temperature = null) =>
        new(shapes.Select(s => KeyValuePair.Create(s.Key, new FisherParameter(s.Value, new float[checked((int)s.Value.Aggregate(1L, (a, d) => a * d))]))),
            estimator, sampleCount, batchSize, temperature);

    /// <summary>
    /// <c>sum_i w_i * F_i</c>, element-wise. All terms need the same parameters, shapes and estimator (and batch size or temperature).
    /// The result's <see cref="SampleCount"/> is <paramref name="sampleCount"/>, or the sum of the terms' counts.
    /// </summary>
    public static FisherDiagonal WeightedSum(IEnumerable<(FisherDiagonal Fisher, double Weight)> terms, long? sampleCount = null)
    {
        var list = terms?.ToList() ?? throw new ArgumentNullException(nameof(terms));
        var first = RequireCompatible(list.Select(t => t.Fisher).ToList());
        var result = new List<KeyValuePair<string, FisherParameter>>();
        foreach (var (name, parameter) in first.parameters)
        {
            var sum = new double[parameter.Values.Length];
            foreach (var (fisher, weight) in list)
            {
                if (weight == 0)
                {
                    continue;
                }

                var values = fisher.parameters[name].Values;
                for (var i = 0; i < sum.Length; i++)
                {
                    sum[i] += weight * values[i];
                }
            }

            result.Add(KeyValuePair.Create(name, new FisherParameter(parameter.Shape, Array.ConvertAll(sum, v => (float)v))));
        }

        return new FisherDiagonal(result, first.Estimator, sampleCount ?? list.Sum(t => t.Fisher.SampleCount), first.BatchSize, first.Temperature);
    }

    /// <summary>
    /// The Fisher of the union of the parts' samples: <c>sum_l N_l * F_l / sum_l N_l</c> (sample-weighted mean). Exact
    /// for the per-example estimators (<c>exact</c>, <c>tempered</c>), whose per-example Fisher is additive over samples (so per-label diagonals give the
    /// full-data and any forget-set Fisher); an approximation for the batch-level ones. Parts with no samples add
    /// nothing; when no part has samples the result is zeros.
    /// </summary>
    public static FisherDiagonal Combine(IEnumerable<FisherDiagonal> parts)
    {
        var list = parts?.ToList() ?? throw new ArgumentNullException(nameof(parts));
        RequireCompatible(list);
        var total = list.Sum(p => p.SampleCount);
        return total == 0
            ? WeightedSum(list.Select(p => (p, 0.0)), 0)
            : WeightedSum(list.Select(p => (p, (double)p.SampleCount / total)), total);
    }

    /// <summary>The sample-weighted mean of the diagonals (the Fisher of the union of their samples), in one float pass
    /// per part, restricted to the parameters <paramref name="include"/> accepts.</summary>
    public static FisherDiagonal Mean(IEnumerable<FisherDiagonal> parts, Func<string, bool>? include = null)
    {
        var list = parts.ToList();
        if (list.Count == 0)
        {
            throw new InvalidOperationException("there is no importance to combine");
        }

        var first = list[0];
        if (list.FirstOrDefault(p => p.Estimator != first.Estimator || p.BatchSize != first.BatchSize || p.Temperature != first.Temperature) is { } other)
        {
            RequireCompatible([first, other]); // Throws, naming both estimators.
        }

        var total = list.Sum(p => p.SampleCount);
        if (list.Count == 1 && total > 0)
        {
            return include is null ? first : first.Where(include); // The mean of one part is the part: no copy.
        }

        var result = new List<KeyValuePair<string, FisherParameter>>();
        foreach (var (name, parameter) in first.Parameters)
        {
            if (include?.Invoke(name) == false)
            {
                continue;
            }

            var sum = new float[parameter.Values.Length];
            foreach (var part in list)
            {
                var weight = total == 0 ? 0f : (float)(part.SampleCount / (double)total);
                if (weight == 0)
                {
                    continue;
                }

                var values = part[name].Values;
                if (values.Length != sum.Length)
                {
                    throw new ArgumentException($"The importances of '{name}' differ in size.");
                }

                var i = 0;
                if (System.Numerics.Vector.IsHardwareAccelerated)
                {
                    var width = System.Numerics.Vector<float>.Count;
                    var w = new System.Numerics.Vector<float>(weight);
                    for (; i <= sum.Length - width; i += width)
                    {
                        var acc = new System.Numerics.Vector<float>(sum, i) + (w * new System.Numerics.Vector<float>(values, i));
                        acc.CopyTo(sum, i);
                    }
                }

                for (; i < sum.Length; i++)
                {
                    sum[i] += weight * values[i];
                }
            }

            result.Add(KeyValuePair.Create(name, new FisherParameter(parameter.Shape, sum)));
        }

        return new FisherDiagonal(result, first.Estimator, total, first.BatchSize, first.Temperature);
    }

    /// <summary>
    /// The element-wise maximum (MFIM merges several roots' forget importances this way). The result's
    /// <see cref="SampleCount"/> is the sum of the parts'.
    /// </summary>
    public static FisherDiagonal Max(IEnumerable<FisherDiagonal> parts)
    {
        var list = parts?.ToList() ?? throw new ArgumentNullException(nameof(parts));
        var first = RequireCompatible(list);
        var result = new List<KeyValuePair<string, FisherParameter>>();
        foreach (var (name, parameter) in first.parameters)
        {
            var max = (float[])parameter.Values.Clone();
            foreach (var fisher in list.Skip(1))
            {
                var values = fisher.parameters[name].Values;
                for (var i = 0; i < max.Length; i++)
                {
                    max[i] = Math.Max(max[i], values[i]);
                }
            }

            result.Add(KeyValuePair.Create(name, new FisherParameter(parameter.Shape, max)));
        }

        return new FisherDiagonal(result, first.Estimator, list.Sum(p => p.SampleCount), first.BatchSize, first.Temperature);
    }

    /// <summary>Every value times <paramref name="factor"/> (MFIM divides merged forget importances by a constant).</summary>
    public FisherDiagonal Scale(double factor) => WeightedSum([(this, factor)], SampleCount);

    /// <summary>Only the parameters whose names <paramref name="keep"/> accepts.</summary>
    public FisherDiagonal Where(Func<string, bool> keep) =>
        new(parameters.Where(p => keep(p.Key)), Estimator, SampleCount, BatchSize, Temperature);

    /// <summary>How many values are NaN, infinite or negative, and the first parameter holding one.</summary>
    public (long Count, string? FirstParameter) CountInvalid()
    {
        long count = 0;
        string? first = null;
        foreach (var (name, parameter) in parameters)
        {
            var invalid = CountInvalid(parameter.Values);
            count += invalid;
            if (invalid > 0)
            {
                first ??= name;
            }
        }

        return (count, first);
    }

    // A value is valid when 0 <= v < infinity; NaN fails both comparisons. Vectorised: every harvest read checks each value.
    private static long CountInvalid(ReadOnlySpan<float> values)
    {
        long valid = 0;
        var i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated && values.Length >= System.Numerics.Vector<float>.Count)
        {
            var zero = System.Numerics.Vector<float>.Zero;
            var infinity = new System.Numerics.Vector<float>(float.PositiveInfinity);
            var counts = System.Numerics.Vector<int>.Zero;
            var lanes = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(values);
            foreach (var lane in lanes)
            {
                // The comparisons give -1 in a lane where both hold, so subtracting counts the valid lanes.
                counts -= System.Numerics.Vector.GreaterThanOrEqual(lane, zero) & System.Numerics.Vector.LessThan(lane, infinity);
            }

            valid = System.Numerics.Vector.Sum(counts);
            i = lanes.Length * System.Numerics.Vector<float>.Count;
        }

        for (; i < values.Length; i++)
        {
            valid += values[i] >= 0 && values[i] < float.PositiveInfinity ? 1 : 0;
        }

        return values.Length - valid;
    }

    /// <summary>A new float32 CPU tensor of the parameter's values; the caller owns it.</summary>
    public Tensor ToTensor(string name)
    {
        var parameter = parameters[name];
        return TorchSharp.torch.tensor(parameter.Values, [.. parameter.Shape]);
    }

    /// <summary>Every parameter as a new tensor; the caller owns them.</summary>
    public Dictionary<string, Tensor> ToTensors() =>
        parameters.Keys.ToDictionary(n => n, ToTensor, StringComparer.Ordinal);

    /// <summary>Copies tensors (any float type, any device) into a diagonal.</summary>
    public static FisherDiagonal FromTensors(IEnumerable<KeyValuePair<string, Tensor>> tensors, FisherEstimator estimator, long sampleCount, int? batchSize = null,
        double? temperature = null) =>
        new(tensors.Select(t => KeyValuePair.Create(t.Key, FromTensor(t.Value))), estimator, sampleCount, batchSize, temperature);

    internal static FisherParameter FromTensor(Tensor tensor)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var cpu = tensor.detach().to(ScalarType.Float32).cpu().contiguous();
        return new FisherParameter(cpu.shape, Native.TensorMemory.ToArray<float>(cpu));
    }

    /// <summary>The metadata that describes this diagonal in a file.</summary>
    public Dictionary<string, string> DescribeMetadata()
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [FormatKey] = FormatValue,
            [EstimatorKey] = Estimator.Name(),
            [SamplesKey] = SampleCount.ToString(CultureInfo.InvariantCulture),
        };
        if (BatchSize is { } batchSize)
        {
            metadata[BatchSizeKey] = batchSize.ToString(CultureInfo.InvariantCulture);
        }

        if (Temperature is { } temperature)
        {
            metadata[TemperatureKey] = FormatTemperature(temperature);
        }

        return metadata;
    }

    /// <summary>
    /// Saves as safetensors (F32 tensors named as the parameters), atomically, with the estimator, sample count and
    /// batch size in the metadata plus <paramref name="metadata"/>. The bytes depend only on the content.
    /// </summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in metadata ?? new Dictionary<string, string>())
        {
            all[item.Key] = item.Value;
        }

        foreach (var item in DescribeMetadata())
        {
            all[item.Key] = item.Value;
        }

        var tensors = new Dictionary<string, (IReadOnlyList<long> Shape, float[] Values)>(StringComparer.Ordinal);
        AddTo(tensors);
        SafetensorsFile.WriteFloats(path, tensors, all);
    }

    /// <summary>Adds every parameter's values, named <paramref name="prefix"/> + parameter name, to a set of tensors
    /// <see cref="SafetensorsFile.WriteFloats"/> writes (no copy of the values).</summary>
    internal void AddTo(IDictionary<string, (IReadOnlyList<long> Shape, float[] Values)> tensors, string prefix = "")
    {
        foreach (var (name, parameter) in parameters)
        {
            tensors[prefix + name] = (parameter.Shape, parameter.Values);
        }
    }

    /// <summary>
    /// A checksum of the names, shapes and values (XXH64, 16 hex digits; float bits as stored, little-endian), so that
    /// a file whose data was lost after its header was written (a crash between the rename and the data reaching the
    /// disk can leave zeros) is told apart from the diagonal it should hold. Cheap: about 0.1 ms per MB of values.
    /// </summary>
    public string Checksum()
    {
        var hash = new XxHash64();
        foreach (var (name, parameter) in parameters)
        {
            if (BitConverter.IsLittleEndian)
            {
                AppendToChecksum(hash, name, parameter.Shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(parameter.Values.AsSpan()));
            }
            else
            {
                var bytes = new byte[parameter.Values.Length * sizeof(float)];
                for (var i = 0; i < parameter.Values.Length; i++)
                {
                    System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), parameter.Values[i]);
                }

                AppendToChecksum(hash, name, parameter.Shape, bytes);
            }
        }

        return hash.CurrentHex;
    }

    /// <summary>One parameter's part of <see cref="Checksum"/>, from its values' little-endian F32 bytes (as a safetensors
    /// file holds them); parameters go in ordinal name order.</summary>
    internal static void AppendToChecksum(XxHash64 hash, string name, IReadOnlyList<long> shape, ReadOnlySpan<byte> littleEndianValues)
    {
        hash.Append(System.Text.Encoding.UTF8.GetBytes(name));
        foreach (var d in shape)
        {
            hash.Append(d);
        }

        hash.Append(littleEndianValues);
    }

    /// <summary>Loads a diagonal <see cref="Save"/> wrote; FUL4081 when the file is not one.</summary>
    public static FisherDiagonal Load(string path) => Load(path, out _);

    /// <summary>Loads a diagonal and returns the file's whole metadata too.</summary>
    public static FisherDiagonal Load(string path, out IReadOnlyDictionary<string, string> metadata)
    {
        SafetensorsDocument document;
        try
        {
            document = SafetensorsFile.Read(path, checkFinite: true);
        }
        catch (EngineException ex) when (ex.Code != DiagnosticCatalogue.CheckpointNotFound.Code)
        {
            throw EngineException.At(DiagnosticCatalogue.FisherFileUnreadable, new SourceLocation(path), ex, path, ex.Diagnostic.Message);
        }

        metadata = document.Metadata;
        return FromDocument(path, document.Tensors, document.Metadata, prefix: string.Empty);
    }

    internal static FisherDiagonal FromDocument(string path, IReadOnlyDictionary<string, SafetensorsTensor> tensors, IReadOnlyDictionary<string, string> metadata, string prefix)
    {
        var entries = new List<KeyValuePair<string, FisherParameter>>();
        foreach (var (name, tensor) in tensors)
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            if (tensor.DType != SafetensorsDType.F32)
            {
                throw Unreadable(path, $"the tensor '{name}' is {tensor.DType}, not F32");
            }

            entries.Add(KeyValuePair.Create(name[prefix.Length..], new FisherParameter(tensor.Shape, tensor.ToFloats())));
        }

        return FromParameters(path, entries, metadata);
    }

    /// <summary>A diagonal from values read from <paramref name="path"/>, with the file's Fisher metadata; FUL4081 when
    /// the metadata does not describe one or a value is negative or not finite.</summary>
    internal static FisherDiagonal FromParameters(string path, IEnumerable<KeyValuePair<string, FisherParameter>> entries, IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(EstimatorKey, out var estimatorName) || !FisherEstimators.TryParse(estimatorName, out var estimator))
        {
            throw Unreadable(path, $"the metadata names no known '{EstimatorKey}'");
        }

        if (!metadata.TryGetValue(SamplesKey, out var samplesText) || !long.TryParse(samplesText, NumberStyles.None, CultureInfo.InvariantCulture, out var samples))
        {
            throw Unreadable(path, $"the metadata has no valid '{SamplesKey}'");
        }

        int? batchSize = null;
        if (metadata.TryGetValue(BatchSizeKey, out var batchText))
        {
            batchSize = int.TryParse(batchText, NumberStyles.None, CultureInfo.InvariantCulture, out var b) && b > 0
                ? b
                : throw Unreadable(path, $"'{BatchSizeKey}' is '{batchText}'");
        }

        double? temperature = null;
        if (metadata.TryGetValue(TemperatureKey, out var temperatureText))
        {
            temperature = double.TryParse(temperatureText, NumberStyles.Float, CultureInfo.InvariantCulture, out var t) && double.IsFinite(t) && t > 0
                ? t
                : throw Unreadable(path, $"'{TemperatureKey}' is '{temperatureText}'");
        }

        if (estimator.UsesTemperature() && temperature is null)
        {
            throw Unreadable(path, $"the metadata has no '{TemperatureKey}'");
        }

        var fisher = new FisherDiagonal(entries, estimator, samples, batchSize, temperature);
        var (invalid, first) = fisher.CountInvalid();
        return invalid > 0 ? throw Unreadable(path, $"{invalid} values (first in '{first}') are negative or not finite") : fisher;
    }

    internal static EngineException Unreadable(string path, string detail) =>
        EngineException.Create(DiagnosticCatalogue.FisherFileUnreadable, path, path, detail);

    private static FisherDiagonal RequireCompatible(IReadOnlyList<FisherDiagonal> list)
    {
        if (list.Count == 0)
        {
            throw new ArgumentException("At least one Fisher diagonal is needed.");
        }

        var first = list[0];
        foreach (var other in list.Skip(1))
        {
            if (other.Estimator != first.Estimator || other.BatchSize != first.BatchSize || other.Temperature != first.Temperature)
            {
                throw new ArgumentException(
                    $"Fisher diagonals of different estimators cannot be combined ({first.Estimator.Name()}{Batch(first)} and {other.Estimator.Name()}{Batch(other)}).");
            }

            if (other.parameters.Count != first.parameters.Count
                || other.parameters.Any(p => !first.parameters.TryGetValue(p.Key, out var mine) || !mine.SameShape(p.Value)))
            {
                throw new ArgumentException("Fisher diagonals of different parameters or shapes cannot be combined.");
            }
        }

        return first;

        static string Batch(FisherDiagonal f) =>
            (f.BatchSize is { } b ? $", batch {b}" : string.Empty) + (f.Temperature is { } t ? $", temperature {FormatTemperature(t)}" : string.Empty);
    }

    /// <summary>A temperature as metadata, keys and reports write it (shortest round-trip form, invariant culture).</summary>
    public static string FormatTemperature(double temperature) => temperature.ToString("R", CultureInfo.InvariantCulture);
}
