package fedlake.core.synth;

import java.util.SplittableRandom;

/**
 * Draws embeddings of one class from the Gaussian of its (pooled) statistics, then projects them
 * onto the unit sphere like encoder embeddings. With a full covariance {@code S} a draw is {@code
 * mean + L z} with {@code L L^T = S}, {@code z} standard normal; a class seen by fewer examples
 * than dimensions has a singular {@code S}, which the semi-definite Cholesky factor handles
 * (directions without spread get none). With the diagonal only, {@code mean + sqrt(var) * z}.
 */
public final class ClassGaussian {
  /** Rows drawn together: they share every load of the factor and add in independent chains. */
  private static final int BLOCK = 8;

  private final int dimension;
  private final long count;
  private final double[] mean;
  private final double[] deviation;

  /**
   * Lower triangle of {@code L}, packed row by row: row i holds {@code L[i][0..i]} from {@code i (i
   * + 1) / 2}.
   */
  private final double[] factor;

  /**
   * Columns of the factor with a positive pivot, ascending; the others are zero (rank-deficient
   * directions).
   */
  private final int[] columns;

  /**
   * @param shrinkage weight in [0, 1] that moves the covariance toward its diagonal: {@code (1 -
   *     shrinkage) S + shrinkage diag(S)}; ignored without a full covariance
   */
  public ClassGaussian(ClassMoments moments, double shrinkage) {
    if (!(shrinkage >= 0 && shrinkage <= 1)) {
      throw new IllegalArgumentException("shrinkage must be in [0, 1], got " + shrinkage);
    }
    this.dimension = moments.dimension();
    this.count = moments.count();
    this.mean = moments.mean().clone();
    if (moments.covariance() != null) {
      double[] s = moments.covariance();
      if (shrinkage > 0) {
        s = s.clone();
        for (int i = 0; i < dimension; i++) {
          for (int j = 0; j < dimension; j++) {
            if (i != j) {
              s[i * dimension + j] *= 1 - shrinkage;
            }
          }
        }
      }
      this.factor = cholesky(s, dimension);
      this.deviation = null;
      this.columns = columns(factor, dimension);
    } else {
      this.factor = null;
      this.columns = null;
      this.deviation = new double[dimension];
      for (int j = 0; j < dimension; j++) {
        deviation[j] = Math.sqrt(Math.max(0, moments.variance()[j]));
      }
    }
  }

  public ClassGaussian(ClassMoments moments) {
    this(moments, 0);
  }

  /**
   * A factored Gaussian read back (the calibration cache): exactly one of {@code deviation} and
   * {@code factor} (packed).
   */
  ClassGaussian(long count, double[] mean, double[] deviation, double[] factor) {
    if ((deviation == null) == (factor == null)) {
      throw new IllegalArgumentException("a class Gaussian has a deviation or a factor");
    }
    int d = mean.length;
    if (deviation != null ? deviation.length != d : factor.length != (long) d * (d + 1) / 2) {
      throw new IllegalArgumentException("spread does not fit dimension " + d);
    }
    this.dimension = d;
    this.count = count;
    this.mean = mean;
    this.deviation = deviation;
    this.factor = factor;
    this.columns = factor == null ? null : columns(factor, d);
  }

  /** The columns whose diagonal entry is not zero (a zero pivot leaves the whole column zero). */
  private static int[] columns(double[] factor, int d) {
    int[] all = new int[d];
    int n = 0;
    for (int j = 0; j < d; j++) {
      if (factor[j * (j + 1) / 2 + j] != 0) {
        all[n++] = j;
      }
    }
    return java.util.Arrays.copyOf(all, n);
  }

  public int dimension() {
    return dimension;
  }

  /** Number of examples behind the statistics. */
  public long count() {
    return count;
  }

  /** Whether draws use the full covariance (a Cholesky factor) rather than the diagonal. */
  public boolean hasFactor() {
    return factor != null;
  }

  /** The mean; do not modify. */
  double[] mean() {
    return mean;
  }

  /** Per-dimension deviations (diagonal only) or null; do not modify. */
  double[] deviation() {
    return deviation;
  }

  /** The packed lower-triangular factor or null; do not modify. */
  double[] factor() {
    return factor;
  }

