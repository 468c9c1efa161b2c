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
  static final int BLOCK = 256;

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

  /**
   * The coordinate-wise median of the rows' changes {@code y_i - x}: per coordinate, the median of
   * the rows' values (the mean of the two middle ones for an even count, rounded to float) minus
   * {@code x}, in double. Depends only on the multiset of rows. Needs K x {@link #BLOCK} sort keys
   * per thread on top of the rows.
   */
  public static double[] medianChange(float[][] rows, float[] x) {
    float[] middle = median(rows, 0, new long[rows.length]);
    double[] change = new double[middle.length];
    for (int i = 0; i < change.length; i++) {
      change[i] = (double) middle[i] - x[i];
    }
    return change;
  }

  /**
   * The sum of the rows' changes {@code y_i - x}, each scaled to length 1 (a zero change adds
   * nothing), added row by row in the given order, in double: every row moves it by at most one
   * unit, whatever its norm or weight.
   *
   * @param norms the rows' change norms
   */
  public static double[] unitMeanChange(float[][] rows, float[] x, double[] norms) {
    double[] sum = new double[x.length];
    for (int r = 0; r < rows.length; r++) {
      if (norms[r] == 0) {
        continue;
      }
      float[] y = rows[r];
      double inverse = 1 / norms[r];
      for (int i = 0; i < sum.length; i++) {
        sum[i] += ((double) y[i] - x[i]) * inverse;
      }
    }
    return sum;
  }

  /** {@code ||v||}, summed in index order. */
  public static double norm(double[] v) {
    double s = 0;
    for (double a : v) {
      s += a * a;
    }
    return Math.sqrt(s);
  }

  /**
   * The cosine of the change {@code y - x} with {@code direction} (of norm {@code directionNorm} >
   * 0), summed in index order; 0 for a zero change (it points nowhere).
   */
  public static double cosine(float[] y, float[] x, double[] direction, double directionNorm) {
    if (y.length != direction.length) {
      throw new IllegalArgumentException(
          "a change of " + y.length + " values has no cosine with " + direction.length);
    }
    double dot = 0;
    double squared = 0;
    for (int i = 0; i < y.length; i++) {
      double c = (double) y[i] - x[i];
      dot += c * direction[i];
      squared += c * c;
    }
    return squared == 0 ? 0 : dot / (Math.sqrt(squared) * directionNorm);
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
              int width = to - from;
              // the block's values coordinate by coordinate (K contiguous keys each), read row by
              // row so that every row is read sequentially
              long[] keys = new long[width * k];
              for (int r = 0; r < k; r++) {
                float[] row = rows[r];
                for (int j = 0; j < width; j++) {
                  keys[j * k + r] = key(row[from + j], r);
                }
              }
              int[] mine = new int[k];
              for (int j = 0; j < width; j++) {
                int lo = j * k;
                int hi = lo + k;
                if (median) {
                  int mid = lo + k / 2;
                  select(keys, lo, hi, mid);
                  float upper = value(keys[mid]);
                  if (k % 2 == 1) {
                    out[from + j] = upper;
                  } else {
                    long lower = keys[lo];
                    for (int t = lo + 1; t < mid; t++) {
                      lower = Math.max(lower, keys[t]);
                    }
                    out[from + j] = (float) (((double) value(lower) + upper) / 2);
                  }
                  if (trim > 0) {
                    select(keys, lo, mid, lo + trim);
                    select(keys, mid, hi, hi - trim);
                  }
                } else if (trim > 0) {
                  select(keys, lo, hi, lo + trim);
                  select(keys, lo + trim, hi, hi - trim);
                }
                for (int t = 0; t < trim; t++) {
                  mine[(int) keys[lo + t]]++;
                  mine[(int) keys[hi - 1 - t]]++;
                }
                if (!median) {
                  out[from + j] = exactMean(keys, lo + trim, hi - trim);
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

  /**
   * The mean of the values of {@code keys[from, to)}, the same for every order of them: each value
   * is converted on its own to a 64-bit fixed-point number scaled to the largest magnitude, and
   * integers add associatively. Values below 2^-30 of the largest lose low bits (the same ones in
   * every order); the result is rounded once to float.
   */
  static float exactMean(long[] keys, int from, int to) {
    int n = to - from;
    float largest = 0;
    for (int t = from; t < to; t++) {
      largest = Math.max(largest, Math.abs(value(keys[t])));
    }
    if (largest == 0) {
      return 0f;
    }
    int headroom = 64 - Long.numberOfLeadingZeros(n); // bits for the count of terms
    int shift = 61 - headroom - Math.getExponent(largest);
    double scale = Math.scalb(1.0, shift); // multiplying by a power of two is exact
    long sum = 0;
    for (int t = from; t < to; t++) {
      sum += (long) (value(keys[t]) * scale);
    }
    return (float) (sum / scale / n);
  }

  /**
   * Rearranges {@code keys[from, to)} so that position {@code nth} holds the key that sorting would
   * put there, smaller keys before it and larger after it (quickselect, median-of-three pivots).
   */
  static void select(long[] keys, int from, int to, int nth) {
    int lo = from;
    int hi = to; // exclusive
    while (hi - lo > 16) {
      int mid = (lo + hi - 1) >>> 1;
      long a = keys[lo];
      long b = keys[mid];
      long c = keys[hi - 1];
      long pivot = a < b ? (b < c ? b : Math.max(a, c)) : (a < c ? a : Math.max(b, c));
      // branch-free Lomuto partition: random data would mispredict half the branches of Hoare's
      int store = lo;
      for (int i = lo; i < hi; i++) {
        long v = keys[i];
        long s = keys[store];
        boolean less = v < pivot;
        keys[i] = less ? s : v;
        keys[store] = less ? v : s;
        store += less ? 1 : 0;
      }
      // keys[lo, store) < pivot <= keys[store, hi); the pivot itself is in the upper part
      if (nth < store) {
        hi = store;
      } else {
        // move the pivot to keys[store]: then keys[store] is final
        int at = store;
        for (int i = store; i < hi; i++) {
          if (keys[i] == pivot) {
            at = i;
            break;
          }
        }
        keys[at] = keys[store];
        keys[store] = pivot;
        if (nth == store) {
          return;
        }
        lo = store + 1;
      }
    }
    for (int i = lo + 1; i < hi; i++) {
      long v = keys[i];
      int m = i - 1;
      while (m >= lo && keys[m] > v) {
        keys[m + 1] = keys[m];
        m--;
      }
      keys[m + 1] = v;
    }
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

  /**
   * The base's class rows (the first {@code classes x dimension} parameters, row-major) centred on
   * their mean row and scaled to length 1 (a row equal to the mean stays zero); null when every row
   * equals the mean (as in a zero model of round 0): no row is nearer to a change than another
   * then. Centring removes the direction every class's row shares (embeddings of a frozen encoder
   * share a large one).
   */
  public static double[][] unitCentredRows(float[] x, int classes, int dimension) {
    double[] mean = new double[dimension];
    for (int c = 0; c < classes; c++) {
      for (int j = 0; j < dimension; j++) {
        mean[j] += x[c * dimension + j];
      }
    }
    for (int j = 0; j < dimension; j++) {
      mean[j] /= classes;
    }
    double[][] rows = new double[classes][dimension];
    boolean differ = false;
    for (int c = 0; c < classes; c++) {
      double length = 0;
      for (int j = 0; j < dimension; j++) {
        rows[c][j] = x[c * dimension + j] - mean[j];
        length += rows[c][j] * rows[c][j];
      }
      if (length > 0) {
        differ = true;
        double scale = 1 / Math.sqrt(length);
        for (int j = 0; j < dimension; j++) {
          rows[c][j] *= scale;
        }
      }
    }
    return differ ? rows : null;
  }

  /**
   * How much nearer (in cosine) a changed class row must be to another class's centred row than to
   * its own to count as misdirected. Where the head separates classes poorly (textures: dtd), an
   * honest row's change often lies about as near a similar class's row as its own; rows trained on
   * flipped labels lie clearly nearer another's. Chosen on dev data (docs/robustness.md).
   */
  public static final double MISDIRECTED_MARGIN = 0.1;

  /**
   * The share of the squared length of an update's weight change {@code y - x} that lies in class
   * rows whose change is nearer, by more than {@link #MISDIRECTED_MARGIN} in cosine, to another
   * class's row of {@link #unitCentredRows} than to its own: 0 when every row moves toward its own
   * class (or about as much toward another's), 1 when every row moves clearly toward another
   * class's, as training on flipped labels makes it; 0 when the weights did not change. Costs
   * classes^2 x dimension multiply-adds.
   */
  public static double misdirectedShare(float[] y, float[] x, double[][] unitRows, int dimension) {
    int classes = unitRows.length;
    double total = 0;
    double misdirected = 0;
    double[] change = new double[dimension];
    for (int c = 0; c < classes; c++) {
      double squared = 0;
      for (int j = 0; j < dimension; j++) {
        change[j] = (double) y[c * dimension + j] - x[c * dimension + j];
        squared += change[j] * change[j];
      }
      total += squared;
      if (squared > 0
          && nearerAnother(change, c, unitRows, MISDIRECTED_MARGIN * Math.sqrt(squared))) {
        misdirected += squared;
      }
    }
    return total == 0 ? 0 : misdirected / total;
  }

  /**
   * Whether {@code v}'s dot product with some row of {@code unitRows} other than {@code own}
   * exceeds its dot product with row {@code own} by more than {@code margin}.
   */
  private static boolean nearerAnother(double[] v, int own, double[][] unitRows, double margin) {
    double ownDot = 0;
    double otherDot = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < unitRows.length; k++) {
      double[] row = unitRows[k];
      double dot = 0;
      for (int j = 0; j < v.length; j++) {
        dot += v[j] * row[j];
      }
      if (k == own) {
        ownDot = dot;
      } else {
        otherDot = Math.max(otherDot, dot);
      }
    }
    return otherDot > ownDot + margin;
  }
}
