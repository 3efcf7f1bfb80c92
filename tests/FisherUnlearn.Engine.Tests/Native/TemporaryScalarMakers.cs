using System.Reflection;
using System.Reflection.Emit;
using System.Text;

namespace FisherUnlearn.Engine.Tests.Native;

/// <summary>
/// Finds, in TorchSharp's IL, the public members that make a <c>TorchSharp.Scalar</c> and may leave it to the finalizer:
/// the Scalar's own conversion operators, and every method that calls one (or <c>ToScalar</c>), directly or through other
/// TorchSharp methods. A method that disposes what it makes is listed too: IL shows a <c>using</c> only as a call of
/// <c>IDisposable.Dispose</c> on some object, so telling such a method apart would take a data-flow analysis, and a list
/// too wide is safe (the engine holds its Scalars either way). Such a temporary can be freed by the finalizer thread while libtorch still
/// reads it (docs/engine-notes.md). Every project that calls TorchSharp bans the members found (build/BannedSymbols.TorchSharp.txt).
/// </summary>
internal static class TemporaryScalarMakers
{
    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>The documentation-comment ids of the public makers, sorted, one each.</summary>
    public static IReadOnlyList<string> DeclarationIds(Assembly torchSharp) =>
        Find(torchSharp).Select(DeclarationId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    public static IReadOnlyList<MethodBase> Find(Assembly torchSharp)
    {
        var calls = new Dictionary<MethodBase, IReadOnlyList<MethodBase>>();
        foreach (var type in LoadableTypes(torchSharp))
        {
            foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
            {
                calls[method] = Callees(method);
            }
        }

        var makers = calls.Where(c => IsScalarConversion(c.Key) || c.Value.Any(MakesScalar)).Select(c => c.Key).ToHashSet();
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var (method, callees) in calls)
            {
                if (!makers.Contains(method) && callees.Any(c => makers.Contains(Definition(c))))
                {
                    makers.Add(method);
                    grew = true;
                }
            }
        }

