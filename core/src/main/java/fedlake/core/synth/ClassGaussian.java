package fedlake.core.synth;

import java.util.SplittableRandom;

/**
 * Draws embeddings of one class from the Gaussian of its (pooled) statistics, then projects them
 * onto the unit sphere like encoder embeddings. With a full covariance {@code S} a draw is
 * {@code mean + L z} with {@code L L^T = S}, {@code z} standard normal; a class seen by fewer
 * examples than dimensions has a singular {@code S}, which the semi-definite Cholesky factor
 * handles (directions without spread get none). With the diagonal only, {@code mean + sqrt(var) * z}.
 */
public final class ClassGaussian {
  private final int dimension;
  private final double[] mean;
  private final double[] deviation;
  private final double[] factor;

  /**
   * @param shrinkage weight in [0, 1] that moves the covariance toward its diagonal:
   *     {@code (1 - shrinkage) S + shrinkage diag(S)}; ignored without a full covariance
   */
  public ClassGaussian(ClassMoments moments, double shrinkage) {
    if (!(shrinkage >= 0 && shrinkage <= 1)) {
      throw new IllegalArgumentException("shrinkage must be in [0, 1], got " + shrinkage);
    }
    this.dimension = moments.dimension();
    this.mean = moments.mean().clone();
    if (moments.covariance() != null) {
      double[] s = moments.covariance().clone();
      if (shrinkage > 0) {
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
    } else {
      this.factor = null;
      this.deviation = new double[dimension];
      for (int j = 0; j < dimension; j++) {
        deviation[j] = Math.sqrt(Math.max(0, moments.variance()[j]));
      }
    }
  }

  public ClassGaussian(ClassMoments moments) {
    this(moments, 0);
  }

  /** {@code count} unit-length draws, row-major {@code count x dimension}. */
  public float[] sample(int count, SplittableRandom random) {
    float[] rows = new float[count * dimension];
    double[] z = new double[dimension];
    for (int r = 0; r < count; r++) {
      for (int j = 0; j < dimension; j++) {
        z[j] = Seeds.gaussian(random);
      }
      int offset = r * dimension;
      for (int i = 0; i < dimension; i++) {
        double v = mean[i];
        if (factor != null) {
          int row = i * dimension;
          for (int j = 0; j <= i; j++) {
            v += factor[row + j] * z[j];
          }
        } else {
          v += deviation[i] * z[i];
        }
        rows[offset + i] = (float) v;
      }
    }
    Seeds.normaliseRows(rows, dimension);
    return rows;
  }

  /**
   * Lower-triangular {@code L} with {@code L L^T = S} for a symmetric positive semi-definite
   * {@code S}: a pivot that is not clearly positive (rank deficiency, rounding) gives a zero column.
   */
  static double[] cholesky(double[] s, int n) {
    double[] l = new double[n * n];
    double largest = 0;
    for (int i = 0; i < n; i++) {
      largest = Math.max(largest, s[i * n + i]);
    }
    double tiny = largest * 1e-12;
    for (int j = 0; j < n; j++) {
      double pivot = s[j * n + j];
      for (int k = 0; k < j; k++) {
        pivot -= l[j * n + k] * l[j * n + k];
      }
      if (pivot <= tiny) {
        continue; // column j stays zero
      }
      double diagonal = Math.sqrt(pivot);
      l[j * n + j] = diagonal;
      for (int i = j + 1; i < n; i++) {
        double v = s[i * n + j];
        int ri = i * n;
        int rj = j * n;
        for (int k = 0; k < j; k++) {
          v -= l[ri + k] * l[rj + k];
        }
        l[ri + j] = v / diagonal;
      }
    }
    return l;
  }
}
