using System.Reflection;
using System.Runtime.Loader;
using FisherUnlearn.Lineage.Diagnostics;
using FisherUnlearn.Lineage.Manifests;
using static TorchSharp.torch;

namespace FisherUnlearn.Engine.Models;

/// <summary>
/// Creates a user-defined <c>Module&lt;Tensor,Tensor&gt;</c> (<c>architecture.kind</c> = <c>custom</c>) from the
/// training project's assembly. The assembly loads into its own <see cref="AssemblyLoadContext"/>, but every
/// assembly the host already has (TorchSharp above all) is shared, so the module's types are the engine's types.
/// Constructors are tried in this order: <c>(ArchitectureSpec)</c>, <c>(int classes)</c>, <c>()</c>.
/// </summary>
public static class CustomModelLoader
{
    public static nn.Module<Tensor, Tensor> Create(ArchitectureSpec spec, string? manifestDirectory)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (string.IsNullOrWhiteSpace(spec.Assembly) || string.IsNullOrWhiteSpace(spec.Type))
        {
            throw EngineException.Create(DiagnosticCatalogue.ArchitectureUnsupported, null, spec.ToString(),
                "a custom architecture needs 'assembly' (path to the .dll) and 'type' (full type name)");
        }

        var path = Path.GetFullPath(Path.Combine(manifestDirectory ?? Directory.GetCurrentDirectory(), spec.Assembly));
        // Messages name the assembly relative to the manifest's folder, as the manifest writes it (the reader resolves it).
        var type = FindType(path, manifestDirectory is null ? spec.Assembly : Path.GetRelativePath(manifestDirectory, path), spec.Type);
        var instance = Construct(type, spec);
        if (instance is nn.Module<Tensor, Tensor> module)
        {
            if (!module.parameters().Any())
            {
                // Found in QA: training such a module failed late, in libtorch ("element 0 of tensors does not require grad").
                module.Dispose();
                throw EngineException.Create(DiagnosticCatalogue.CustomTypeInvalid, path, spec.Type,
                    "it has no parameters, so there is nothing to train or unlearn: create its layers in the constructor and call RegisterComponents()");
            }

            return module;
        }

