package fedlake.core.model;

import fedlake.core.InvalidInputException;
import fedlake.core.data.Dataset;
import fedlake.core.data.Npy;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Round-0 material for a cache model without raw site rows: class-balanced synthetic keys drawn from
 * per-class statistics pooled over sites, and a zero-shot head from class text embeddings.
 *
 * <p>TODO(lead): the pooled-statistics sampler here is a stop-gap; replace {@link #syntheticKeys} by
 * the general sampler of {@code fedlake.core.synth} when it is merged (same inputs: per-class count,
 * mean and diagonal variance of each site, pooled; same output: a labelled data set of samples).
 */
public final class CacheBootstrap {
  /** Keys per class that {@code simulate --model cache} draws unless told otherwise. */
  public static final int SYNTHETIC_PER_CLASS_DEFAULT = 8;

  private CacheBootstrap() {}

  /**
   * {@code perClass} keys for every class seen at any site, drawn from the diagonal Gaussian of the
   * class's pooled statistics and L2-normalised. Each site contributes only its per-class count, mean
   * and per-dimension variance; pooling uses {@code var = sum n_s (var_s + mean_s^2) / n - mean^2}.
   * Classes no site has get no keys.
   */
  public static Dataset syntheticKeys(List<Dataset> sites, int classCount, int perClass, long seed) {
    if (perClass < 1) {
      throw new IllegalArgumentException("--synthetic-per-class must be at least 1, got " + perClass);
    }
    if (sites.isEmpty()) {
      throw new IllegalArgumentException("Cannot draw synthetic keys without sites");
    }
    int dimension = sites.get(0).dimension();
    long[] counts = new long[classCount];
    double[] sums = new double[classCount * dimension];
    double[] squares = new double[classCount * dimension];
    for (Dataset site : sites) {
      if (site.dimension() != dimension) {
        throw new InvalidInputException(site.source(), "rows have dimension " + site.dimension() + ", other sites have " + dimension);
      }
      // per-site statistics as a site would report them (count, mean, population variance), then pooled
      long[] n = new long[classCount];
      double[] mean = new double[classCount * dimension];
      double[] meanSquare = new double[classCount * dimension];
      float[] x = site.features();
      for (int row = 0; row < site.size(); row++) {
        int c = site.label(row);
        if (c < 0 || c >= classCount) {
          continue;
        }
        n[c]++;
        for (int j = 0; j < dimension; j++) {
          double v = x[row * dimension + j];
          mean[c * dimension + j] += v;
          meanSquare[c * dimension + j] += v * v;
        }
      }
      for (int c = 0; c < classCount; c++) {
        if (n[c] == 0) {
          continue;
        }
        counts[c] += n[c];
        for (int j = 0; j < dimension; j++) {
          int i = c * dimension + j;
          double m = mean[i] / n[c];
          double variance = Math.max(0, meanSquare[i] / n[c] - m * m);
          sums[i] += n[c] * m;
          squares[i] += n[c] * (variance + m * m);
        }
      }
    }
    int present = 0;
    for (long count : counts) {
      present += count > 0 ? 1 : 0;
    }
    if (present == 0) {
      throw new IllegalArgumentException("Cannot draw synthetic keys: no site has a labelled row below " + classCount);
    }
    float[] features = new float[present * perClass * dimension];
    int[] labels = new int[present * perClass];
    SplittableRandom random = new SplittableRandom(seed);
    int key = 0;
    for (int c = 0; c < classCount; c++) {
      if (counts[c] == 0) {
        continue;
      }
      for (int k = 0; k < perClass; k++, key++) {
        labels[key] = c;
        boolean zero = true;
        for (int j = 0; j < dimension; j++) {
          int i = c * dimension + j;
          double m = sums[i] / counts[c];
          double sd = Math.sqrt(Math.max(0, squares[i] / counts[c] - m * m));
          float v = (float) (m + sd * gaussian(random));
          features[key * dimension + j] = v;
          zero &= v == 0f;
        }
        if (zero) { // an all-zero draw cannot be normalised; put it on the first axis
          features[key * dimension] = 1f;
        }
      }
    }
    return Dataset.of("synthetic keys (" + perClass + " per class from pooled site statistics)", features, labels, dimension);
  }

  /**
   * A zero-shot head from a {@code classes x dimension} .npy file of class text embeddings (row c for
   * class c): weights are the L2-normalised rows, bias zero, so the logits are
   * {@code logitScale * cos(x, text_c)}.
   */
  public static Head textHead(java.nio.file.Path file, int classCount, int dimension, float logitScale) {
    Npy.Array array = Npy.read(file);
    if (array.shape().length != 2) {
      throw new InvalidInputException(file.toString(), "text embeddings must be a 2-dimensional array, found shape "
          + java.util.Arrays.toString(array.shape()));
    }
    if (array.rows() != classCount || array.columns() != dimension) {
      throw new InvalidInputException(file.toString(), "holds " + array.rows() + " x " + array.columns()
          + " text embeddings, the model needs " + classCount + " classes x " + dimension + " dimensions");
    }
    float[] values = new float[array.values().length];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) array.values()[i];
    }
    Dataset rows = Dataset.of(file.toString(), values, new int[classCount], dimension); // checks and normalises
    return new Head(dimension, classCount, logitScale, rows.features().clone(), new float[classCount]);
  }

  private static double gaussian(SplittableRandom random) {
    double u1 = random.nextDouble();
    double u2 = random.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
}
