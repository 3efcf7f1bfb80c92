namespace FisherUnlearn.Tool.Cli;

/// <summary>The exit codes of <c>dotnet unlearn</c> (design.md section 4). Scripts rely on them: never change one.</summary>
internal static class ExitCodes
{
    /// <summary>Done, or nothing to do.</summary>
    public const int Ok = 0;

    /// <summary>A run failed or verification missed its targets (finished outputs are kept).</summary>
    public const int Failed = 1;

    /// <summary>Usage, manifest or configuration error.</summary>
    public const int InvalidInput = 2;

    /// <summary><c>--check</c> found work to do (outputs missing or stale).</summary>
    public const int WorkPending = 3;

    /// <summary>Cancelled (Ctrl-C).</summary>
    public const int Cancelled = 130;
}
