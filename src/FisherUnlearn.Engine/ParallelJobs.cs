namespace FisherUnlearn.Engine;

/// <summary>
/// Independent jobs (one per model) on up to <c>parallelism</c> threads of this process. Each job runs start to end on
/// one thread, as TorchSharp needs (dispose scopes and <c>no_grad</c> are per thread: docs/engine-notes.md), with
/// libtorch's configured thread count applied to that thread (<see cref="Native.TorchRuntime.UseOnThisThread"/>); with a
/// parallelism of 1 they run in order on the calling thread. Cancellation surfaces as
/// <see cref="OperationCanceledException"/> and a failure as the exception of the lowest-numbered job that failed, as
/// itself (a failing job stops the others from starting, as in order).
/// </summary>
public static class ParallelJobs
{
    public static void For(int count, int parallelism, Action<int> job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (parallelism <= 1 || count <= 1)
        {
            for (var i = 0; i < count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                job(i);
            }

            return;
        }

        // A failing job stops the others from starting, as in the sequential loop, and the failure of the lowest job index
        // among those that ran is rethrown as it was thrown (an EngineException stays one: several at once used to come
        // back as an AggregateException that no caller reports as a diagnostic).
        var failures = new System.Collections.Concurrent.ConcurrentDictionary<int, System.Runtime.ExceptionServices.ExceptionDispatchInfo>();
        try
        {
            // Each job first gives its thread libtorch's configured thread count (TorchRuntime.UseOnThisThread): without
            // it, a pool thread computes with every core, and some products come out with other last bits.
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, (i, state) =>
            {
                try
                {
                    Native.TorchRuntime.UseOnThisThread();
                    job(i);
                }
                catch (Exception ex)
                {
                    failures[i] = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex);
                    state.Stop();
                }
            });
        }
        catch (OperationCanceledException) when (failures.IsEmpty)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            // Cancelled while a job had already failed: its failure says more than the cancellation.
        }

        if (!failures.IsEmpty)
        {
            failures[failures.Keys.Min()].Throw();
        }
    }
}