        (instance as IDisposable)?.Dispose();
        throw EngineException.Create(DiagnosticCatalogue.CustomTypeInvalid, path, spec.Type, "it is not a TorchSharp Module<Tensor, Tensor>");
    }

    // shown: the assembly as the manifest writes it (relative to its folder), for messages.
    private static Type FindType(string path, string shown, string typeName)
    {
        if (Lineage.IO.RegularFile.Absence(path) is { } absence)
        {
            throw EngineException.Create(DiagnosticCatalogue.CustomAssemblyNotFound, path, shown, $"it {absence}");
        }

        EngineException.ThrowIfNotRegular(path);

        Assembly assembly;
        try
        {
            assembly = new ModelLoadContext(path).LoadFromAssemblyPath(path);
        }
        catch (Exception ex) when (ex is BadImageFormatException or FileLoadException or IOException)
        {
            throw EngineException.At(DiagnosticCatalogue.CustomAssemblyNotFound, new SourceLocation(path), ex, shown, ex.Message);
        }

        Type? type;
        try
        {
            type = assembly.GetType(typeName, throwOnError: false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or TypeLoadException)
        {
            throw EngineException.At(DiagnosticCatalogue.CustomAssemblyNotFound, new SourceLocation(path), ex, shown, ex.Message);
        }

        if (type is null)
        {
            throw Unfound(assembly, path, shown, typeName);
        }

        if (!type.IsPublic && !type.IsNestedPublic)
        {
            throw EngineException.Create(DiagnosticCatalogue.CustomTypeInvalid, path, typeName, "it is not public; make the class public");
        }

        if (type.IsAbstract || type.IsGenericTypeDefinition)
        {
            throw EngineException.Create(DiagnosticCatalogue.CustomTypeInvalid, path, typeName, "it is abstract or generic; name a concrete class");
        }

        if (!typeof(nn.Module<Tensor, Tensor>).IsAssignableFrom(type))
        {
            throw EngineException.Create(DiagnosticCatalogue.CustomTypeInvalid, path, typeName,
                "it does not derive from TorchSharp's Module<Tensor, Tensor> (of the TorchSharp version the tool uses)");
        }

        return type;
    }

    // Why the type was not found: a type of that name is there but does not load (built against another TorchSharp than
    // the tool's), a nested class written with '.' for '+', or there is none (FUL4042).
    private static EngineException Unfound(Assembly assembly, string path, string shown, string typeName)
    {
        var host = typeof(nn.Module).Assembly.GetName().Version;
        var built = assembly.GetReferencedAssemblies().FirstOrDefault(a => a.Name == "TorchSharp")?.Version;
        if (built is not null && host is not null && built != host)
        {
            return EngineException.Create(DiagnosticCatalogue.CustomTypeInvalid, path, typeName,
                $"'{Path.GetFileName(path)}' was built against TorchSharp {built}, and the tool runs TorchSharp {host}, so its modules cannot be loaded; build it against TorchSharp {host.ToString(3)}");
        }

        Type?[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            types = ex.Types;
        }

        var nested = types.OfType<Type>().FirstOrDefault(t => t.IsNested && t.FullName?.Replace('+', '.') == typeName);
        return nested is not null
            ? EngineException.Create(DiagnosticCatalogue.CustomTypeInvalid, path, typeName, $"it is a nested class, which .NET names '{nested.FullName}': write that in 'architecture.type'")
            : EngineException.Create(DiagnosticCatalogue.CustomTypeNotFound, path, typeName, shown);
    }

    private static object Construct(Type type, ArchitectureSpec spec)
    {
        var (constructor, arguments) =
            type.GetConstructor([typeof(ArchitectureSpec)]) is { } withSpec ? (withSpec, new object[] { spec })
            : type.GetConstructor([typeof(int)]) is { } withClasses ? (withClasses, new object[] { spec.Classes })
            : type.GetConstructor(Type.EmptyTypes) is { } parameterless ? (parameterless, [])
            : throw EngineException.Create(DiagnosticCatalogue.CustomTypeInvalid, null, spec.Type,
                "it has no public constructor taking (ArchitectureSpec), (int classes) or nothing; add one");
        try
        {
            return constructor.Invoke(arguments);
        }
        catch (Exception ex) when (ex is TargetInvocationException or TypeInitializationException)
        {
            // The cause, through the wrappers of a constructor call and of a static constructor that threw.
            var inner = ex;
            while (inner is TargetInvocationException or TypeInitializationException && inner.InnerException is { } cause)
            {
                inner = cause;
            }

            if (inner is FileNotFoundException or FileLoadException && inner.Message.Contains("assembly", StringComparison.OrdinalIgnoreCase))
            {
                // A library the module uses is not beside it: the build output is incomplete, not the constructor wrong.
                throw EngineException.At(DiagnosticCatalogue.CustomAssemblyNotFound, SourceLocation.None, inner, spec.Assembly,
                    $"a library it uses could not be loaded ({EngineException.FirstLine(inner.Message)}): its folder must hold every library it references, and a class library's build output leaves out the NuGet packages it uses unless its project sets <CopyLocalLockFileAssemblies>true</CopyLocalLockFileAssemblies> (or 'architecture.assembly' names the DLL 'dotnet publish' writes)");
            }

            throw EngineException.At(DiagnosticCatalogue.CustomModelFailed, SourceLocation.None, inner, spec.Type, $"{inner.GetType().Name}: {EngineException.FirstLine(inner.Message)}");
        }
    }

    // Resolves the model assembly's own dependencies from its folder (deps.json), and leaves every assembly the
    // host has already loaded to the default context, so that TorchSharp is loaded once.
    private sealed class ModelLoadContext(string path) : AssemblyLoadContext($"FisherUnlearn.Model:{Path.GetFileName(path)}")
    {
        private readonly AssemblyDependencyResolver resolver = new(path);

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            if (Default.Assemblies.Any(a => AssemblyName.ReferenceMatchesDefinition(assemblyName, a.GetName()))
                || IsHostAssembly(assemblyName))
            {
                return null;
            }

            var resolved = resolver.ResolveAssemblyToPath(assemblyName);
            return resolved is null ? null : LoadFromAssemblyPath(resolved);
        }

        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
        {
            var resolved = resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
            return resolved is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(resolved);
        }

        // Assemblies the engine references but may not have loaded yet must still come from the host.
        private static bool IsHostAssembly(AssemblyName name) =>
            name.Name is "TorchSharp" or "FisherUnlearn.Lineage" or "FisherUnlearn.Engine" or "Newtonsoft.Json"
            || (name.Name?.StartsWith("System.", StringComparison.Ordinal) ?? false);
    }
}
