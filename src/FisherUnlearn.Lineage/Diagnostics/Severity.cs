namespace FisherUnlearn.Lineage.Diagnostics;

public enum Severity
{
    Info,
    Warning,
    Error,
}
