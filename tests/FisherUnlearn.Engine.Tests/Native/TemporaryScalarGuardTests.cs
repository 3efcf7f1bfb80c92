using System.Collections.Immutable;
using System.Reflection;
using FisherUnlearn.Testing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using TorchSharp;

namespace FisherUnlearn.Engine.Tests.Native;

/// <summary>
/// The guard against the TorchSharp 0.107 Scalar-lifetime race (docs/engine-notes.md): a temporary Scalar that the
/// finalizer thread frees while libtorch still reads it fails a run, rarely, with "Expected false to be true" (CI, the
/// nineteenth and twenty-fifth sessions). Every project that calls TorchSharp bans every TorchSharp member that makes one
/// (build/BannedSymbols.TorchSharp.txt, RS0030 as an error). These tests keep that list complete against
/// TorchSharp's IL and show the ban refusing each form, an implicit conversion of a variable included.
/// </summary>
public sealed class TemporaryScalarGuardTests
{
    private static readonly string BannedFile = RepoPaths.PathOf("build/BannedSymbols.TorchSharp.txt");

    [Fact]
    public void The_engine_bans_every_TorchSharp_member_that_leaves_a_Scalar_to_the_finalizer()
    {
        var expected = Header.Concat(TemporaryScalarMakers.DeclarationIds(typeof(Scalar).Assembly).Select(id => id + Why)).ToList();
        var actual = File.ReadAllLines(BannedFile);
        if (!actual.SequenceEqual(expected, StringComparer.Ordinal))
        {
            var regenerated = Path.Combine(Path.GetTempPath(), "BannedSymbols.TorchSharp.txt");
            File.WriteAllLines(regenerated, expected);
            var ids = actual.Where(l => !l.StartsWith("//", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
            var missing = expected.Where(l => !l.StartsWith("//", StringComparison.Ordinal) && !ids.Contains(l)).ToList();
            Assert.Fail(
                $"{BannedFile} is not the list TorchSharp's IL gives ({missing.Count} missing, e.g. {string.Join(", ", missing.Take(3).Select(l => l.Split(';')[0]))}). "
                + $"Review and copy {regenerated} over it.");
        }
    }

    [Fact]
    public void Every_banned_id_names_a_TorchSharp_member()
    {
        var compilation = Compile("class Empty { }");
        var unresolved = BannedIds().Where(id => DocumentationCommentId.GetSymbolsForDeclarationId(id, compilation).IsDefaultOrEmpty).ToList();
        // An accessor's own id resolves, but the analyzer sees the property used, not the accessor called: it would ban
        // nothing (found in review).
        var accessors = BannedIds().Where(id => DocumentationCommentId.GetSymbolsForDeclarationId(id, compilation)
            .Any(s => s is IMethodSymbol { AssociatedSymbol: not null })).ToList();

        Assert.True(BannedIds().Count > 100, "the list is the generated one");
        Assert.True(unresolved.Count == 0, "Ids the compiler does not resolve, so nothing bans them:\n" + string.Join("\n", unresolved));
        Assert.True(accessors.Count == 0, "Accessor ids, which ban nothing (write the property's P: id):\n" + string.Join("\n", accessors));
    }

    [Theory]
    [InlineData("var y = x.add(w);", "add(Tensor) passes TorchSharp's own alpha")]
    [InlineData("x.add_(w);", "add_(Tensor)")]
    [InlineData("var y = x.square();", "square()")]
    [InlineData("var y = x.mul(0.5);", "a number literal converted to a Scalar")]
    [InlineData("double half = 0.5; var y = x.mul(half);", "a variable converted implicitly")]
    [InlineData("var y = x * 2.0;", "an operator with a number")]
    [InlineData("var y = x + w;", "Tensor + Tensor")]
    [InlineData("var v = x.sum().ToDouble();", "ToDouble() reads a Scalar it never disposes")]
    [InlineData("var y = torch.nn.functional.leaky_relu(x, 0.1);", "a functional that converts its slope")]
    [InlineData("var v = torch.distributions.Normal(x, w).variance;", "a property whose getter converts a number")]
    public void The_ban_refuses_each_form_of_temporary_Scalar(string statement, string form)
    {
        var refused = BannedUses(statement);

        Assert.True(refused.Count > 0, $"not refused: {form}");
    }

    [Theory]
    [InlineData("using var half = 0.5.ToScalar(); var y = x.mul(half);")]
    [InlineData("using var one = 1.ToScalar(); var y = x.add(w, one);")]
    [InlineData("var y = x.matmul(w).relu();")]
    [InlineData("var v = x.sum().item<double>();")]
    public void Held_Scalars_and_other_operations_pass(string statement)
    {
        Assert.Empty(BannedUses(statement));
    }

    private const string Why = ";it leaves a temporary Scalar to the finalizer, which can free it while libtorch reads it: hold one (HeldScalars, docs/engine-notes.md)";

    private static IReadOnlyList<string> Header =>
    [
        "// TorchSharp members that make a Scalar and leave it to the finalizer, which can free it while libtorch reads it",
        "// (docs/engine-notes.md). Hold a Scalar instead: HeldScalars, or 'using var s = value.ToScalar()'. Generated from",
        "// TorchSharp's IL and kept complete by tests/FisherUnlearn.Engine.Tests/Native/TemporaryScalarGuardTests.cs.",
    ];

    private static IReadOnlyList<string> BannedIds() =>
        File.ReadAllLines(BannedFile).Where(l => l.Length > 0 && !l.StartsWith("//", StringComparison.Ordinal)).Select(l => l.Split(';')[0]).ToList();

    private static List<Diagnostic> BannedUses(string statement)
    {
        var compilation = Compile(
            $$"""
            using TorchSharp;
            using static TorchSharp.torch;
            static class Snippet
            {
                static void Run(Tensor x, Tensor w)
                {
                    {{statement}}
                }
            }
            """);
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, "the snippet compiles: " + string.Join("; ", errors));

        var options = new AnalyzerOptions([new FileText(BannedFile)]);
        var diagnostics = compilation.WithAnalyzers(BannedApiAnalyzers.Value, options)
            .GetAnalyzerDiagnosticsAsync(TestContext.Current.CancellationToken).GetAwaiter().GetResult();
        return diagnostics.Where(d => d.Id == "RS0030").ToList();
    }

    private static CSharpCompilation Compile(string source)
    {
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var references = platform.Append(typeof(Scalar).Assembly.Location)
            .Distinct(StringComparer.Ordinal)
            .Select(p => MetadataReference.CreateFromFile(p));
        return CSharpCompilation.Create(
            "Snippet",
            [CSharpSyntaxTree.ParseText(source, cancellationToken: TestContext.Current.CancellationToken)],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
    }

    private static readonly Lazy<ImmutableArray<DiagnosticAnalyzer>> BannedApiAnalyzers = new(() =>
    {
        var package = typeof(TemporaryScalarGuardTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "BannedApiAnalyzers").Value!;
        var folder = Path.Combine(package, "analyzers", "dotnet", "cs");
        return [.. Directory.EnumerateFiles(folder, "*.dll")
            .Select(Assembly.LoadFrom)
            .SelectMany(a => a.GetTypes())
            .Where(t => typeof(DiagnosticAnalyzer).IsAssignableFrom(t) && !t.IsAbstract && t.GetCustomAttribute<DiagnosticAnalyzerAttribute>() is not null)
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)];
    });

    private sealed class FileText(string path) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(File.ReadAllText(Path));
    }
}
