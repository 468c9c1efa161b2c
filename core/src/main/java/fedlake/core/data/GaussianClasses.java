package fedlake.core.data;

import java.util.SplittableRandom;

/**
 * Seeded demo and test data with known class structure: one random unit centre per class, examples
 * drawn as centre + isotropic Gaussian noise, then L2-normalised (like encoder embeddings).
 */
public final class GaussianClasses {
  private final int classes;
  private final int dimension;
  private final double noise;
  private final float[] centres;

  /**
   * @param noise standard deviation of the noise per coordinate, in units of 1/sqrt(dimension), so
   *     the noise norm is about {@code noise} times the centre norm
   */
  public GaussianClasses(int classes, int dimension, double noise, long seed) {
    this.classes = classes;
    this.dimension = dimension;
    this.noise = noise;
    this.centres = new float[classes * dimension];
    SplittableRandom random = new SplittableRandom(seed);
    for (int c = 0; c < classes; c++) {
      double norm = 0;
      for (int j = 0; j < dimension; j++) {
        double v = DirichletSplit.gaussian(random);
        centres[c * dimension + j] = (float) v;
        norm += v * v;
      }
      for (int j = 0; j < dimension; j++) {
        centres[c * dimension + j] /= (float) Math.sqrt(norm);
      }
    }
  }

  /** Class centres, row-major classes x dimension, unit length. */
  public float[] centres() {
    return centres.clone();
  }

  /** {@code perClass} examples of every class, classes interleaved, drawn with {@code seed}. */
  public Dataset sample(int perClass, long seed, String source) {
    SplittableRandom random = new SplittableRandom(seed);
    int n = perClass * classes;
    float[] features = new float[n * dimension];
    int[] labels = new int[n];
    double sigma = noise / Math.sqrt(dimension);
    for (int i = 0; i < n; i++) {
      int c = i % classes;
      labels[i] = c;
      for (int j = 0; j < dimension; j++) {
        features[i * dimension + j] =
            (float) (centres[c * dimension + j] + sigma * DirichletSplit.gaussian(random));
      }
    }
    return Dataset.of(source, features, labels, dimension);
  }
}
