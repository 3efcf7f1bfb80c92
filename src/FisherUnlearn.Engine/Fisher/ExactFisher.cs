using FisherUnlearn.Engine.Data;
using FisherUnlearn.Engine.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Fisher;

/// <summary>
/// The exact per-example diagonal Fisher, <c>sum_n g_n^2 / N</c>, accumulated (not yet divided by N).
/// <para>
/// Linear layers with 2-D inputs: one backward pass per chunk with the cross-entropy summed (so the gradient at each
/// layer output z is the per-example g_n, not g_n/B). The per-example weight gradient is outer(g_n, a_n) with a_n the
/// layer input, so its square summed over n is <c>(g^2)^T . a^2</c>; the bias's is <c>sum_n g_n^2</c>.
/// Conv2d layers (groups 1, zero padding): the per-example weight gradient is <c>G_n . U_n^T</c> with U_n the im2col
/// unfolding of the input (C_in*k*k x L) and G_n the output gradient (C_out x L), computed by bmm in chunks, squared and
/// summed; the bias's is <c>(sum_L G_n)^2</c>.
/// Inputs and outputs are captured by forward hooks, so any module built of Linear and Conv2d submodules called once per
/// forward is covered. Every other parameter (of custom layers, layers called twice, sequence inputs) is computed by a
/// per-example loop: one backward per sample, exact for any layer, slower.
/// </para>
/// Assumes the model treats samples independently in eval() mode (true of every built-in architecture).
/// <para>
/// The <c>tempered</c> estimator is the same computation with the loss on the logits divided by its temperature T,
/// <c>CE(z / T, y)</c>: only the gradient arriving at the layer outputs changes, so both paths hold unchanged.
/// </para>
/// </summary>
internal static class ExactFisher
{
    // Elements of one chunk of per-example conv weight gradients (64 MB of float32).
    private const long MaxPerExampleElements = 16L * 1024 * 1024;

    public static int Accumulate(nn.Module<Tensor, Tensor> model, DataSplit data, IReadOnlyList<(string Name, Parameter Parameter)> selected,
        Dictionary<string, Tensor> accumulators, FisherOptions options, CancellationToken cancellationToken) =>
        AccumulateEach(model, [data], selected, [accumulators], options, cancellationToken)[0];

    /// <summary>
    /// <see cref="Accumulate"/> for several parts of data at once, each into its own accumulators (the same values as one
    /// call per part): the layers are found, hooked and probed once for all of them, which a harvest's ten labels per
    /// model would otherwise each pay.
    /// </summary>
    public static int[] AccumulateEach(nn.Module<Tensor, Tensor> model, IReadOnlyList<DataSplit> parts, IReadOnlyList<(string Name, Parameter Parameter)> selected,
        IReadOnlyList<Dictionary<string, Tensor>> accumulators, FisherOptions options, CancellationToken cancellationToken)
    {
        var counts = parts.Select(p => p.Count).ToArray();
        var probe = parts.FirstOrDefault(p => p.Count > 0);
        if (probe is null || selected.Count == 0)
        {
            return counts;
        }

        var selectedNames = selected.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var layers = options.ForcePerExampleLoop ? [] : Discover(model, selectedNames);
        try
        {
            if (layers.Count > 0)
            {
                // Which layers the one-pass trick covers depends on the model and the samples' shape, not on the samples.
                Probe(model, probe, layers);
                layers.RemoveAll(l =>
                {
                    if (!l.Supported)
                    {
                        l.Remover.remove();
                    }

                    return !l.Supported;
                });
            }

            for (var i = 0; i < parts.Count && layers.Count > 0; i++)
            {
                if (parts[i].Count > 0)
                {
                    OnePass(model, parts[i], layers, accumulators[i], options, cancellationToken);
                }
            }
        }
        finally
        {
            foreach (var layer in layers)
            {
                layer.Remover.remove();
                layer.Calls.Clear();
            }
        }

        var covered = layers.SelectMany(l => new[] { l.WeightName, l.BiasName }).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var rest = selected.Where(p => !covered.Contains(p.Name)).ToList();
        for (var i = 0; i < parts.Count && rest.Count > 0; i++)
        {
            if (parts[i].Count > 0)
            {
                PerExampleLoop(model, parts[i], selected, rest, accumulators[i], options, cancellationToken);
            }
        }

        return counts;
    }

    /// <summary>The parameters the one-pass trick computes for this model (the rest go to the per-example loop).</summary>
    internal static IReadOnlyList<string> OnePassParameters(nn.Module<Tensor, Tensor> model, DataSplit data)
    {
        var names = model.named_parameters().Select(p => p.name).ToHashSet(StringComparer.Ordinal);
        var layers = Discover(model, names);
        try
        {
            Probe(model, data, layers);
            return [.. layers.Where(l => l.Supported).SelectMany(l => new[] { l.WeightName, l.BiasName }).OfType<string>().Order(StringComparer.Ordinal)];
        }
        finally
        {
            foreach (var layer in layers)
            {
                layer.Remover.remove();
            }
        }
    }

