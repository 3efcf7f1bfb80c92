namespace FisherUnlearn.Tool.Cli;

internal enum Verbosity
{
    Quiet,
    Normal,
    Detailed,
}
