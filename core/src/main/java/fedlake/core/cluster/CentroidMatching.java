package fedlake.core.cluster;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;

/**
 * Keeps cluster ids stable from round to round: the clusters found this round are matched to the
 * previous round's clusters by the Hungarian algorithm on squared distances between centres, so the
 * same group of sites keeps its id (and its model) even though the algorithm numbers its clusters
 * arbitrarily. Unmatched new clusters get ids that no site used before.
 */
public final class CentroidMatching {
  private CentroidMatching() {}

  /**
   * Minimum-cost assignment of rows to columns (Hungarian algorithm, O(n^3) on the padded square
   * matrix). Returns, for every row, its column, or -1 when there are more rows than columns and
   * the row was left out.
   */
  public static int[] assign(double[][] cost) {
    int rows = cost.length;
    int columns = rows == 0 ? 0 : cost[0].length;
    int n = Math.max(rows, columns);
    if (n == 0) {
      return new int[0];
    }
    double[][] a = new double[n + 1][n + 1];
    for (int i = 0; i < rows; i++) {
      if (cost[i].length != columns) {
        throw new IllegalArgumentException(
            "cost matrix is ragged: row "
                + i
                + " has "
                + cost[i].length
                + " columns, row 0 has "
                + columns);
      }
      for (int j = 0; j < columns; j++) {
        if (!Double.isFinite(cost[i][j])) {
          throw new IllegalArgumentException(
              "cost matrix holds a non-finite value " + cost[i][j] + " at (" + i + ", " + j + ")");
        }
        a[i + 1][j + 1] = cost[i][j];
      }
    }
    double[] u = new double[n + 1];
    double[] v = new double[n + 1];
    int[] p = new int[n + 1];
    int[] way = new int[n + 1];
    for (int i = 1; i <= n; i++) {
      p[0] = i;
      int j0 = 0;
      double[] minv = new double[n + 1];
      Arrays.fill(minv, Double.POSITIVE_INFINITY);
      boolean[] used = new boolean[n + 1];
      do {
        used[j0] = true;
        int i0 = p[j0];
        double delta = Double.POSITIVE_INFINITY;
        int j1 = 0;
        for (int j = 1; j <= n; j++) {
          if (!used[j]) {
            double current = a[i0][j] - u[i0] - v[j];
            if (current < minv[j]) {
              minv[j] = current;
              way[j] = j0;
            }
            if (minv[j] < delta) {
              delta = minv[j];
              j1 = j;
            }
          }
        }
        for (int j = 0; j <= n; j++) {
          if (used[j]) {
            u[p[j]] += delta;
            v[j] -= delta;
          } else {
            minv[j] -= delta;
          }
        }
        j0 = j1;
      } while (p[j0] != 0);
      do {
        int j1 = way[j0];
        p[j0] = p[j1];
        j0 = j1;
      } while (j0 != 0);
    }
    int[] result = new int[rows];
    Arrays.fill(result, -1);
    for (int j = 1; j <= n; j++) {
      if (p[j] >= 1 && p[j] <= rows && j <= columns) {
        result[p[j] - 1] = j - 1;
      }
    }
    return result;
  }

  /**
   * Stable ids for this round's clusters.
   *
   * @param centres this round's cluster centres, by the algorithm's index
   * @param sizes number of sites in each of this round's clusters (orders the unmatched ones:
   *     larger first)
   * @param previous the previous clusters' centres, recomputed on this round's profiles of their
   *     sites
   * @param idleModels ids of clusters that have a model but held no site: reused before fresh ids
   * @param taken every id that exists already (previous clusters, models); fresh ids avoid them
   * @return stable id of each of this round's clusters
   */
  public static int[] stableIds(
      double[][] centres,
      long[] sizes,
      SortedMap<Integer, double[]> previous,
      Set<Integer> idleModels,
      Set<Integer> taken) {
    int k = centres.length;
    int[] ids = new int[k];
    Arrays.fill(ids, -1);
    List<Integer> previousIds = new ArrayList<>(previous.keySet());
    if (!previousIds.isEmpty()) {
      double[][] cost = new double[k][previousIds.size()];
      for (int i = 0; i < k; i++) {
        for (int j = 0; j < previousIds.size(); j++) {
          cost[i][j] = squaredDistance(centres[i], previous.get(previousIds.get(j)));
        }
      }
      int[] match = assign(cost);
      for (int i = 0; i < k; i++) {
        if (match[i] >= 0) {
          ids[i] = previousIds.get(match[i]);
        }
      }
    }
    TreeSet<Integer> used = new TreeSet<>(taken);
    used.addAll(previous.keySet());
    TreeSet<Integer> reusable = new TreeSet<>(idleModels);
    reusable.removeAll(previous.keySet());
    Integer[] unmatched =
        java.util.stream.IntStream.range(0, k)
            .filter(i -> ids[i] < 0)
            .boxed()
            .sorted(Comparator.<Integer>comparingLong(i -> -sizes[i]).thenComparingInt(i -> i))
            .toArray(Integer[]::new);
    int next = used.isEmpty() ? 0 : used.last() + 1;
    for (int i : unmatched) {
      if (!reusable.isEmpty()) {
        ids[i] = reusable.pollFirst();
      } else {
        ids[i] = next++;
      }
    }
    return ids;
  }

  public static double squaredDistance(double[] a, double[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException(
          "centres of different lengths: " + a.length + " and " + b.length);
    }
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      double d = a[i] - b[i];
      sum += d * d;
    }
    return sum;
  }

  /** Convenience for tests and callers with a map of previous centres. */
  public static SortedMap<Integer, double[]> centres(Map<Integer, double[]> byId) {
    return new java.util.TreeMap<>(byId);
  }
}
