package fedlake.core.synth;

import java.util.SplittableRandom;

/**
 * Random streams of synthetic data. Class {@code c} of a table with seed {@code s} always draws
 * from the stream {@link #forClass(long, int) forClass(s, c)}, whoever generates it and in whatever
 * order or partition, so a table is reproducible from its seed.
 */
public final class Seeds {
  private Seeds() {}

  /** The random stream of class {@code classId} under table seed {@code seed}. */
  public static SplittableRandom forClass(long seed, int classId) {
    return new SplittableRandom(mix(mix(seed) + 0x9E3779B97F4A7C15L * (classId + 1L)));
  }

  /** A standard normal draw (Box-Muller, one value per two uniforms). */
  public static double gaussian(SplittableRandom random) {
    double u1 = random.nextDouble();
    double u2 = random.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Advances {@code random} exactly as {@link #gaussian} does, without computing the value: the
   * draws after it are the same as if it had been computed.
   */
  static void skipGaussian(SplittableRandom random) {
    random.nextDouble();
    random.nextDouble();
  }

  /** The finaliser of SplitMix64: a bijection that scatters nearby seeds. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** L2-normalises the {@code rows x dimension} row-major matrix in place; zero rows stay zero. */
  static void normaliseRows(float[] values, int dimension) {
    for (int offset = 0; offset < values.length; offset += dimension) {
      double squares = 0;
      for (int j = 0; j < dimension; j++) {
        squares += (double) values[offset + j] * values[offset + j];
      }
      if (squares > 0) {
        double scale = 1 / Math.sqrt(squares);
        for (int j = 0; j < dimension; j++) {
          values[offset + j] = (float) (values[offset + j] * scale);
        }
      }
    }
  }
}