  /**
   * {@code count} unit-length draws, row-major {@code count x dimension}. The standard normals are
   * drawn row by row; row r is {@code mean + L z_r}, each coordinate summed in column order over
   * the columns of {@code L} that are not zero (a class pooled from n examples has rank below n, so
   * at d = 512 most columns are zero), so the rows do not depend on how many are drawn together.
   * The normals of the zero columns are stepped over in the stream rather than computed.
   */
  public float[] sample(int count, SplittableRandom random) {
    int d = dimension;
    double[] z = new double[count * d];
    if (factor == null) {
      for (int k = 0; k < z.length; k++) {
        z[k] = Seeds.gaussian(random);
      }
    } else {
      // only the normals of the factor's non-zero columns are read: the others are skipped in the
      // stream (the logarithm and cosine are most of a draw's cost; a class pooled from n examples
      // has fewer than n such columns), so every row is the same as when all are computed
      boolean[] used = new boolean[d];
      for (int j : columns) {
        used[j] = true;
      }
      for (int offset = 0; offset < z.length; offset += d) {
        for (int j = 0; j < d; j++) {
          if (used[j]) {
            z[offset + j] = Seeds.gaussian(random);
          } else {
            Seeds.skipGaussian(random);
          }
        }
      }
    }
    float[] rows = new float[count * d];
    if (factor == null) {
      for (int r = 0; r < count; r++) {
        int offset = r * d;
        for (int i = 0; i < d; i++) {
          rows[offset + i] = (float) (mean[i] + deviation[i] * z[offset + i]);
        }
      }
    } else {
      int r = 0;
      for (; r + BLOCK <= count; r += BLOCK) {
        block(z, rows, r);
      }
      for (; r < count; r++) {
        int offset = r * d;
        for (int i = 0; i < d; i++) {
          int row = i * (i + 1) / 2;
          double v = mean[i];
          for (int k = 0; k < columns.length && columns[k] <= i; k++) {
            int j = columns[k];
            v += factor[row + j] * z[offset + j];
          }
          rows[offset + i] = (float) v;
        }
      }
    }
    Seeds.normaliseRows(rows, d);
    return rows;
  }

  /** Rows {@code r .. r + 7}: eight independent sums over each row of the factor. */
  private void block(double[] z, float[] rows, int r) {
    int d = dimension;
    int o0 = r * d;
    int o1 = o0 + d;
    int o2 = o1 + d;
    int o3 = o2 + d;
    int o4 = o3 + d;
    int o5 = o4 + d;
    int o6 = o5 + d;
    int o7 = o6 + d;
    for (int i = 0; i < d; i++) {
      int row = i * (i + 1) / 2;
      double m = mean[i];
      double a0 = m;
      double a1 = m;
      double a2 = m;
      double a3 = m;
      double a4 = m;
      double a5 = m;
      double a6 = m;
      double a7 = m;
      for (int k = 0; k < columns.length && columns[k] <= i; k++) {
        int j = columns[k];
        double f = factor[row + j];
        a0 += f * z[o0 + j];
        a1 += f * z[o1 + j];
        a2 += f * z[o2 + j];
        a3 += f * z[o3 + j];
        a4 += f * z[o4 + j];
        a5 += f * z[o5 + j];
        a6 += f * z[o6 + j];
        a7 += f * z[o7 + j];
      }
      rows[o0 + i] = (float) a0;
      rows[o1 + i] = (float) a1;
      rows[o2 + i] = (float) a2;
      rows[o3 + i] = (float) a3;
      rows[o4 + i] = (float) a4;
      rows[o5 + i] = (float) a5;
      rows[o6 + i] = (float) a6;
      rows[o7 + i] = (float) a7;
    }
  }

  /**
   * Lower-triangular {@code L} with {@code L L^T = S} for a symmetric positive semi-definite {@code
   * S} ({@code n x n}, row-major), packed row by row ({@code n (n + 1) / 2} values): a pivot that
   * is not clearly positive (rank deficiency, rounding) gives a zero column.
   */
  static double[] cholesky(double[] s, int n) {
    double[] l = new double[n * (n + 1) / 2];
    double largest = 0;
    for (int i = 0; i < n; i++) {
      largest = Math.max(largest, s[i * n + i]);
    }
    double tiny = largest * 1e-12;
    for (int j = 0; j < n; j++) {
      int rj = j * (j + 1) / 2;
      double pivot = s[j * n + j];
      for (int k = 0; k < j; k++) {
        pivot -= l[rj + k] * l[rj + k];
      }
      if (pivot <= tiny) {
        continue; // column j stays zero
      }
      double diagonal = Math.sqrt(pivot);
      l[rj + j] = diagonal;
      for (int i = j + 1; i < n; i++) {
        double v = s[i * n + j];
        int ri = i * (i + 1) / 2;
        for (int k = 0; k < j; k++) {
          v -= l[ri + k] * l[rj + k];
        }
        l[ri + j] = v / diagonal;
      }
    }
    return l;
  }
}
