package fedlake.core.cluster;

import fedlake.core.InvalidInputException;
import fedlake.core.data.Dataset;
import fedlake.core.model.Models;
import fedlake.core.store.Latest;
import fedlake.core.store.Store;
import fedlake.schema.Model;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which cluster's model a site trains: the one it is told, else its assignment (the latest
 * assignments from an earlier round), else, when there are several models, the one with the lowest
 * loss on its local data (IFCA). Ties go to the lowest cluster id: with identical models every site
 * picks the same one, which is why the cluster job, not this choice, splits a fresh federation.
 */
public final class ClusterSelection {
  private ClusterSelection() {}

  /**
   * @param cluster the model's cluster; {@code choice} is set only when the site chose it itself
   * @param losses each model's loss on the local data, when the site chose (else empty)
   */
  public record Selection(int cluster, Integer choice, String how, Map<Integer, Double> losses) {}

  public static Selection select(
      Store store, Latest latest, String site, Integer explicit, Dataset data) {
    if (explicit != null) {
      latest.version(explicit); // names the clusters that exist when it does not
      return new Selection(explicit, null, "given", Map.of());
    }
    var assignments = ClusterStore.latestBefore(store, latest.round());
    if (assignments.isPresent()) {
      Integer assigned = assignments.get().bySite().get(site);
      if (assigned != null) {
        if (!latest.versions().containsKey(assigned)) {
          throw new InvalidInputException(
              assignments.get().file(),
              "assigns site "
                  + site
                  + " to cluster "
                  + assigned
                  + ", but round "
                  + latest.round()
                  + " has models only for clusters "
                  + latest.versions().keySet());
        }
        return new Selection(assigned, null, "assigned in " + assignments.get().file(), Map.of());
      }
    }
    if (latest.versions().size() == 1) {
      return new Selection(latest.versions().firstKey(), null, "only model", Map.of());
    }
    Map<Integer, Double> losses = new TreeMap<>();
    int best = -1;
    double bestLoss = Double.POSITIVE_INFINITY;
    for (int cluster : latest.versions().keySet()) {
      Model model = store.readModel(latest.round(), cluster);
      if (data.dimension() != model.getDimension()) {
        throw new InvalidInputException(
            data.source(),
            "embeddings have dimension "
                + data.dimension()
                + " but model "
                + model.getVersion()
                + " expects "
                + model.getDimension());
      }
      data.requireLabelsBelow(model.getClassCount());
      double loss = Models.head(model).evaluate(data).loss();
      losses.put(cluster, loss);
      if (loss < bestLoss) {
        bestLoss = loss;
        best = cluster;
      }
    }
    return new Selection(best, best, "lowest local loss (IFCA)", losses);
  }
}