    private static List<Layer> Discover(nn.Module<Tensor, Tensor> model, HashSet<string> selectedNames)
    {
        var layers = new List<Layer>();
        var seen = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        var modules = new List<(string Name, nn.Module Module)> { (string.Empty, model) };
        modules.AddRange(model.named_modules().Where(m => m.name.Length > 0).Select(m => (m.name, m.module)));
        foreach (var (prefix, module) in modules)
        {
            if (!seen.Add(module))
            {
                continue;
            }

            string Full(string name) => prefix.Length == 0 ? name : $"{prefix}.{name}";
            var weight = Full("weight");
            var bias = Full("bias");
            Layer? layer = module switch
            {
                Linear linear => new Layer(linear, null, Pick(weight), linear.bias is null ? null : Pick(bias)),
                Conv2d conv when ConvGeometry.TryCreate(conv) is { } geometry => new Layer(conv, geometry, Pick(weight), conv.bias is null ? null : Pick(bias)),
                _ => null,
            };
            if (layer is { WeightName: null, BiasName: null } || layer is null)
            {
                continue;
            }

            var captured = layer;
            layer.Remover = layer.Module.register_forward_hook((_, input, output) =>
            {
                // Own handles to the same tensors: a container such as nn.Sequential disposes its intermediate results
                // (this layer's input, or its output) before the forward pass returns; an alias keeps them usable until
                // the caller's dispose scope ends, with no copy.
                captured.Calls.Add((input.alias(), output.alias()));
                return null!;
            });
            layers.Add(layer);
        }

        return layers;

        string? Pick(string name) => selectedNames.Contains(name) ? name : null;
    }

