package fedlake.core.cluster;

import fedlake.core.InvalidInputException;
import fedlake.core.round.UpdateCheck;
import fedlake.core.store.Store;
import fedlake.schema.Model;
import fedlake.schema.SiteAssignment;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * How a round's updates map to clusters, from the assignments in the store:
 *
 * <ul>
 *   <li>training: the latest assignments from a round before this one. A site named there must
 *       upload an update of that cluster; the round job rejects any other (see UpdateValidator).
 *   <li>targets: the assignments computed from this round's own profiles, when the cluster job ran.
 *       Each accepted update is aggregated into its site's target cluster. A target cluster that
 *       has no model yet is new: its rows must name a parentCluster that has one, and its model
 *       starts from that parent's.
 * </ul>
 *
 * Without assignments every update counts for the cluster it was trained from, as before.
 */
public final class ClusterPlan implements Serializable {
  private static final long serialVersionUID = 1L;
  private final Map<String, Integer> training;
  private final String trainingFile;
  private final Map<String, Integer> targets;
  private final SortedMap<Integer, Integer> newClusters;

  private ClusterPlan(
      Map<String, Integer> training,
      String trainingFile,
      Map<String, Integer> targets,
      SortedMap<Integer, Integer> newClusters) {
    this.training = training;
    this.trainingFile = trainingFile;
    this.targets = targets;
    this.newClusters = newClusters;
  }

  public static ClusterPlan none() {
    return new ClusterPlan(Map.of(), null, Map.of(), new TreeMap<>());
  }

  /**
   * Reads the plan of {@code round}. Throws {@link InvalidInputException} naming the assignments
   * file when it assigns a site to a cluster that has no model and is not declared new.
   */
  public static ClusterPlan forRound(Store store, int round, Set<Integer> modelClusters) {
    Map<String, Integer> training = Map.of();
    String trainingFile = null;
    var before = ClusterStore.latestBefore(store, round);
    if (before.isPresent()) {
      for (SiteAssignment a : before.get().rows()) {
        if (!modelClusters.contains(a.getCluster())) {
          throw new InvalidInputException(
              before.get().file(),
              "assigns site "
                  + a.getSite()
                  + " to cluster "
                  + a.getCluster()
                  + ", but round "
                  + round
                  + " has models only for clusters "
                  + new TreeSet<>(modelClusters));
        }
      }
      training = before.get().bySite();
      trainingFile = before.get().file();
    }
    Map<String, Integer> targets = Map.of();
    SortedMap<Integer, Integer> created = new TreeMap<>();
    var own = ClusterStore.readAssignments(store, round);
    if (own.isPresent()) {
      for (SiteAssignment a : own.get().rows()) {
        if (modelClusters.contains(a.getCluster())) {
          continue;
        }
        Integer parent = a.getParentCluster();
        if (parent == null) {
          throw new InvalidInputException(
              own.get().file(),
              "assigns site "
                  + a.getSite()
                  + " to cluster "
                  + a.getCluster()
                  + ", which has no model in round "
                  + round
                  + " (models: "
                  + new TreeSet<>(modelClusters)
                  + ") and is not declared new (no parentCluster)");
        }
        if (!modelClusters.contains(parent)) {
          throw new InvalidInputException(
              own.get().file(),
              "new cluster "
                  + a.getCluster()
                  + " names parent cluster "
                  + parent
                  + ", which has no model in round "
                  + round
                  + " (models: "
                  + new TreeSet<>(modelClusters)
                  + ")");
        }
        Integer earlier = created.put(a.getCluster(), parent);
        if (earlier != null && !earlier.equals(parent)) {
          throw new InvalidInputException(
              own.get().file(),
              "new cluster "
                  + a.getCluster()
                  + " names two parents: "
                  + earlier
                  + " and "
                  + parent);
        }
      }
      targets = own.get().bySite();
    }
    return new ClusterPlan(training, trainingFile, targets, created);
  }

  /** Site to the cluster it must train this round (empty when unassigned). */
  public Map<String, Integer> training() {
    return Collections.unmodifiableMap(training);
  }

  /** The assignments file {@link #training()} comes from, or null. */
  public String trainingFile() {
    return trainingFile;
  }

  /** Site to the cluster its update is aggregated into. */
  public Map<String, Integer> targets() {
    return Collections.unmodifiableMap(targets);
  }

  /** New cluster id to the cluster whose model it starts from. */
  public SortedMap<Integer, Integer> newClusters() {
    return Collections.unmodifiableSortedMap(newClusters);
  }

  /**
   * Accepted checks of assigned sites, re-labelled with their target cluster; the rest unchanged.
   */
  public List<UpdateCheck> retarget(List<UpdateCheck> checks) {
    if (targets.isEmpty()) {
      return checks;
    }
    List<UpdateCheck> result = new ArrayList<>(checks.size());
    for (UpdateCheck c : checks) {
      Integer target = c.accepted() ? targets.get(c.site()) : null;
      result.add(target == null ? c : c.withCluster(target));
    }
    return result;
  }

  /** The round's base models plus a base for every new cluster: its parent's model, re-labelled. */
  public SortedMap<Integer, Model> bases(Map<Integer, Model> current) {
    SortedMap<Integer, Model> all = new TreeMap<>(current);
    newClusters.forEach(
        (cluster, parent) ->
            all.put(cluster, Model.newBuilder(current.get(parent)).setCluster(cluster).build()));
    return all;
  }
}