        return makers.Where(IsPublicApi).ToList();
    }

    /// <summary>The id C# documentation comments give a member (ECMA-334, annex D), as banned-symbol files take it: a
    /// property's (<c>P:</c>) for its accessors, since the analyzer sees a property used, not its getter called (a
    /// <c>M:…get_variance</c> line resolves but bans nothing: found in review).</summary>
    public static string DeclarationId(MethodBase method)
    {
        if (method.IsSpecialName && method is MethodInfo accessor && PropertyOf(accessor) is { } property)
        {
            var indexes = property.GetIndexParameters();
            return $"P:{TypeName(method.DeclaringType!, inSignature: false)}.{property.Name}"
                + (indexes.Length > 0 ? "(" + string.Join(',', indexes.Select(p => TypeName(p.ParameterType, inSignature: true))) + ")" : string.Empty);
        }

        var id = new StringBuilder("M:");
        id.Append(TypeName(method.DeclaringType!, inSignature: false)).Append('.');
        id.Append(method.IsConstructor ? (method.IsStatic ? "#cctor" : "#ctor") : method.Name);
        if (method.IsGenericMethod)
        {
            id.Append("``").Append(method.GetGenericArguments().Length);
        }

        var parameters = method.GetParameters();
        if (parameters.Length > 0)
        {
            id.Append('(').AppendJoin(',', parameters.Select(p => TypeName(p.ParameterType, inSignature: true))).Append(')');
        }

        if (method is MethodInfo { Name: "op_Implicit" or "op_Explicit" } conversion)
        {
            id.Append('~').Append(TypeName(conversion.ReturnType, inSignature: true));
        }

        return id.ToString();
    }

    private static PropertyInfo? PropertyOf(MethodInfo accessor) =>
        accessor.DeclaringType!.GetProperties(Declared).FirstOrDefault(p => p.GetMethod == accessor || p.SetMethod == accessor);

    private static string TypeName(Type type, bool inSignature)
    {
        if (type.IsByRef)
        {
            return TypeName(type.GetElementType()!, inSignature) + "@";
        }

        if (type.IsPointer)
        {
            return TypeName(type.GetElementType()!, inSignature) + "*";
        }

        if (type.IsArray)
        {
            var rank = type.GetArrayRank();
            return TypeName(type.GetElementType()!, inSignature) + (rank == 1 ? "[]" : "[" + string.Join(',', Enumerable.Repeat("0:", rank)) + "]");
        }

        if (type.IsGenericParameter)
        {
            return (type.DeclaringMethod is null ? "`" : "``") + type.GenericParameterPosition;
        }

        var outer = type.DeclaringType is { } declaring
            ? TypeName(declaring, inSignature: false) + "."
            : type.Namespace is { Length: > 0 } ns ? ns + "." : "";
        var name = type.Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        if (!inSignature || !type.IsGenericType)
        {
            return outer + name;
        }

        // In a signature a generic type is written with its arguments: System.Nullable{System.Int64}.
        var arguments = type.GetGenericArguments();
        var own = arguments.Skip(type.DeclaringType?.GetGenericArguments().Length ?? 0).ToList();
        return outer + (tick >= 0 ? name[..tick] : name) + (own.Count > 0 ? "{" + string.Join(',', own.Select(a => TypeName(a, inSignature: true))) + "}" : "");
    }

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException partial)
        {
            return partial.Types.OfType<Type>();
        }
    }

    private static IReadOnlyList<MethodBase> Callees(MethodBase method)
    {
        byte[]? il;
        try
        {
            il = method.GetMethodBody()?.GetILAsByteArray();
        }
        catch (Exception e) when (e is BadImageFormatException or FileNotFoundException or TypeLoadException)
        {
            return [];
        }

        if (il is null)
        {
            return [];
        }

        var callees = new List<MethodBase>();
        for (var at = 0; at < il.Length;)
        {
            var opCode = il[at] == 0xFE ? OpCodesByValue[(short)(0xFE00 | il[at + 1])] : OpCodesByValue[il[at]];
            at += opCode.Size;
            if (opCode.OperandType == OperandType.InlineMethod && Resolve(method, BitConverter.ToInt32(il, at)) is { } callee)
            {
                callees.Add(callee);
            }

            at += OperandSize(opCode.OperandType, il, at);
        }

        return callees;
    }

    private static MethodBase? Resolve(MethodBase caller, int token)
    {
        try
        {
            return caller.Module.ResolveMethod(
                token,
                caller.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null,
                caller.IsGenericMethod ? caller.GetGenericArguments() : null);
        }
        catch (Exception e) when (e is ArgumentException or BadImageFormatException or FileNotFoundException or TypeLoadException)
        {
            return null;
        }
    }

    private static int OperandSize(OperandType operand, byte[] il, int at) => operand switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, at)),
        _ => 4,
    };

    private static MethodBase Definition(MethodBase method) => method switch
    {
        MethodInfo { IsGenericMethod: true, IsGenericMethodDefinition: false } generic => generic.GetGenericMethodDefinition(),
        _ when method.DeclaringType is { IsConstructedGenericType: true } => MethodBase.GetMethodFromHandle(method.MethodHandle, method.DeclaringType.GetGenericTypeDefinition().TypeHandle) ?? method,
        _ => method,
    };

    private static bool IsScalarType(Type? type) => type?.FullName == "TorchSharp.Scalar";

    private static bool IsScalarConversion(MethodBase method) =>
        IsScalarType(method.DeclaringType) && method.Name is "op_Implicit" or "op_Explicit";

    private static bool MakesScalar(MethodBase callee) =>
        IsScalarConversion(callee) || (callee.Name == "ToScalar" && callee is MethodInfo { ReturnType: var r } && IsScalarType(r));

    private static bool IsPublicApi(MethodBase method) =>
        (method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly) && method.DeclaringType is { IsVisible: true };
}
