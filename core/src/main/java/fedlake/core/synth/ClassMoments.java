package fedlake.core.synth;

import fedlake.core.data.Dataset;
import fedlake.core.model.FloatArrays;
import fedlake.schema.ClassStatistics;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Sufficient statistics of one class: the number of examples, their mean, their per-dimension
 * population variance and, optionally, their full population covariance (row-major, divided by the
 * count). What a site reports in {@code Update.classStatistics} and what pooling returns.
 *
 * @param covariance full covariance, {@code dimension x dimension}, or null when only the diagonal
 *     is known
 */
public record ClassMoments(
    int classId, long count, double[] mean, double[] variance, double[] covariance)
    implements Serializable {

  public ClassMoments {
    if (count <= 0) {
      throw new IllegalArgumentException(
          "class " + classId + ": count must be positive, got " + count);
    }
    if (variance.length != mean.length) {
      throw new IllegalArgumentException(
          "class "
              + classId
              + ": variance has "
              + variance.length
              + " values, mean has "
              + mean.length);
    }
    if (covariance != null && covariance.length != mean.length * mean.length) {
      throw new IllegalArgumentException(
          "class "
              + classId
              + ": covariance has "
              + covariance.length
              + " values, expected "
              + mean.length * mean.length);
    }
  }

  public int dimension() {
    return mean.length;
  }

  public boolean hasCovariance() {
    return covariance != null;
  }

  /**
   * The statistics of every class present in {@code data} (labels in [0, classCount)), in class
   * order; classes without rows are left out. Two passes (mean, then centred sums) in double.
   *
   * @param spread {@link Spread#VARIANCE} for the diagonal only, {@link Spread#COVARIANCE} for the
   *     full matrix too
   */
  public static List<ClassMoments> of(Dataset data, int classCount, Spread spread) {
    int d = data.dimension();
    long[] counts = data.labelHistogram(classCount);
    double[][] sums = new double[classCount][];
    float[] x = data.features();
    for (int row = 0; row < data.size(); row++) {
      int c = data.label(row);
      if (c < 0 || c >= classCount) {
        continue;
      }
      if (sums[c] == null) {
        sums[c] = new double[d];
      }
      for (int j = 0; j < d; j++) {
        sums[c][j] += x[row * d + j];
      }
    }
    double[][] squares = new double[classCount][];
    double[][] products = new double[classCount][];
    for (int row = 0; row < data.size(); row++) {
      int c = data.label(row);
      if (c < 0 || c >= classCount) {
        continue;
      }
      if (squares[c] == null) {
        squares[c] = new double[d];
        products[c] = spread == Spread.COVARIANCE ? new double[d * d] : null;
      }
      double[] centred = new double[d];
      for (int j = 0; j < d; j++) {
        centred[j] = x[row * d + j] - sums[c][j] / counts[c];
        squares[c][j] += centred[j] * centred[j];
      }
      if (products[c] != null) {
        double[] p = products[c];
        for (int i = 0; i < d; i++) {
          double ci = centred[i];
          int offset = i * d;
          for (int j = i; j < d; j++) {
            p[offset + j] += ci * centred[j];
          }
        }
      }
    }
    List<ClassMoments> result = new ArrayList<>();
    for (int c = 0; c < classCount; c++) {
      if (counts[c] == 0) {
        continue;
      }
      double n = counts[c];
      double[] mean = new double[d];
      double[] variance = new double[d];
      for (int j = 0; j < d; j++) {
        mean[j] = sums[c][j] / n;
        variance[j] = squares[c][j] / n;
      }
      double[] covariance = null;
      if (products[c] != null) {
        covariance = new double[d * d];
        for (int i = 0; i < d; i++) {
          for (int j = i; j < d; j++) {
            double v = products[c][i * d + j] / n;
            covariance[i * d + j] = v;
            covariance[j * d + i] = v;
          }
        }
      }
      result.add(new ClassMoments(c, counts[c], mean, variance, covariance));
    }
    return result;
  }

  /** The Avro record a site uploads (values rounded to float). */
  public ClassStatistics toAvro() {
    return ClassStatistics.newBuilder()
        .setClassId(classId)
        .setCount(count)
        .setMean(FloatArrays.asList(toFloats(mean)))
        .setVariance(FloatArrays.asList(toFloats(variance)))
        .setCovariance(covariance == null ? null : FloatArrays.asList(toFloats(covariance)))
        .build();
  }

  /**
   * Reads a reported record; checks only the shape (validation is {@code
   * UpdateValidator.statisticsProblem}).
   */
  public static ClassMoments fromAvro(ClassStatistics s) {
    return new ClassMoments(
        s.getClassId(),
        s.getCount(),
        toDoubles(s.getMean()),
        toDoubles(s.getVariance()),
        s.getCovariance() == null ? null : toDoubles(s.getCovariance()));
  }

  static float[] toFloats(double[] values) {
    float[] result = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      result[i] = (float) values[i];
    }
    return result;
  }

  private static double[] toDoubles(List<Float> values) {
    double[] result = new double[values.size()];
    int i = 0;
    for (Float v : values) {
      result[i++] = v;
    }
    return result;
  }

  /** How much of the spread a site reports. */
  public enum Spread {
    /** Per-dimension variance only: 2 x dimension numbers a class. */
    VARIANCE,
    /** Full covariance as well: dimension^2 more numbers a class. */
    COVARIANCE;

    /** Parses {@code variance} or {@code covariance}. */
    public static Spread parse(String text, String option) {
      return switch (text) {
        case "variance" -> VARIANCE;
        case "covariance" -> COVARIANCE;
        default ->
            throw new IllegalArgumentException(
                option + " must be 'variance' or 'covariance', got '" + text + "'");
      };
    }

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
