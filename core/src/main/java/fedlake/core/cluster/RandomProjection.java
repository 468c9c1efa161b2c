package fedlake.core.cluster;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;

/**
 * A fixed random projection of vectors of any length to {@code dimension} values (Achlioptas'
 * database-friendly Johnson-Lindenstrauss transform): entry (k, i) is +1 or -1, read from bit k of
 * a SplitMix64 hash of (seed, i, k / 64), and the result is scaled by 1 / sqrt(dimension). The same
 * seed gives the same matrix on every machine. For inputs up to {@link #MAX_CACHED_ENTRIES} entries
 * the matrix is kept as floats after the first projection (32 MB at most), so projecting many
 * updates of one model is a multiply-add a value; longer inputs are projected without storing
 * anything, so a million-parameter update costs no memory. Inner products and distances are
 * preserved in expectation.
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

  /** Most sign-matrix entries kept in memory (4 bytes each): inputs up to 65,536 x 128. */
  static final long MAX_CACHED_ENTRIES = 1L << 23;

  // input length -> sign matrix, entry (k, i) at i * dimension + k; a profile projects inputs of
  // two or three lengths (the parameters, the embedding dimension), each matrix made once
  private transient Map<Integer, float[]> signs;
  private transient long cachedEntries;

  /** Projects {@code input}; the output has {@link #dimension()} values. */
  public double[] project(double[] input) {
    float[] matrix = signs(input.length);
    double[] out = matrix != null ? projectCached(input, matrix) : projectStreamed(input);
    double scale = 1 / Math.sqrt(dimension);
    for (int k = 0; k < dimension; k++) {
      out[k] *= scale;
    }
    return out;
  }

  /**
   * The sign matrix for inputs of {@code length}, made once per instance (a profiles task projects
   * many updates of one model), or null when it would not fit under {@link #MAX_CACHED_ENTRIES}.
   * Multiplying by a sign is exact, so the cached and the streamed projection add the same terms in
   * the same order: their results are identical.
   */
  private synchronized float[] signs(int length) {
    if (signs == null) {
      signs = new HashMap<>();
    }
    float[] matrix = signs.get(length);
    long entries = (long) length * dimension;
    if (matrix != null || cachedEntries + entries > MAX_CACHED_ENTRIES) {
      return matrix;
    }
    matrix = new float[(int) entries];
    int blocks = (dimension + 63) / 64;
    for (int i = 0; i < length; i++) {
      for (int b = 0; b < blocks; b++) {
        long bits = bits(i, b, blocks);
        int end = Math.min(64, dimension - b * 64);
        int at = i * dimension + b * 64;
        for (int k = 0; k < end; k++) {
          matrix[at + k] = 1 - 2 * (int) ((bits >>> k) & 1L);
        }
      }
    }
    signs.put(length, matrix);
    cachedEntries += entries;
    return matrix;
  }

  private double[] projectCached(double[] input, float[] matrix) {
    double[] out = new double[dimension];
    for (int i = 0; i < input.length; i++) {
      double x = input[i];
      if (x == 0) {
        continue;
      }
      int at = i * dimension;
      for (int k = 0; k < dimension; k++) {
        out[k] += matrix[at + k] * x;
      }
    }
    return out;
  }

  /** Without a stored matrix (inputs too long to cache): each entry from its hash. */
  double[] projectStreamed(double[] input) {
    double[] out = new double[dimension];
    int blocks = (dimension + 63) / 64;
    for (int i = 0; i < input.length; i++) {
      double x = input[i];
      if (x == 0) {
        continue;
      }
      for (int b = 0; b < blocks; b++) {
        long bits = bits(i, b, blocks);
        int end = Math.min(64, dimension - b * 64);
        int offset = b * 64;
        for (int k = 0; k < end; k++) {
          out[offset + k] += ((bits >>> k) & 1L) == 0 ? x : -x;
        }
      }
    }
    return out;
  }

  /** Signs of entries (64 b .. 64 b + 63, i): bit k set means -1. */
  private long bits(int i, int b, int blocks) {
    return mix(seed + 0x9E3779B97F4A7C15L * ((long) i * blocks + b + 1));
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
