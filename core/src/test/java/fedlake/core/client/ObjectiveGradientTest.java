package fedlake.core.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Dataset;
import fedlake.core.model.CacheModel;
import fedlake.core.model.Head;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The objectives' gradients against central differences of an independent double-precision loss, on
 * small random problems whose sizes exercise the kernels' block remainders (7 rows, dimension 6 and
 * 9).
 */
class ObjectiveGradientTest {
  private static final double STEP = 1e-5;

  /** Random labelled rows (normalised by Dataset) with labels in [0, labelBound). */
  private static Dataset rows(SplittableRandom random, int n, int dimension, int labelBound) {
    float[] x = new float[n * dimension];
    int[] labels = new int[n];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    for (int r = 0; r < n; r++) {
      labels[r] = random.nextInt(labelBound);
    }
    return Dataset.of("random", x, labels, dimension);
  }

  private static float[] randomVector(SplittableRandom random, int n, double scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (random.nextGaussian() * scale);
    }
    return v;
  }

  /**
   * Mean cross-entropy of a head or cache model (stored layout, in double), with an optional logit
   * adjustment.
   */
  private static double referenceLoss(
      double[] p,
      Dataset data,
      int dimension,
      int classes,
      double scale,
      int[] keyLabels,
      double alpha,
      double beta,
      double[] adjustment) {
    int keyOffset = classes * dimension + classes;
    double total = 0;
    for (int r = 0; r < data.size(); r++) {
      double[] z = new double[classes];
      for (int c = 0; c < classes; c++) {
        double dot = 0;
        for (int j = 0; j < dimension; j++) {
          dot += p[c * dimension + j] * data.features()[r * dimension + j];
        }
        z[c] = scale * dot + p[classes * dimension + c] + (adjustment == null ? 0 : adjustment[c]);
      }
      for (int k = 0; k < keyLabels.length; k++) {
        double dot = 0;
        double norm = 0;
        for (int j = 0; j < dimension; j++) {
          double key = p[keyOffset + k * dimension + j];
          dot += key * data.features()[r * dimension + j];
          norm += key * key;
        }
        z[keyLabels[k]] += alpha * Math.exp(-beta * (1 - dot / Math.sqrt(norm)));
      }
      double max = Double.NEGATIVE_INFINITY;
      for (double v : z) {
        max = Math.max(max, v);
      }
      double sum = 0;
      for (double v : z) {
        sum += Math.exp(v - max);
      }
      total += Math.log(sum) + max - z[data.label(r)];
    }
    return total / data.size();
  }

  /**
   * Asserts the objective's loss and gradient (of parameters [from, n)) against the reference on
   * {@code data}.
   */
  private static void check(
      String name,
      Objective objective,
      float[] stored,
      Dataset data,
      int dimension,
      int classes,
      double scale,
      int[] keyLabels,
      double alpha,
      double beta,
      double[] adjustment,
      int from) {
    Batch batch =
        new Batch(data.size(), dimension)
            .fill(data, LocalTraining.identity(data.size()), 0, data.size());
    float[] gradient = new float[objective.parameterCount()];
    double loss = objective.lossAndGradient(objective.pack(stored), batch, gradient);
    float[] analytic = objective.unpack(gradient);
    double[] p = new double[stored.length];
    for (int i = 0; i < p.length; i++) {
      p[i] = stored[i];
    }
    double expectedLoss =
        referenceLoss(p, data, dimension, classes, scale, keyLabels, alpha, beta, adjustment);
    assertEquals(
        expectedLoss, loss / data.size(), 1e-5 * Math.max(1, expectedLoss), name + ": mean loss");
    double errorSquares = 0;
    double normSquares = 0;
    double worst = 0;
    int worstAt = -1;
    for (int i = from; i < p.length; i++) {
      double keep = p[i];
      p[i] = keep + STEP;
      double up =
          referenceLoss(p, data, dimension, classes, scale, keyLabels, alpha, beta, adjustment);
      p[i] = keep - STEP;
      double down =
          referenceLoss(p, data, dimension, classes, scale, keyLabels, alpha, beta, adjustment);
      p[i] = keep;
      double numeric = (up - down) / (2 * STEP);
      double error = Math.abs(analytic[i] - numeric);
      errorSquares += error * error;
      normSquares += numeric * numeric;
      if (error > worst) {
        worst = error;
        worstAt = i;
      }
    }
    double relative = Math.sqrt(errorSquares / normSquares);
    String figures =
        String.format(
            "%s: relative error %.3g over %d parameters (gradient norm %.4g), worst |analytic - numeric| %.3g at %d",
            name, relative, p.length - from, Math.sqrt(normSquares), worst, worstAt);
    assertTrue(normSquares > 1e-6, "gradient too small to test: " + figures);
    assertTrue(relative < 1e-4, figures);
    for (int i = 0; i < from; i++) {
      assertEquals(0f, analytic[i], "untrained parameter " + i + " has a gradient: " + figures);
    }
  }

  @Test
  void headGradientMatchesCentralDifferences() {
    SplittableRandom random = new SplittableRandom(3);
    for (int dimension : new int[] {6, 9}) {
      int classes = 5;
      Dataset data = rows(random, 7, dimension, classes);
      float[] stored = randomVector(random, classes * dimension + classes, 0.3);
      Head shape = Head.zeros(dimension, classes, 10f);
      check(
          "head d=" + dimension,
          HeadObjective.of(shape, data, false),
          stored,
          data,
          dimension,
          classes,
          10,
          new int[0],
          0,
          0,
          null,
          0);
    }
  }

  @Test
  void balancedHeadGradientMatchesCentralDifferences() {
    SplittableRandom random = new SplittableRandom(4);
    int dimension = 6;
    int classes = 6;
    Dataset data = rows(random, 7, dimension, 4); // classes 4 and 5 absent: they take no gradient
    float[] stored = randomVector(random, classes * dimension + classes, 0.3);
    HeadObjective objective = HeadObjective.of(Head.zeros(dimension, classes, 10f), data, true);
    double[] prior = HeadObjective.logPrior(data, classes);
    check(
        "balanced head",
        objective,
        stored,
        data,
        dimension,
        classes,
        10,
        new int[0],
        0,
        0,
        prior,
        0);
  }

  @Test
  void cacheKeyGradientMatchesCentralDifferences() {
    SplittableRandom random = new SplittableRandom(5);
    int dimension = 9;
    int classes = 4;
    int[] keyLabels = {0, 0, 1, 2, 3, 3, 1};
    Dataset data = rows(random, 7, dimension, classes);
    float[] stored =
        randomVector(random, classes * dimension + classes + keyLabels.length * dimension, 0.3);
    CacheModel shape =
        new CacheModel(
            Head.zeros(dimension, classes, 10f),
            new float[keyLabels.length * dimension],
            keyLabels,
            2f,
            5.5f);
    int keyOffset = classes * dimension + classes;
    check(
        "cache keys",
        CacheObjective.of(shape, data, false, false),
        stored,
        data,
        dimension,
        classes,
        10,
        keyLabels,
        2,
        5.5,
        null,
        keyOffset);
    check(
        "cache keys and head, balanced",
        CacheObjective.of(shape, data, true, true),
        stored,
        data,
        dimension,
        classes,
        10,
        keyLabels,
        2,
        5.5,
        HeadObjective.logPrior(data, classes),
        0);
  }

  @Test
  void packAndUnpackAreInverse() {
    SplittableRandom random = new SplittableRandom(6);
    int[] keyLabels = {0, 1, 1};
    CacheModel shape = new CacheModel(Head.zeros(5, 2, 10f), new float[15], keyLabels, 1f, 5f);
    CacheObjective cache = new CacheObjective(shape, false, null);
    float[] stored = randomVector(random, cache.parameterCount(), 1);
    float[] working = cache.pack(stored);
    org.junit.jupiter.api.Assertions.assertArrayEquals(stored, cache.unpack(working), 0f);
    // the head's weights are transposed: stored W[c][j] (c * 5 + j) is working W^T[j][c] (j * 2 +
    // c)
    assertEquals(stored[1 * 5 + 3], working[3 * 2 + 1], 0f);
    // the keys too: stored K[k][j] (offset 12 + k * 5 + j) is working K^T[j][k] (12 + j * 3 + k)
    assertEquals(stored[12 + 2 * 5 + 4], working[12 + 4 * 3 + 2], 0f);
  }
}
