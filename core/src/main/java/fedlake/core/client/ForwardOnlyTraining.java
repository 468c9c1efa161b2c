package fedlake.core.client;

import fedlake.core.data.Dataset;
import fedlake.core.train.LocalTrainer;
import java.util.ArrayList;
import java.util.List;
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
    float learningRate = (float) settings.learningRate();
    float epsilon = (float) settings.perturbation();
    float[] scalars = new float[settings.steps() * directions];
    List<float[]> packed = new ArrayList<>(directions);
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
      packed.clear();
      for (int d = 0; d < directions; d++) {
        Perturbations.fill(perturbationSeed, t, d, z);
        float[] zw = objective.pack(z);
        packed.add(zw);
        objective.forward(zw, 0, batch, along);
        shift(base, along, epsilon, shifted, batchSize, classes);
        double plus = loss(shifted, batch, classes, row, unused);
        shift(base, along, -epsilon, shifted, batchSize, classes);
        double minus = loss(shifted, batch, classes, row, unused);
        scalars[t * directions + d] = (float) ((plus - minus) / (2.0 * epsilon));
      }
      for (int d = 0; d < directions; d++) {
        SeededUpdate.apply(
            w,
            packed.get(d),
            SeededUpdate.coefficient(learningRate, scalars[t * directions + d], directions));
      }
    }
    double meanLoss = lossSum / settings.steps();
    progress.epoch(1, 1, meanLoss);
    return new Result(
        objective.unpack(w),
        new SeededUpdate(perturbationSeed, learningRate, directions, scalars),
        settings.steps(),
        meanLoss);
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
