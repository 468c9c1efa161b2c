package fedlake.core.data;

import java.util.SplittableRandom;

/**
 * Seeded demo and test data with known class structure: one random unit centre per class, examples
 * drawn as centre + isotropic Gaussian noise (+ optionally strong noise along a few shared nuisance
 * directions), then L2-normalised (like encoder embeddings).
 *
 * <p>Without nuisance the class means are the best classifier, found in one pass over the data.
 * Nuisance directions (style, lighting: variation every class shares) make the class means a poor
 * classifier; a head has to learn to look past them, which takes many steps.
 */
public final class GaussianClasses {
  private final int classes;
  private final int dimension;
  private final double noise;
  private final float[] centres;
  private final long seed;
  private float[] nuisance = new float[0];
  private double nuisanceScale;

  /**
   * @param noise standard deviation of the noise per coordinate, in units of 1/sqrt(dimension), so
   *     the noise norm is about {@code noise} times the centre norm
   */
  public GaussianClasses(int classes, int dimension, double noise, long seed) {
    this.classes = classes;
    this.dimension = dimension;
    this.noise = noise;
    this.centres = new float[classes * dimension];
    this.seed = seed;
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

  /**
   * Adds noise of standard deviation {@code scale} (in units of the centre norm) along each of
   * {@code directions} random unit directions shared by all classes; returns this.
   */
  public GaussianClasses nuisance(int directions, double scale) {
    if (directions < 0 || !(scale >= 0)) {
      throw new IllegalArgumentException(
          "nuisance needs directions >= 0 and scale >= 0, got " + directions + ", " + scale);
    }
    SplittableRandom random = new SplittableRandom(seed ^ 0x5DEECE66DL);
    nuisance = new float[directions * dimension];
    for (int k = 0; k < directions; k++) {
      double norm = 0;
      for (int j = 0; j < dimension; j++) {
        double v = DirichletSplit.gaussian(random);
        nuisance[k * dimension + j] = (float) v;
        norm += v * v;
      }
      for (int j = 0; j < dimension; j++) {
        nuisance[k * dimension + j] /= (float) Math.sqrt(norm);
      }
    }
    nuisanceScale = scale;
    return this;
  }

  public int classes() {
    return classes;
  }

  public int dimension() {
    return dimension;
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
      for (int k = 0; k < nuisance.length / dimension; k++) {
        double a = nuisanceScale * DirichletSplit.gaussian(random);
        for (int j = 0; j < dimension; j++) {
          features[i * dimension + j] += (float) (a * nuisance[k * dimension + j]);
        }
      }
    }
    return Dataset.of(source, features, labels, dimension);
  }
}
