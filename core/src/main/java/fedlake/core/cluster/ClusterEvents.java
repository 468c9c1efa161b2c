package fedlake.core.cluster;

import fedlake.schema.ClusterHistory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The cluster-history rows of one round, and the two failures the cluster job must report: a
 * collapse (every site in one cluster although the profiles split clearly into groups, the
 * "clustering failure" of clustered FL) and a cluster that held sites in the previous assignment
 * and holds none now.
 */
public final class ClusterEvents {
  public static final double SEPARABLE_SILHOUETTE_DEFAULT = 0.25;

  private ClusterEvents() {}

  /** What the cluster job found, for the history. */
  public record Fit(
      String algorithm, int k, String kChosenBy, Double silhouette, Double separability) {}

  /** The rows and the warnings to print. */
  public record Outcome(
      List<ClusterHistory> rows, List<String> warnings, boolean collapsed, List<Integer> emptied) {}

  /**
   * @param sizes sites per stable cluster id this round (clusters with at least one site)
   * @param previousSizes sites per cluster in the previous assignment (empty when none)
   * @param meanDistances mean distance of each cluster's sites to its centre
   * @param separableSilhouette silhouette at or above which profiles count as clearly separable
   */
  public static Outcome of(
      int round,
      Map<Integer, Integer> sizes,
      Map<Integer, Integer> previousSizes,
      Map<Integer, Double> meanDistances,
      Fit fit,
      double separableSilhouette,
      int minSize,
      long now) {
    int sites = sizes.values().stream().mapToInt(Integer::intValue).sum();
    long nonEmpty = sizes.values().stream().filter(s -> s > 0).count();
    boolean collapsed =
        nonEmpty == 1
            && sites >= 2
            && fit.separability() != null
            && fit.separability() >= separableSilhouette;
    List<ClusterHistory> rows = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    List<Integer> emptied = new ArrayList<>();
    Set<Integer> ids = new TreeSet<>(sizes.keySet());
    ids.addAll(previousSizes.keySet());
    for (int cluster : ids) {
      int size = sizes.getOrDefault(cluster, 0);
      Integer previous = previousSizes.get(cluster);
      String status;
      String message;
      if (size == 0) {
        if (previous == null || previous == 0) {
          continue;
        }
        status = "empty";
        message =
            String.format(
                Locale.ROOT,
                "cluster %d is empty: it held %d site(s) in the previous assignment and holds none in round %d",
                cluster,
                previous,
                round);
        warnings.add(message);
        emptied.add(cluster);
      } else if (collapsed) {
        status = "collapsed";
        message =
            String.format(
                Locale.ROOT,
                "clustering collapsed: all %d sites fell into cluster %d although the profiles "
                    + "separate into groups (best silhouette %.3f >= %.2f); %s",
                sites,
                cluster,
                fit.separability(),
                separableSilhouette,
                fit.k() > 1
                    ? "the groups were merged (minimum cluster size " + minSize + ")"
                    : "k = 1 was chosen");
        warnings.add(message);
      } else if (previous == null) {
        status = "new";
        message = String.format(Locale.ROOT, "new cluster %d with %d site(s)", cluster, size);
      } else {
        status = "assigned";
        message =
            String.format(
                Locale.ROOT,
                "cluster %d holds %d site(s) (previously %d)",
                cluster,
                size,
                previous);
      }
      rows.add(
          ClusterHistory.newBuilder()
              .setRound(round)
              .setCluster(cluster)
              .setStatus(status)
              .setMessage(message)
              .setSites(size)
              .setPreviousSites(previous)
              .setAlgorithm(fit.algorithm())
              .setK(fit.k())
              .setKChosenBy(fit.kChosenBy())
              .setSilhouette(fit.silhouette())
              .setSeparability(fit.separability())
              .setMeanDistance(size == 0 ? null : meanDistances.get(cluster))
              .setCreatedTime(Instant.ofEpochMilli(now))
              .build());
    }
    return new Outcome(rows, warnings, collapsed, emptied);
  }
}
