package fedlake.core.cluster;

import java.io.Serializable;

/**
 * A fixed random projection of vectors of any length to {@code dimension} values (Achlioptas'
 * database-friendly Johnson-Lindenstrauss transform): entry (k, i) is +1 or -1, read from bit k of
 * a SplitMix64 hash of (seed, i, k / 64), and the result is scaled by 1 / sqrt(dimension). Nothing
 * is stored, so the projection of a million-parameter update costs no memory, and the same seed
 * gives the same matrix on every machine. Inner products and distances are preserved in
 * expectation.
 */
public final class RandomProjection implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final int DIMENSION_DEFAULT = 128;
  public static final long SEED_DEFAULT = 0x5EEDF00DL;

  private final int dimension;
  private final long seed;

  public RandomProjection(int dimension, long seed) {
    if (dimension < 1 || dimension > 4096) {
      throw new IllegalArgumentException(
          "projection dimension must be in 1..4096, got " + dimension);
    }
    this.dimension = dimension;
    this.seed = seed;
  }

  public int dimension() {
    return dimension;
  }

  public long seed() {
    return seed;
  }

  /** Projects {@code input}; the output has {@link #dimension()} values. */
  public double[] project(double[] input) {
    double[] out = new double[dimension];
    int blocks = (dimension + 63) / 64;
    for (int i = 0; i < input.length; i++) {
      double x = input[i];
      if (x == 0) {
        continue;
      }
      for (int b = 0; b < blocks; b++) {
        long bits = mix(seed + 0x9E3779B97F4A7C15L * ((long) i * blocks + b + 1));
        int end = Math.min(64, dimension - b * 64);
        int offset = b * 64;
        for (int k = 0; k < end; k++) {
          out[offset + k] += ((bits >>> k) & 1L) == 0 ? x : -x;
        }
      }
    }
    double scale = 1 / Math.sqrt(dimension);
    for (int k = 0; k < dimension; k++) {
      out[k] *= scale;
    }
    return out;
  }

  /** SplitMix64's finaliser: a bijective mix of 64 bits. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * Scales {@code values} to unit L2 norm in place; returns the norm before (0 leaves them
   * unchanged).
   */
  public static double normalise(double[] values) {
    double squares = 0;
    for (double v : values) {
      squares += v * v;
    }
    double norm = Math.sqrt(squares);
    if (norm > 0) {
      for (int i = 0; i < values.length; i++) {
        values[i] /= norm;
      }
    }
    return norm;
  }
}
