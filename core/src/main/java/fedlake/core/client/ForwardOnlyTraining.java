package fedlake.core.client;

import fedlake.core.data.Dataset;
import fedlake.core.train.LocalTrainer;
import java.util.SplittableRandom;

/**
 * Forward-only local training of a head (two-point SPSA, {@link ForwardOnlySettings}): no gradient
 * is computed, only losses. Per step, on the next minibatch of a seeded shuffle: the logits at the
 * current parameters, then per direction {@code d} the change of the logits along the perturbation
 * {@code z_d} ({@link Perturbations}; a head's logits are linear in its parameters, so one product
 * gives both points), the mean losses {@code L+-} at {@code w +- eps z_d} and the scalar {@code g_d
 * = (L+ - L-) / (2 eps)}; then {@code w -= lr / D * g_d * z_d} for d in order ({@link
 * SeededUpdate#apply}). The scalars and the seed are the whole update: {@link SeededUpdate#replay}
 * rebuilds the trained parameters bit for bit.
 *
 * <p>With more {@link ForwardOnlySettings#candidates} than directions, a step measures the scalar
 * of every candidate {@code z_c} (c = 0 .. candidates-1) and applies only the {@code D} of largest
 * {@code |g_c|}, in increasing index order; the update then also carries their indices.
 *
 * <p>The plain loss only (no balanced loss, no weight decay, no momentum: none of them would
 * survive the trip as scalars).
 */
public final class ForwardOnlyTraining {
  private ForwardOnlyTraining() {}

  /**
   * @param parameters trained parameters, stored layout
   * @param update what the site uploads instead of them
   * @param meanLoss mean minibatch loss at the start of each step, over all steps
   */
  public record Result(float[] parameters, SeededUpdate update, int steps, double meanLoss) {}

  /**
   * Trains {@code start} (stored layout, not modified).
   *
   * @param dataSeed seed of the minibatch order (stays at the site)
   * @param perturbationSeed base seed of the perturbations (uploaded)
   */
  public static Result train(
      HeadObjective objective,
      float[] start,
      Dataset data,
      ForwardOnlySettings settings,
      long dataSeed,
      long perturbationSeed,
      LocalTrainer.Progress progress) {
    int n = data.size();
    if (n == 0) {
      throw new IllegalArgumentException("Forward-only training needs at least one row");
    }
    float[] w = objective.pack(start);
    int count = objective.parameterCount();
    int classes = count / (data.dimension() + 1);
    int batchSize = Math.min(settings.batchSize(), n);
    Batch batch = new Batch(batchSize, data.dimension());
    float[][] base = Kernels.rows(batchSize, classes);
    float[][] along = Kernels.rows(batchSize, classes);
    float[][] shifted = Kernels.rows(batchSize, classes);
    float[][] unused = Kernels.rows(batchSize, classes);
    double[] row = new double[classes];
    float[] z = new float[count];
    int directions = settings.directions();
    int candidates = settings.candidates();
    float learningRate = (float) settings.learningRate();
    float epsilon = (float) settings.perturbation();
    float[] scalars = new float[settings.steps() * directions];
    byte[] indices = settings.chooses() ? new byte[scalars.length] : new byte[0];
    float[] measured = new float[candidates];
    int[] kept = new int[directions];
    int[] order = LocalTraining.identity(n);
    SplittableRandom random = new SplittableRandom(dataSeed);
    int cursor = n;
    double lossSum = 0;
    for (int t = 0; t < settings.steps(); t++) {
      if (cursor + batchSize > n) {
        LocalTraining.shuffle(order, random);
        cursor = 0;
      }
      batch.fill(data, order, cursor, batchSize);
      cursor += batchSize;
      objective.forward(w, 0, batch, base);
      lossSum += loss(base, batch, classes, row, unused);
      for (int c = 0; c < candidates; c++) {
        Perturbations.fill(perturbationSeed, t, c, z);
        objective.forward(objective.pack(z), 0, batch, along);
        shift(base, along, epsilon, shifted, batchSize, classes);
        double plus = loss(shifted, batch, classes, row, unused);
        shift(base, along, -epsilon, shifted, batchSize, classes);
        double minus = loss(shifted, batch, classes, row, unused);
        measured[c] = (float) ((plus - minus) / (2.0 * epsilon));
      }
      if (settings.chooses()) {
        largest(measured, kept);
      } else {
        for (int d = 0; d < directions; d++) {
          kept[d] = d;
        }
      }
      for (int j = 0; j < directions; j++) {
        scalars[t * directions + j] = measured[kept[j]];
        if (settings.chooses()) {
          indices[t * directions + j] = (byte) kept[j];
        }
      }
      for (int j = 0; j < directions; j++) {
        Perturbations.fill(perturbationSeed, t, kept[j], z);
        SeededUpdate.apply(
            w,
            objective.pack(z),
            SeededUpdate.coefficient(learningRate, scalars[t * directions + j], directions));
      }
    }
    double meanLoss = lossSum / settings.steps();
    progress.epoch(1, 1, meanLoss);
    return new Result(
        objective.unpack(w),
        new SeededUpdate(perturbationSeed, learningRate, directions, scalars, indices),
        settings.steps(),
        meanLoss);
  }

  /**
   * Fills {@code kept} with the indices of the {@code kept.length} entries of {@code measured} of
   * largest absolute value, in increasing index order; of equal absolute values the lower index
   * wins (a NaN counts as the largest, so that a broken step shows in the parameters).
   */
  static void largest(float[] measured, int[] kept) {
    Integer[] byRank = new Integer[measured.length];
    for (int c = 0; c < measured.length; c++) {
      byRank[c] = c;
    }
    java.util.Arrays.sort(
        byRank,
        (a, b) -> {
          int order = Float.compare(Math.abs(measured[b]), Math.abs(measured[a]));
          return order != 0 ? order : Integer.compare(a, b);
        });
    for (int j = 0; j < kept.length; j++) {
      kept[j] = byRank[j];
    }
    java.util.Arrays.sort(kept);
  }

  /** {@code out = base + epsilon * along}. */
  private static void shift(
      float[][] base, float[][] along, float epsilon, float[][] out, int rows, int classes) {
    for (int r = 0; r < rows; r++) {
      float[] b = base[r];
      float[] a = along[r];
      float[] o = out[r];
      for (int c = 0; c < classes; c++) {
        o[c] = b[c] + epsilon * a[c];
      }
    }
  }

  /** Mean cross-entropy of the batch's rows at {@code logits}. */
  private static double loss(
      float[][] logits, Batch batch, int classes, double[] row, float[][] unused) {
    int rows = batch.count();
    return Kernels.softmaxCrossEntropy(logits, rows, classes, null, batch.labels(), 1f, row, unused)
        / rows;
  }
}
