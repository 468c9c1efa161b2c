package fedlake.core.strategy;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * The arithmetic of robust aggregation as pure functions over the round's updates (rows, already in
 * a fixed order). Every result depends only on the multiset of rows: per coordinate, values are
 * sorted with ties broken by row index and summed in sorted order; distances and norms are summed
 * in index order. Coordinate-wise rules work on blocks of coordinates, independently, so they run
 * on several threads here and could run on several tasks (docs/robustness.md).
 */
public final class RobustRules {
  /** Coordinates per block: K x BLOCK sort keys per thread. */
  static final int BLOCK = 2048;

  private RobustRules() {}

  /** {@code ||y - x||}, in double. */
  public static double changeNorm(float[] y, float[] x) {
    double s0 = 0;
    double s1 = 0;
    int n = y.length;
    int i = 0;
    for (; i + 1 < n; i += 2) {
      double a = (double) y[i] - x[i];
      double b = (double) y[i + 1] - x[i + 1];
      s0 += a * a;
      s1 += b * b;
    }
    if (i < n) {
      double a = (double) y[i] - x[i];
      s0 += a * a;
    }
    return Math.sqrt(s0 + s1);
  }

  /** The median of {@code values} (the mean of the two middle ones for an even count). */
  public static double median(double[] values) {
    if (values.length == 0) {
      throw new IllegalArgumentException("median of no values");
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  /** {@code x + factor (y - x)}, rounded once to float. */
  public static float[] scaleChange(float[] y, float[] x, double factor) {
    float[] out = new float[y.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (x[i] + factor * ((double) y[i] - x[i]));
    }
    return out;
  }

  /** {@code factor v}, rounded once to float. */
  public static float[] scale(float[] v, double factor) {
    float[] out = new float[v.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (factor * v[i]);
    }
    return out;
  }

  /**
   * Coordinate-wise trimmed mean (Yin et al. 2018): for every coordinate, drops the {@code trim}
   * smallest and {@code trim} largest values of the rows and averages the rest (unweighted).
   *
   * @param trimmed on return, per row, the number of coordinates where its value was dropped
   */
  public static float[] trimmedMean(float[][] rows, int trim, long[] trimmed) {
    int k = rows.length;
    if (k == 0 || 2 * trim >= k || trim < 0) {
      throw new IllegalArgumentException(
          "trimmed mean of " + k + " rows cannot drop " + trim + " at each end");
    }
    return coordinateWise(rows, trim, trimmed, false);
  }

  /**
   * Coordinate-wise median (Yin et al. 2018), unweighted: the middle value, or the mean of the two
   * middle values for an even number of rows.
   *
   * @param extreme rows count as extreme in a coordinate when their value is among the {@code
   *     extreme} smallest or largest
   * @param extremes on return, per row, the number of coordinates where it was extreme
   */
  public static float[] median(float[][] rows, int extreme, long[] extremes) {
    int k = rows.length;
    if (k == 0 || extreme < 0 || 2 * extreme >= k) {
      throw new IllegalArgumentException("median of " + k + " rows, " + extreme + " extreme");
    }
    return coordinateWise(rows, extreme, extremes, true);
  }

  private static float[] coordinateWise(float[][] rows, int trim, long[] counts, boolean median) {
    int k = rows.length;
    int size = rows[0].length;
    for (float[] row : rows) {
      if (row.length != size) {
        throw new IllegalArgumentException(
            "rows of " + row.length + " and " + size + " values cannot be combined");
      }
    }
    float[] out = new float[size];
    int blocks = (size + BLOCK - 1) / BLOCK;
    int[][] blockCounts = new int[blocks][];
    IntStream.range(0, blocks)
        .parallel()
        .forEach(
            b -> {
              int from = b * BLOCK;
              int to = Math.min(size, from + BLOCK);
              int[] mine = new int[k];
              long[] keys = new long[k];
              for (int j = from; j < to; j++) {
                for (int r = 0; r < k; r++) {
                  keys[r] = key(rows[r][j], r);
                }
                Arrays.sort(keys);
                for (int t = 0; t < trim; t++) {
                  mine[(int) keys[t]]++;
                  mine[(int) keys[k - 1 - t]]++;
                }
                if (median) {
                  int mid = k / 2;
                  out[j] =
                      k % 2 == 1
                          ? value(keys[mid])
                          : (float) (((double) value(keys[mid - 1]) + value(keys[mid])) / 2);
                } else {
                  double sum = 0;
                  for (int t = trim; t < k - trim; t++) {
                    sum += value(keys[t]);
                  }
                  out[j] = (float) (sum / (k - 2 * trim));
                }
              }
              blockCounts[b] = mine;
            });
    Arrays.fill(counts, 0);
    for (int[] c : blockCounts) {
      for (int r = 0; r < k; r++) {
        counts[r] += c[r];
      }
    }
    return out;
  }

  /** A sort key that orders by float value (-0 before 0), then by row. */
  private static long key(float value, int row) {
    int bits = Float.floatToRawIntBits(value);
    int sortable = bits ^ ((bits >> 31) & 0x7fffffff);
    return ((long) sortable << 32) | row;
  }

  private static float value(long key) {
    int sortable = (int) (key >> 32);
    int bits = sortable ^ ((sortable >> 31) & 0x7fffffff);
    return Float.intBitsToFloat(bits);
  }

  /** Squared L2 distances between every pair of rows, in double. */
  public static double[][] squaredDistances(float[][] rows) {
    int k = rows.length;
    double[][] d = new double[k][k];
    IntStream.range(0, k)
        .parallel()
        .forEach(
            i -> {
              for (int j = i + 1; j < k; j++) {
                float[] a = rows[i];
                float[] b = rows[j];
                double s = 0;
                for (int p = 0; p < a.length; p++) {
                  double diff = (double) a[p] - b[p];
                  s += diff * diff;
                }
                d[i][j] = s;
              }
            });
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < i; j++) {
        d[i][j] = d[j][i];
      }
    }
    return d;
  }

  /**
   * Krum scores (Blanchard et al. 2017): for each row, the sum of its squared distances to its
   * {@code neighbours} nearest other rows.
   */
  public static double[] krumScores(double[][] squaredDistances, int neighbours) {
    int k = squaredDistances.length;
    int n = Math.max(0, Math.min(neighbours, k - 1));
    double[] scores = new double[k];
    for (int i = 0; i < k; i++) {
      double[] others = new double[k - 1];
      int o = 0;
      for (int j = 0; j < k; j++) {
        if (j != i) {
          others[o++] = squaredDistances[i][j];
        }
      }
      Arrays.sort(others);
      double s = 0;
      for (int t = 0; t < n; t++) {
        s += others[t];
      }
      scores[i] = s;
    }
    return scores;
  }

  /** Row indices ordered by score, ties by index. */
  public static Integer[] byScore(double[] scores) {
    Integer[] order = new Integer[scores.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(
        order,
        (a, b) ->
            a.equals(b)
                ? 0
                : scores[a] != scores[b]
                    ? Double.compare(scores[a], scores[b])
                    : Integer.compare(a, b));
    return order;
  }
}
