package fedlake.core.cluster;

import java.io.Serializable;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Decides each site's final cluster from the algorithm's raw cluster: raw clusters smaller than the
 * minimum size are dissolved (their sites go to the nearest remaining centre), and a site's own
 * lowest-loss choice (IFCA) wins when its profile is nearly as close to the chosen cluster's centre
 * as to its own: within {@code 1 + choiceMargin} times the distance.
 */
public final class Assigner implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final double CHOICE_MARGIN_DEFAULT = 0.1;

  public static final String NEAREST = "nearest";
  public static final String CHOICE = "choice";
  public static final String MIN_SIZE = "min-size";

  private final SortedMap<Integer, double[]> centres;
  private final Map<Integer, Integer> stableIds;
  private final double choiceMargin;

  /**
   * @param centres centre of every cluster that survives the minimum size, by stable id
   * @param stableIds stable id of every raw cluster index that survives (others are dissolved)
   */
  public Assigner(
      Map<Integer, double[]> centres, Map<Integer, Integer> stableIds, double choiceMargin) {
    if (centres.isEmpty()) {
      throw new IllegalArgumentException("no cluster to assign sites to");
    }
    if (!(choiceMargin >= 0)) {
      throw new IllegalArgumentException("choice margin must be >= 0, got " + choiceMargin);
    }
    this.centres = new TreeMap<>(centres);
    this.stableIds = Map.copyOf(stableIds);
    this.choiceMargin = choiceMargin;
  }

  /** A site's final cluster, its distance to that cluster's centre, and why. */
  public record Decision(int cluster, double distance, String reason) implements Serializable {}

  /**
   * @param raw the algorithm's cluster index of the site
   * @param choice the site's own lowest-loss choice, or null
   * @param informative whether that choice was made among models that differed
   */
  public Decision assign(double[] features, int raw, Integer choice, boolean informative) {
    Integer stable = stableIds.get(raw);
    int cluster;
    String reason;
    if (stable != null) {
      cluster = stable;
      reason = NEAREST;
    } else {
      cluster = nearest(features);
      reason = MIN_SIZE;
    }
    double distance = Math.sqrt(CentroidMatching.squaredDistance(features, centres.get(cluster)));
    if (choice != null && informative && choice != cluster && centres.containsKey(choice)) {
      double chosen = Math.sqrt(CentroidMatching.squaredDistance(features, centres.get(choice)));
      if (chosen <= (1 + choiceMargin) * distance) {
        return new Decision(choice, chosen, CHOICE);
      }
    }
    return new Decision(cluster, distance, reason);
  }

  private int nearest(double[] features) {
    int best = -1;
    double bestDistance = Double.POSITIVE_INFINITY;
    for (Map.Entry<Integer, double[]> e : centres.entrySet()) {
      double d = CentroidMatching.squaredDistance(features, e.getValue());
      if (d < bestDistance) {
        bestDistance = d;
        best = e.getKey();
      }
    }
    return best;
  }
}
