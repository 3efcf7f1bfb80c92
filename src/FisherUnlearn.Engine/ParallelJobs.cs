namespace FisherUnlearn.Engine;

/// <summary>
/// Independent jobs (one per model) on up to <c>parallelism</c> threads of this process. Each job runs start to end on
/// one thread, as TorchSharp needs (dispose scopes and <c>no_grad</c> are per thread: docs/engine-notes.md), with
/// libtorch's configured thread count applied to that thread (<see cref="Native.TorchRuntime.UseOnThisThread"/>); with a
/// parallelism of 1 they run in order on the calling thread. Cancellation surfaces as
/// <see cref="OperationCanceledException"/> and a single job's exception as itself, as they would in order; several
/// jobs' exceptions as an <see cref="AggregateException"/>.
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

        try
        {
            // Each job first gives its thread libtorch's configured thread count (TorchRuntime.UseOnThisThread): without
            // it, a pool thread computes with every core, and some products come out with other last bits.
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, i =>
            {
                Native.TorchRuntime.UseOnThisThread();
                job(i);
            });
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OperationCanceledException))
        {
            throw new OperationCanceledException(ex.InnerExceptions[0].Message, ex, cancellationToken);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
        }
    }
}
