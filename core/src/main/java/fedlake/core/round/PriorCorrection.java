package fedlake.core.round;

import java.io.Serializable;
import java.util.Locale;

/**
 * The server's prior correction for sites that train without labels (docs/unlabeled.md): the sum,
 * over the round's accepted updates that report one, of the predicted class probabilities under the
 * model the sites received, and the rows it covers. Its mean {@code pbar} is the federation's mean
 * prediction on its unlabeled rows, which no single site sees under a skewed label split; the
 * correction moves the published head's biases by {@code -d (log(C pbar_c) - mean_c log(C
 * pbar_c))}, the damped fixed-point step of "the mean prediction is uniform". Partial sums of scan
 * tasks merge.
 */
public final class PriorCorrection implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * {@code C pbar_c} is floored here before its log: a class no row predicts (a float sum that
   * underflowed) moves its bias by at most {@code d log(1e3)} in one round.
   */
  static final double FLOOR = 1e-3;

  private final double[] sum;
  private long rows;
  private int updates;

  public PriorCorrection(int classes) {
    this.sum = new double[classes];
  }

  /**
   * Why {@code predictionSum} over {@code rows} rows cannot be a site's sum of class probabilities
   * for a model of {@code classes} classes, or null when it can: one value a class, each finite and
   * in [0, rows], adding up to {@code rows} (to float precision).
   */
  public static String problem(float[] predictionSum, Long rows, int classes) {
    if (rows == null) {
      return "predictionSum needs predictionRows";
    }
    if (rows <= 0) {
      return "predictionRows is " + rows + ", not a positive row count";
    }
    if (predictionSum.length != classes) {
      return "predictionSum holds "
          + predictionSum.length
          + " values, the model has "
          + classes
          + " classes";
    }
    double total = 0;
    for (int c = 0; c < classes; c++) {
      float v = predictionSum[c];
      if (!Float.isFinite(v) || v < 0 || v > rows * (1 + 1e-4)) {
        return "predictionSum[" + c + "] is " + v + ", outside [0, predictionRows = " + rows + "]";
      }
      total += v;
    }
    if (Math.abs(total - rows) > 1e-3 * rows + 1e-2) {
      return String.format(
          Locale.ROOT,
          "predictionSum adds up to %.4f, not predictionRows = %d (each row's probabilities add"
              + " up to 1)",
          total,
          rows);
    }
    return null;
  }

  /** Adds one update's checked sum. */
  public void add(float[] predictionSum, long predictionRows) {
    for (int c = 0; c < sum.length; c++) {
      sum[c] += predictionSum[c];
    }
    rows += predictionRows;
    updates++;
  }

  /** Adds {@code other} into this one; returns this. */
  public PriorCorrection merge(PriorCorrection other) {
    if (other.sum.length != sum.length) {
      throw new IllegalArgumentException(
          "prior sums of " + sum.length + " and " + other.sum.length + " classes");
    }
    for (int c = 0; c < sum.length; c++) {
      sum[c] += other.sum[c];
    }
    rows += other.rows;
    updates += other.updates;
    return this;
  }

  public long rows() {
    return rows;
  }

  public int updates() {
    return updates;
  }

  /** {@code C pbar_c}: 1 for every class when the mean prediction is uniform. */
  public double[] relativeMeanPrediction() {
    double[] out = new double[sum.length];
    for (int c = 0; c < sum.length; c++) {
      out[c] = rows == 0 ? 1 : sum.length * sum[c] / rows;
    }
    return out;
  }

  /**
   * The bias change of damping {@code d}: {@code -d (log max(C pbar_c, FLOOR) - mean_c log max(C
   * pbar_c, FLOOR))}. Centred (it adds up to 0), which leaves every softmax shift-free.
   */
  public double[] step(double damping) {
    double[] relative = relativeMeanPrediction();
    double[] step = new double[relative.length];
    double mean = 0;
    for (int c = 0; c < relative.length; c++) {
      step[c] = Math.log(Math.max(relative[c], FLOOR));
      mean += step[c];
    }
    mean /= relative.length;
    for (int c = 0; c < relative.length; c++) {
      step[c] = -damping * (step[c] - mean);
    }
    return step;
  }

  /**
   * Adds {@link #step} to the {@code C} biases of {@code parameters} starting at {@code biasAt};
   * returns the largest absolute change made.
   */
  public double apply(float[] parameters, int biasAt, double damping) {
    double[] step = step(damping);
    double largest = 0;
    for (int c = 0; c < step.length; c++) {
      float before = parameters[biasAt + c];
      parameters[biasAt + c] = (float) (before + step[c]);
      largest = Math.max(largest, Math.abs(parameters[biasAt + c] - before));
    }
    return largest;
  }

  /**
   * What a correction did, for the round history.
   *
   * @param largestChange the largest absolute change of a bias
   * @param rows the unlabeled rows whose mean prediction it used
   * @param meanPredictionMax {@code C} times the largest class share of the mean prediction before
   *     it (1: uniform)
   */
  public record Applied(double largestChange, long rows, double meanPredictionMax)
      implements Serializable {}

  /** {@link #apply} with what it did. */
  public Applied applyTo(float[] parameters, int biasAt, double damping) {
    return new Applied(apply(parameters, biasAt, damping), rows, largestRelative());
  }

  /** C times the largest class share of the mean prediction (1 when uniform). */
  public double largestRelative() {
    double largest = 0;
    for (double v : relativeMeanPrediction()) {
      largest = Math.max(largest, v);
    }
    return largest;
  }
}
