package fedlake.core.round;

import fedlake.core.store.Store;
import fedlake.schema.FederationSpec;
import fedlake.schema.LateUpdatePolicy;
import fedlake.schema.Model;
import fedlake.schema.RoundPolicySpec;
import fedlake.schema.UpdateAudit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileStatus;

/**
 * Buffered asynchronous aggregation (FedBuff-style; roundPolicy.lateUpdates = BUFFER): an update
 * trained from the model of round {@code r} that reaches the store after round {@code r} was
 * aggregated counts towards the next round that is aggregated, up to {@code maxStaleness} rounds
 * later. The round job rebases it onto that round's model (adds its change, {@code parameters - own
 * base}, to the round's base) and weights it {@code numExamples / (1 + staleness)^exponent}.
 *
 * <p>Which late files are still pending is read from the store, not remembered: a file in an
 * earlier round's folder is pending until an audit lists it (the audit of its own round, when it
 * was there in time, or of the round that took it late). The round job and {@code fedlake
 * round-ready} (the Airflow sensor) list the same pending files, so they count the same sites.
 *
 * @param maxStaleness most rounds an update may be late and still count (0: late updates are
 *     ignored)
 * @param exponent staleness discount exponent
 */
public record LateUpdates(int maxStaleness, double exponent) implements java.io.Serializable {
  /** Late updates are rejected as stale (the IGNORE policy). */
  public static final LateUpdates IGNORED = new LateUpdates(0, 0);

  public LateUpdates {
    if (maxStaleness < 0) {
      throw new IllegalArgumentException("max-staleness must be >= 0, got " + maxStaleness);
    }
    if (!(exponent >= 0) || !Double.isFinite(exponent)) {
      throw new IllegalArgumentException(
          "staleness-exponent must be a finite number >= 0, got " + exponent);
    }
  }

  /** The late-update rule of {@code spec}; {@link #IGNORED} for null or the IGNORE policy. */
  public static LateUpdates of(FederationSpec spec) {
    if (spec == null) {
      return IGNORED;
    }
    RoundPolicySpec policy = spec.getRoundPolicy();
    return policy.getLateUpdates() == LateUpdatePolicy.BUFFER
        ? new LateUpdates(policy.getMaxStaleness(), policy.getStalenessExponent())
        : IGNORED;
  }

  /** Whether late updates count at all. */
  public boolean buffered() {
    return maxStaleness > 0;
  }

  /** The rounds whose folders round {@code round} looks into for late files, oldest first. */
  public List<Integer> earlierRounds(int round) {
    List<Integer> rounds = new ArrayList<>();
    for (int r = Math.max(0, round - maxStaleness); r < round; r++) {
      rounds.add(r);
    }
    return rounds;
  }

  /**
   * What the audits of the {@code maxStaleness} rounds before a round say about late files.
   *
   * @param pending the visible update files in those rounds' folders that no audit lists yet: late
   *     arrivals the round may aggregate
   * @param aggregatedIds the ids of the updates those rounds aggregated: a file carrying one again
   *     is a replay
   */
  public record Earlier(List<FileStatus> pending, Set<String> aggregatedIds) {
    /** Nothing earlier: late updates ignored, or round 0. */
    public static final Earlier NONE = new Earlier(List.of(), Set.of());
  }

  /** Reads the earlier rounds' audits and folders once for round {@code round}. */
  public Earlier earlier(Store store, int round) {
    List<Integer> rounds = earlierRounds(round);
    if (rounds.isEmpty()) {
      return Earlier.NONE;
    }
    Set<String> audited = new HashSet<>();
    Set<String> aggregated = new HashSet<>();
    for (int r : rounds) {
      for (UpdateAudit row : store.readAudit(r)) {
        audited.add(key(row.getFile()));
        if (row.getUpdateId() != null && !"rejected".equals(row.getStatus())) {
          aggregated.add(row.getUpdateId());
        }
      }
    }
    List<FileStatus> pending = new ArrayList<>();
    for (int r : rounds) {
      for (FileStatus file : store.listUpdates(r)) {
        if (!audited.contains(key(file.getPath().toString()))) {
          pending.add(file);
        }
      }
    }
    return new Earlier(pending, aggregated);
  }

  /**
   * The models late updates of round {@code round} may have been trained from: round to cluster to
   * model, for the earlier rounds and the clusters that had a model then.
   */
  public Map<Integer, Map<Integer, Model>> bases(Store store, int round, Set<Integer> clusters) {
    Map<Integer, Map<Integer, Model>> bases = new TreeMap<>();
    for (int r : earlierRounds(round)) {
      Map<Integer, Model> models = new TreeMap<>();
      for (int cluster : clusters) {
        try {
          if (store.fileSystem().exists(store.modelFile(r, cluster))) {
            models.put(cluster, store.readModel(r, cluster));
          }
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(
              "Cannot read " + store.modelFile(r, cluster) + ": " + e.getMessage(), e);
        }
      }
      bases.put(r, models);
    }
    return bases;
  }

  /** The aggregation weight of a site's update {@code staleness} rounds late: at least 1. */
  public long weight(long numExamples, int staleness) {
    if (staleness == 0 || exponent == 0) {
      return numExamples;
    }
    return Math.max(1, Math.round(numExamples / Math.pow(1 + staleness, exponent)));
  }

  /** A file's identity across listings and audits: its round folder and name. */
  private static String key(String uri) {
    int slash = uri.lastIndexOf('/');
    int folder = uri.lastIndexOf('/', slash - 1);
    return uri.substring(folder + 1);
  }
}
