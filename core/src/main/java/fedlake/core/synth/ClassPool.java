package fedlake.core.synth;

import fedlake.core.numeric.ExactSum;
import java.io.Serializable;

/**
 * Pools the statistics of one class reported by several sites into the statistics of the union of
 * their examples, exactly:
 *
 * <pre>
 *   N = sum_k n_k
 *   mean = sum_k n_k mean_k / N
 *   cov  = sum_k n_k (cov_k + mean_k mean_k^T) / N - mean mean^T
 * </pre>
 *
 * (the pooled covariance of the union, not an average of the sites' covariances: the spread between
 * the site means counts too). The sums are kept in 128-bit fixed point ({@link ExactSum}); the
 * products {@code mean_k,i * mean_k,j} are split into two floats that sum to them exactly, so every
 * term is added without rounding and the result does not depend on the order of sites or on how
 * partial pools are merged (Spark partitions). The full covariance is pooled while every
 * contribution carries one; after the first diagonal-only contribution only the variance is.
 */
public final class ClassPool implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int classId;
  private final int dimension;
  private long count;
  private final ExactSum first;
  private final ExactSum secondDiagonal;

  /**
   * Upper triangle, row by row (i <= j); null once a diagonal-only contribution arrived or before
   * any full one.
   */
  private ExactSum secondFull;

  private boolean diagonalOnly;

  public ClassPool(int classId, int dimension) {
    if (dimension <= 0) {
      throw new IllegalArgumentException("dimension must be positive, got " + dimension);
    }
    this.classId = classId;
    this.dimension = dimension;
    this.first = new ExactSum(dimension);
    this.secondDiagonal = new ExactSum(dimension);
  }

  public int classId() {
    return classId;
  }

  public long count() {
    return count;
  }

  /** Whether the pool holds the full covariance (every contribution carried one). */
  public boolean hasCovariance() {
    return count > 0 && !diagonalOnly && secondFull != null;
  }

  /**
   * Adds one site's statistics of this class (values are rounded to float first, as sites report
   * them).
   */
  public ClassPool add(ClassMoments s) {
    if (s.classId() != classId) {
      throw new IllegalArgumentException(
          "cannot pool class " + s.classId() + " into class " + classId);
    }
    if (s.dimension() != dimension) {
      throw new IllegalArgumentException(
          "class "
              + classId
              + ": statistics have dimension "
              + s.dimension()
              + ", the pool has "
              + dimension);
    }
    long n = s.count();
    float[] mean = ClassMoments.toFloats(s.mean());
    float[] variance = ClassMoments.toFloats(s.variance());
    for (int j = 0; j < dimension; j++) {
      first.add(j, mean[j], n);
      secondDiagonal.add(j, variance[j], n);
      addProduct(secondDiagonal, j, mean[j], mean[j], n);
    }
    if (s.covariance() == null) {
      diagonalOnly = true;
      secondFull = null;
    } else if (!diagonalOnly) {
      if (secondFull
          == null) { // the first contribution: every earlier one would have set diagonalOnly
        secondFull = new ExactSum(dimension * (dimension + 1) / 2);
      }
      float[] covariance = ClassMoments.toFloats(s.covariance());
      int k = 0;
      for (int i = 0; i < dimension; i++) {
        for (int j = i; j < dimension; j++) {
          secondFull.add(k, covariance[i * dimension + j], n);
          addProduct(secondFull, k, mean[i], mean[j], n);
          k++;
        }
      }
    }
    count += n;
    return this;
  }

  /** Adds {@code n * a * b} exactly: the double product of two floats is split into two floats. */
  private static void addProduct(ExactSum sum, int index, float a, float b, long n) {
    double product = (double) a * b; // exact: 48 significant bits
    float high = (float) product;
    float low = (float) (product - high); // exact: the remaining bits fit a float
    sum.add(index, high, n);
    sum.add(index, low, n);
  }

  /** Folds {@code other} (same class) into this pool; returns this. */
  public ClassPool merge(ClassPool other) {
    if (other.classId != classId || other.dimension != dimension) {
      throw new IllegalArgumentException(
          "cannot merge the pool of class "
              + other.classId
              + " (dimension "
              + other.dimension
              + ") into class "
              + classId
              + " (dimension "
              + dimension
              + ")");
    }
    if (other.count == 0) {
      return this;
    }
    if (count == 0) {
      diagonalOnly = other.diagonalOnly;
      secondFull = other.secondFull == null ? null : copyOf(other.secondFull);
    } else if (diagonalOnly || other.diagonalOnly) {
      diagonalOnly = true;
      secondFull = null;
    } else {
      secondFull.merge(other.secondFull);
    }
    first.merge(other.first);
    secondDiagonal.merge(other.secondDiagonal);
    count += other.count;
    return this;
  }

  private static ExactSum copyOf(ExactSum sum) {
    ExactSum copy = new ExactSum(sum.size());
    copy.merge(sum);
    return copy;
  }

  /** The pooled statistics; variances that rounding made slightly negative are set to zero. */
  public ClassMoments result() {
    if (count == 0) {
      throw new IllegalStateException("class " + classId + ": nothing pooled");
    }
    double n = count;
    double[] mean = new double[dimension];
    double[] variance = new double[dimension];
    for (int j = 0; j < dimension; j++) {
      mean[j] = first.get(j) / n;
    }
    for (int j = 0; j < dimension; j++) {
      variance[j] = Math.max(0, secondDiagonal.get(j) / n - mean[j] * mean[j]);
    }
    double[] covariance = null;
    if (secondFull != null) {
      covariance = new double[dimension * dimension];
      int k = 0;
      for (int i = 0; i < dimension; i++) {
        for (int j = i; j < dimension; j++) {
          double v = secondFull.get(k++) / n - mean[i] * mean[j];
          if (i == j) {
            v = Math.max(0, v);
          }
          covariance[i * dimension + j] = v;
          covariance[j * dimension + i] = v;
        }
      }
    }
    return new ClassMoments(classId, count, mean, variance, covariance);
  }
}
