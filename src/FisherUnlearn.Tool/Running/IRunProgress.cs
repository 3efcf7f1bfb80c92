using FisherUnlearn.Engine.Unlearning;

namespace FisherUnlearn.Tool.Running;

/// <summary>What a run tells the person (or log) watching it. Implementations: a live terminal display, or one line
/// per finished model for CI logs and redirected output.</summary>
internal interface IRunProgress : IDisposable
{
    /// <summary>The models this run will consider, in order, before any starts.</summary>
    void Planned(IReadOnlyList<string> modelIds);

    void Started(string modelId);

    /// <summary>A model finished: freshly computed, or <paramref name="reused"/> because its output was up to date.</summary>
    void Finished(ModelOutcome outcome, bool reused);
}