    // One small forward without gradients: which layers are called exactly once, with one row (Linear) or one image
    // (Conv2d) per sample. The others go to the per-example loop.
    private static void Probe(nn.Module<Tensor, Tensor> model, DataSplit data, List<Layer> layers)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (features, _) = data.Batches(Math.Min(2, data.Count)).First();
        var count = features.shape[0];
        model.call(features);
        foreach (var layer in layers)
        {
            layer.Supported = layer.Calls.Count == 1 && layer.Calls[0] is var (input, output)
                && (layer.Conv is null
                    ? input.dim() == 2 && output.dim() == 2
                    : input.dim() == 4 && output.dim() == 4)
                && input.shape[0] == count && output.shape[0] == count;
            layer.Calls.Clear();
        }
    }

    /// <summary>The summed cross-entropy of the estimator: on the logits for <c>exact</c>, on the logits divided by the
    /// temperature for <c>tempered</c>.</summary>
    internal static Tensor Loss(Tensor output, Tensor labels, FisherOptions options)
    {
        if (!options.Estimator.UsesTemperature())
        {
            return nn.functional.cross_entropy(output, labels, reduction: nn.Reduction.Sum);
        }

        using var scope = torch.NewDisposeScope();
        using var temperature = options.Temperature.ToScalar(); // Held past every native call (docs/engine-notes.md).
        return nn.functional.cross_entropy(output.div(temperature), labels, reduction: nn.Reduction.Sum).MoveToOuterDisposeScope();
    }

    private static void OnePass(nn.Module<Tensor, Tensor> model, DataSplit data, List<Layer> layers, Dictionary<string, Tensor> accumulators,
        FisherOptions options, CancellationToken cancellationToken)
    {
        foreach (var batch in data.Batches(options.ChunkSize))
        {
            using var features = batch.Features;
            using var labels = batch.Labels;
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            try
            {
                var output = model.call(features);
                var loss = Loss(output, labels, options);
                foreach (var layer in layers)
                {
                    if (layer.Calls.Count != 1)
                    {
                        throw new InvalidOperationException($"A {layer.Module.GetType().Name} layer ran {layer.Calls.Count} times in one forward pass after running once in the probe.");
                    }
                }

                // Only the gradients at the layers' outputs are needed: asking autograd for those alone skips the
                // parameters' own gradients (a matrix product per layer that backward() would compute and drop).
                var outputs = layers.Select(l => l.Calls[0].Output).ToList();
                var reached = outputs.Select(z => z.requires_grad).ToList();
                var wanted = outputs.Where((_, i) => reached[i]).ToList();
                var grads = wanted.Count == 0 ? [] : torch.autograd.grad([loss], wanted, allow_unused: true);
                using var noGrad = torch.no_grad();
                var next = 0;
                foreach (var (layer, i) in layers.Select((l, i) => (l, i)))
                {
                    var g = reached[i] ? grads[next++] : null;
                    if (g is null || g.IsInvalid)
                    {
                        continue; // The layer does not reach the loss: its Fisher is zero.
                    }

                    var input = layer.Calls[0].Input;

                    if (layer.Conv is { } geometry)
                    {
                        AccumulateConv(layer, geometry, input, g, accumulators);
                    }
                    else
                    {
                        var g2 = g.Squared();
                        if (layer.WeightName is { } weight)
                        {
                            accumulators[weight].AddInPlace(g2.t().matmul(input.Squared()));
                        }

                        if (layer.BiasName is { } bias)
                        {
                            accumulators[bias].AddInPlace(g2.sum(dim: 0));
                        }
                    }
                }
            }
            finally
            {
                foreach (var layer in layers)
                {
                    layer.Calls.Clear();
                }
            }
        }
    }

    private static void AccumulateConv(Layer layer, ConvGeometry geometry, Tensor input, Tensor g, Dictionary<string, Tensor> accumulators)
    {
        var n = input.shape[0];
        var outChannels = g.shape[1];
        var gm = g.reshape(n, outChannels, -1);
        if (layer.BiasName is { } bias)
        {
            accumulators[bias].AddInPlace(gm.sum(dim: 2).Squared().sum(dim: 0));
        }

        if (layer.WeightName is not { } weight)
        {
            return;
        }

        var accumulator = accumulators[weight];
        var unfolded = nn.functional.unfold(input, geometry.Kernel, geometry.Dilation, geometry.Padding, geometry.Stride);
        if (unfolded.shape[2] != gm.shape[2])
        {
            throw new InvalidOperationException($"im2col gives {unfolded.shape[2]} positions but the conv output has {gm.shape[2]}.");
        }

        var perExample = outChannels * unfolded.shape[1];
        var step = Math.Max(1, MaxPerExampleElements / Math.Max(1, perExample));
        for (long start = 0; start < n; start += step)
        {
            using var inner = torch.NewDisposeScope();
            var length = Math.Min(step, n - start);
            var grads = gm.narrow(0, start, length).bmm(unfolded.narrow(0, start, length).transpose(1, 2));
            accumulator.AddInPlace(grads.Squared().sum(dim: 0).reshape(accumulator.shape));
        }
    }

    // The slow exact reference: one backward per sample, only for the parameters in `rest` (the others stop
    // requiring gradients meanwhile, so backward ends early).
    private static void PerExampleLoop(nn.Module<Tensor, Tensor> model, DataSplit data, IReadOnlyList<(string Name, Parameter Parameter)> selected,
        List<(string Name, Parameter Parameter)> rest, Dictionary<string, Tensor> accumulators, FisherOptions options, CancellationToken cancellationToken)
    {
        var restNames = rest.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, parameter) in selected)
        {
            parameter.requires_grad = restNames.Contains(name);
        }

        try
        {
            foreach (var batch in data.Batches(options.ChunkSize))
            {
                using var features = batch.Features;
                using var labels = batch.Labels;
                for (long i = 0; i < features.shape[0]; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = torch.NewDisposeScope();
                    model.zero_grad();
                    var output = model.call(features.narrow(0, i, 1));
                    var loss = Loss(output, labels.narrow(0, i, 1), options);
                    loss.backward();
                    using var noGrad = torch.no_grad();
                    foreach (var (name, parameter) in rest)
                    {
                        var grad = parameter.grad;
                        if (grad is not null)
                        {
                            accumulators[name].AddInPlace(grad.Squared());
                        }
                    }
                }
            }
        }
        finally
        {
            foreach (var (_, parameter) in selected)
            {
                parameter.requires_grad = true;
            }
        }
    }

    private sealed class Layer(nn.Module<Tensor, Tensor> module, ConvGeometry? conv, string? weightName, string? biasName)
    {
        public nn.Module<Tensor, Tensor> Module { get; } = module;

        public ConvGeometry? Conv { get; } = conv;

        public string? WeightName { get; } = weightName;

        public string? BiasName { get; } = biasName;

        public List<(Tensor Input, Tensor Output)> Calls { get; } = [];

        public bool Supported { get; set; }

        public nn.HookableModule<Func<nn.Module<Tensor, Tensor>, Tensor, Tensor>, Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Tensor>>.HookRemover Remover { get; set; } = null!;
    }

    private sealed record ConvGeometry((long, long) Kernel, (long, long) Stride, (long, long) Padding, (long, long) Dilation)
    {
        // Only what im2col reproduces exactly: 2-D kernels, one group, zero padding given as numbers (or 'valid', or
        // 'same' when it pads symmetrically).
        public static ConvGeometry? TryCreate(Conv2d conv)
        {
            if (conv.groups != 1 || conv.padding_mode != PaddingModes.Zeros || conv.transposed
                || conv.kernel_size.Length != 2 || conv.stride.Length != 2 || conv.dilation.Length != 2)
            {
                return null;
            }

            long[] padding;
            if (conv.padding is { Length: 2 } explicitPadding && conv.padding_type is null)
            {
                padding = explicitPadding;
            }
            else if (conv.padding_type == TorchSharp.Padding.Valid)
            {
                padding = [0, 0];
            }
            else if (conv.padding_type == TorchSharp.Padding.Same
                     && Enumerable.Range(0, 2).All(i => conv.dilation[i] * (conv.kernel_size[i] - 1) % 2 == 0))
            {
                padding = [conv.dilation[0] * (conv.kernel_size[0] - 1) / 2, conv.dilation[1] * (conv.kernel_size[1] - 1) / 2];
            }
            else
            {
                return null;
            }

            return new ConvGeometry((conv.kernel_size[0], conv.kernel_size[1]), (conv.stride[0], conv.stride[1]),
                (padding[0], padding[1]), (conv.dilation[0], conv.dilation[1]));
        }
    }
}
