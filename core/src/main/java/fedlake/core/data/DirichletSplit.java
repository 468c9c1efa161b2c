package fedlake.core.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Splits labelled rows over sites with Dirichlet(alpha) label skew: for every class, shares drawn
 * from Dirichlet(alpha, ..., alpha) over the sites decide how many of its (shuffled) rows each site
 * gets. Small alpha gives each site few classes. Every site gets at least one row.
 */
public final class DirichletSplit {
  private DirichletSplit() {}

  /** Row indices of each site, each list in ascending order. */
  public static int[][] split(int[] labels, int sites, double alpha, long seed) {
    if (sites < 1) {
      throw new IllegalArgumentException("site count must be at least 1, got " + sites);
    }
    if (!(alpha > 0) || !Double.isFinite(alpha)) {
      throw new IllegalArgumentException("Dirichlet alpha must be positive, got " + alpha);
    }
    long labelled = java.util.Arrays.stream(labels).filter(label -> label >= 0).count();
    if (labelled < sites) {
      throw new IllegalArgumentException(
          "Cannot split " + labelled + " labelled rows over " + sites + " sites");
    }
    SplittableRandom random = new SplittableRandom(seed);
    int classes = 0;
    for (int label : labels) {
      classes = Math.max(classes, label + 1);
    }
    List<List<Integer>> byClass = new ArrayList<>();
    for (int c = 0; c < classes; c++) {
      byClass.add(new ArrayList<>());
    }
    for (int row = 0; row < labels.length; row++) {
      if (labels[row] >= 0) {
        byClass.get(labels[row]).add(row);
      }
    }
    List<List<Integer>> assigned = new ArrayList<>();
    for (int s = 0; s < sites; s++) {
      assigned.add(new ArrayList<>());
    }
    for (List<Integer> rows : byClass) {
      java.util.Collections.shuffle(rows, new java.util.Random(random.nextLong()));
      double[] shares = dirichlet(sites, alpha, random);
      double cumulative = 0;
      int start = 0;
      for (int s = 0; s < sites; s++) {
        cumulative += shares[s];
        int end =
            s == sites - 1
                ? rows.size()
                : (int) Math.min(rows.size(), Math.round(cumulative * rows.size()));
        assigned.get(s).addAll(rows.subList(start, Math.max(start, end)));
        start = Math.max(start, end);
      }
    }
    // give every empty site one row of the currently largest site
    for (int s = 0; s < sites; s++) {
      if (assigned.get(s).isEmpty()) {
        int largest = 0;
        for (int t = 1; t < sites; t++) {
          if (assigned.get(t).size() > assigned.get(largest).size()) {
            largest = t;
          }
        }
        List<Integer> donor = assigned.get(largest);
        assigned.get(s).add(donor.remove(donor.size() - 1));
      }
    }
    int[][] result = new int[sites][];
    for (int s = 0; s < sites; s++) {
      result[s] = assigned.get(s).stream().mapToInt(Integer::intValue).sorted().toArray();
    }
    return result;
  }

  static double[] dirichlet(int n, double alpha, SplittableRandom random) {
    double[] draws = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      draws[i] = gamma(alpha, random);
      sum += draws[i];
    }
    if (sum == 0) { // every draw underflowed: all mass on one site
      draws[random.nextInt(n)] = 1;
      return draws;
    }
    for (int i = 0; i < n; i++) {
      draws[i] /= sum;
    }
    return draws;
  }

  /** Gamma(shape, 1) by Marsaglia and Tsang; shape below 1 by the boost Gamma(a+1) * U^(1/a). */
  static double gamma(double shape, SplittableRandom random) {
    if (shape < 1) {
      double u = random.nextDouble();
      return gamma(shape + 1, random) * Math.pow(u, 1 / shape);
    }
    double d = shape - 1.0 / 3;
    double c = 1 / Math.sqrt(9 * d);
    while (true) {
      double x;
      double v;
      do {
        x = gaussian(random);
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      double u = random.nextDouble();
      if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
        return d * v;
      }
    }
  }

  static double gaussian(SplittableRandom random) {
    double u1 = random.nextDouble();
    double u2 = random.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
}
