package fedlake.core.cluster;

import fedlake.core.InvalidInputException;
import fedlake.core.store.Store;
import fedlake.schema.ClusterHistory;
import fedlake.schema.SiteAssignment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

/**
 * Where clustering lives in the store (see docs/storage.md and docs/clustering.md):
 *
 * <pre>
 * ROOT/profiles/round=R/part-*.parquet          site profiles of round R (SiteProfile), a table partitioned by round
 * ROOT/assignments/round-NNNNNN.parquet         site to cluster, computed from round R's profiles (SiteAssignment)
 * ROOT/cluster-history/round-NNNNNN.parquet     one row per cluster and round (ClusterHistory)
 * </pre>
 */
public final class ClusterStore {
  private static final Pattern ROUND_FILE = Pattern.compile("round-(\\d{6,})\\.parquet");

  private ClusterStore() {}

  public static Path profilesDir(Store store) {
    return store.path("profiles");
  }

  public static Path profilesRound(Store store, int round) {
    return new Path(profilesDir(store), "round=" + round);
  }

  public static Path assignmentsDir(Store store) {
    return store.path("assignments");
  }

  public static Path assignmentsFile(Store store, int round) {
    return new Path(assignmentsDir(store), Store.roundName(round) + ".parquet");
  }

  public static Path historyFile(Store store, int round) {
    return new Path(store.path("cluster-history"), Store.roundName(round) + ".parquet");
  }

  /** An assignments file read from the store. */
  public record Assignments(int round, String file, List<SiteAssignment> rows) {
    public Map<String, Integer> bySite() {
      Map<String, Integer> map = new HashMap<>();
      for (SiteAssignment a : rows) {
        map.put(a.getSite(), a.getCluster());
      }
      return map;
    }

    public Map<Integer, Integer> sizes() {
      Map<Integer, Integer> sizes = new java.util.TreeMap<>();
      for (SiteAssignment a : rows) {
        sizes.merge(a.getCluster(), 1, Integer::sum);
      }
      return sizes;
    }
  }

  /** Writes the round's assignments atomically (replacing an earlier run's), sorted by site. */
  public static void writeAssignments(Store store, int round, List<SiteAssignment> rows)
      throws IOException {
    List<SiteAssignment> sorted = new ArrayList<>(rows);
    sorted.sort(Comparator.comparing(SiteAssignment::getSite));
    store.writeRecords(assignmentsFile(store, round), SiteAssignment.getClassSchema(), sorted);
  }

  public static Optional<Assignments> readAssignments(Store store, int round) {
    Path file = assignmentsFile(store, round);
    try {
      if (!store.fileSystem().exists(file)) {
        return Optional.empty();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
    List<SiteAssignment> rows = store.readRecords(file, SiteAssignment.getClassSchema());
    Map<String, Integer> seen = new HashMap<>();
    for (SiteAssignment a : rows) {
      if (seen.put(a.getSite(), a.getCluster()) != null) {
        throw new InvalidInputException(file.toString(), "assigns site " + a.getSite() + " twice");
      }
      if (a.getCluster() < 0) {
        throw new InvalidInputException(
            file.toString(),
            "assigns site " + a.getSite() + " to a negative cluster " + a.getCluster());
      }
    }
    return Optional.of(new Assignments(round, file.toString(), rows));
  }

  /** Rounds that have an assignments file, ascending. */
  public static List<Integer> assignmentRounds(Store store) {
    List<Integer> rounds = new ArrayList<>();
    for (FileStatus file : store.listVisible(assignmentsDir(store), ".parquet")) {
      Matcher m = ROUND_FILE.matcher(file.getPath().getName());
      if (m.matches()) {
        rounds.add(Integer.parseInt(m.group(1)));
      }
    }
    rounds.sort(null);
    return rounds;
  }

  /**
   * The latest assignments computed from a round before {@code round}: what sites train by in
   * {@code round}.
   */
  public static Optional<Assignments> latestBefore(Store store, int round) {
    List<Integer> rounds = assignmentRounds(store);
    for (int i = rounds.size() - 1; i >= 0; i--) {
      if (rounds.get(i) < round) {
        return readAssignments(store, rounds.get(i));
      }
    }
    return Optional.empty();
  }

  public static void writeHistory(Store store, int round, List<ClusterHistory> rows)
      throws IOException {
    store.writeRecords(historyFile(store, round), ClusterHistory.getClassSchema(), rows);
  }

  /** Every cluster-history row, ordered by round and cluster. */
  public static List<ClusterHistory> readHistory(Store store) {
    List<ClusterHistory> rows = new ArrayList<>();
    for (FileStatus file : store.listVisible(store.path("cluster-history"), ".parquet")) {
      rows.addAll(store.readRecords(file.getPath(), ClusterHistory.getClassSchema()));
    }
    rows.sort(
        Comparator.comparingInt(ClusterHistory::getRound)
            .thenComparingInt(ClusterHistory::getCluster));
    return rows;
  }
}
