namespace FisherUnlearn.Engine.Training;

/// <summary>What one training run did.</summary>
/// <param name="Epochs">Epochs run (0 for <c>merge</c>, which does not train).</param>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="Samples">Training samples of the model's own data, after any <see cref="DataFilter"/>.</param>
/// <param name="FinalLoss">Mean training loss over the last epoch's batches, or null when nothing was trained.</param>
/// <param name="Seconds">Wall-clock time of the whole run (data, initialisation and training).</param>
public sealed record TrainingStats(int Epochs, long Steps, long Samples, double? FinalLoss, double Seconds);
