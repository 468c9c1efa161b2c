package fedlake.core.strategy;

import fedlake.core.model.Models;
import fedlake.core.numeric.ExactSum;
import fedlake.schema.Model;

/**
 * The fold of the FedAvg family: exact sums of {@code numExamples * parameters} and of {@code
 * numExamples * controlDelta}, so that the mean does not depend on order or partitioning. Memory:
 * 32 bytes a parameter.
 */
public final class WeightedMean implements Fold {
  private static final long serialVersionUID = 1L;
  private final ExactSum parameters;
  private ExactSum
      controlDeltas; // null until an update carries one: folds travel between tasks, keep them
  // small
  private long totalWeight;
  private long weightedSteps;
  private int count;
  private boolean anyControlDelta;

  public WeightedMean(Model base) {
    int size = Models.parameterCount(base);
    parameters = new ExactSum(size);
  }

  @Override
  public void add(UpdateParameters update) {
    long weight = update.numExamples();
    parameters.addAll(update.parameters(), weight);
    if (update.controlDelta().length > 0) {
      if (controlDeltas == null) {
        controlDeltas = new ExactSum(parameters.size());
      }
      controlDeltas.addAll(update.controlDelta(), weight);
      anyControlDelta = true;
    }
    totalWeight += weight;
    weightedSteps += weight * update.localSteps();
    count++;
  }

  @Override
  public Fold merge(Fold other) {
    WeightedMean that = (WeightedMean) other;
    parameters.merge(that.parameters);
    if (that.controlDeltas != null) {
      if (controlDeltas == null) {
        controlDeltas = new ExactSum(parameters.size());
      }
      controlDeltas.merge(that.controlDeltas);
    }
    totalWeight += that.totalWeight;
    weightedSteps += that.weightedSteps;
    count += that.count;
    anyControlDelta |= that.anyControlDelta;
    return this;
  }

  @Override
  public int count() {
    return count;
  }

  public long totalWeight() {
    return totalWeight;
  }

  /** Example-weighted mean of the sites' local steps. */
  public double meanSteps() {
    return (double) weightedSteps / totalWeight;
  }

  /** The weighted mean of the parameters, rounded once to float. */
  public float[] mean() {
    return parameters.mean(totalWeight);
  }

  /**
   * The weighted mean of the sites' parameters minus the base's, in double: the pseudo-gradient's
   * negative.
   */
  public double[] meanDelta(float[] base) {
    double[] delta = new double[base.length];
    for (int i = 0; i < delta.length; i++) {
      delta[i] = parameters.get(i) / totalWeight - base[i];
    }
    return delta;
  }

  /** The weighted mean of the control deltas (zeros when no update carried one). */
  public double[] meanControlDelta() {
    double[] mean = new double[parameters.size()];
    if (anyControlDelta) {
      for (int i = 0; i < mean.length; i++) {
        mean[i] = controlDeltas.get(i) / totalWeight;
      }
    }
    return mean;
  }
}
