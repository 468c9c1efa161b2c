package fedlake.core.cluster;

import java.util.HashMap;
import java.util.Map;

/**
 * Adjusted Rand index (Hubert and Arabie 1985) of two partitions of the same items: 1 when they
 * agree up to renaming, about 0 for a random partition, negative when worse than chance.
 */
public final class AdjustedRandIndex {
  private AdjustedRandIndex() {}

  public static double of(int[] a, int[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException(
          "partitions of different sizes: " + a.length + " and " + b.length);
    }
    int n = a.length;
    if (n < 2) {
      return 1.0;
    }
    Map<Long, Long> cells = new HashMap<>();
    Map<Integer, Long> rows = new HashMap<>();
    Map<Integer, Long> columns = new HashMap<>();
    for (int i = 0; i < n; i++) {
      cells.merge(((long) a[i] << 32) ^ (b[i] & 0xffffffffL), 1L, Long::sum);
      rows.merge(a[i], 1L, Long::sum);
      columns.merge(b[i], 1L, Long::sum);
    }
    double index = 0;
    for (long c : cells.values()) {
      index += pairs(c);
    }
    double sumRows = 0;
    for (long c : rows.values()) {
      sumRows += pairs(c);
    }
    double sumColumns = 0;
    for (long c : columns.values()) {
      sumColumns += pairs(c);
    }
    double expected = sumRows * sumColumns / pairs(n);
    double max = (sumRows + sumColumns) / 2;
    if (max == expected) {
      return 1.0; // both partitions trivial (all in one group, or all singletons) and equal in
      // structure
    }
    return (index - expected) / (max - expected);
  }

  private static double pairs(long count) {
    return count * (count - 1) / 2.0;
  }
}
