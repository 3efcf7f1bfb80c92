using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace FisherUnlearn.Lineage.IO;

/// <summary>
/// The files a <c>custom</c> architecture's module assembly brings with it: the assembly named in the manifest, and every
/// assembly it references (directly or through another) that lies beside it, as a training project's build output puts
/// its project references and which the engine loads from there. A change to any of them can change the module, so each
/// counts as an input of the models that use it (found in QA: a rebuilt helper library beside an unchanged module DLL
/// changed the layer sizes while <c>status</c> said done and <c>train</c> up to date). References that are not beside it
/// (the framework, TorchSharp from the tool) are left out. Read from metadata only: nothing is loaded or run.
/// </summary>
public static class ModuleAssemblyFiles
{
    /// <summary>The assembly first, then its local references in ordinal order (absolute paths). A missing file or one
    /// that is not a .NET assembly is returned alone: loading it reports the problem.</summary>
    public static IReadOnlyList<string> Of(string assemblyPath)
    {
        ArgumentNullException.ThrowIfNull(assemblyPath);
        var root = Path.GetFullPath(assemblyPath);
        var folder = Path.GetDirectoryName(root)!;
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>([root]);
        var seen = new HashSet<string>(StringComparer.Ordinal) { root };
        while (pending.Count > 0)
        {
            foreach (var name in ReferencesOf(pending.Dequeue()))
            {
                var candidate = Path.Combine(folder, name + ".dll");
                if (seen.Add(candidate) && File.Exists(candidate))
                {
                    found.Add(candidate);
                    pending.Enqueue(candidate);
                }
            }
        }

        return [root, .. found];
    }

    private static IEnumerable<string> ReferencesOf(string path)
    {
        try
        {
            // A FIFO or a device is not opened (reading one would block or never end); loading it reports FUL1027.
            using var stream = RegularFile.OpenRead(path);
            using var pe = new PEReader(stream);
            if (!pe.HasMetadata)
            {
                return [];
            }

            var metadata = pe.GetMetadataReader();
            return [.. metadata.AssemblyReferences.Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name))];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or BadImageFormatException or InvalidOperationException)
        {
            return [];
        }
    }
}
