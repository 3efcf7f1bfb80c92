using System.Runtime.CompilerServices;
using Microsoft.Build.Locator;

namespace FisherUnlearn.Build.Tests.Targets;

/// <summary>
/// Registers the .NET SDK's MSBuild (the one global.json selects, as <c>dotnet build</c> would) before any
/// Microsoft.Build type loads: a module initializer runs before the test host touches this assembly's tests. The project
/// references Microsoft.Build* with <c>ExcludeAssets="runtime"</c>, so every MSBuild assembly (for the task tests too)
/// resolves from the SDK through the Locator. This method must not mention a Microsoft.Build type itself.
/// </summary>
internal static class MsBuildRegistration
{
    /// <summary>The registered instance's MSBuild folder (empty if registration failed; see <see cref="Error"/>).</summary>
    public static string MSBuildPath { get; private set; } = string.Empty;

    public static string? Error { get; private set; }

#pragma warning disable CA2255 // The module initializer is the documented way to run the Locator before MSBuild loads.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        if (MSBuildLocator.IsRegistered)
        {
            return;
        }

        try
        {
            var instance = MSBuildLocator.RegisterDefaults();
            MSBuildPath = instance.MSBuildPath;
        }
        catch (InvalidOperationException ex)
        {
            Error = ex.Message;
        }
    }
}
