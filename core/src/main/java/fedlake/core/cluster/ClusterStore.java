package fedlake.core.cluster;

import fedlake.core.InvalidInputException;
import fedlake.core.store.ParquetFiles;
import fedlake.core.store.Store;
import fedlake.schema.ClusterHistory;
import fedlake.schema.SiteAssignment;
import fedlake.schema.SiteProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
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

  /** Profiles a part file holds (about 2.5 KB each at 100 classes). */
  private static final int PROFILE_PART_ROWS = 50_000;

  /**
   * Writes the round's profiles to {@code ROOT/profiles/round=R/}, replacing an earlier run's: the
   * part files go to a hidden staging folder that replaces the round's partition when all are
   * written, so a rerun replaces, never adds.
   */
  public static void writeProfiles(Store store, int round, List<SiteProfile> profiles) {
    Path target = profilesRound(store, round);
    Path staging = new Path(profilesDir(store), ".round=" + round + "-" + UUID.randomUUID());
    FileSystem fs = store.fileSystem();
    try {
      for (int from = 0, part = 0; from < profiles.size(); from += PROFILE_PART_ROWS, part++) {
        ParquetFiles.write(
            new Path(staging, String.format("part-%05d.parquet", part)),
            store.conf(),
            SiteProfile.getClassSchema(),
            profiles.subList(from, Math.min(profiles.size(), from + PROFILE_PART_ROWS)));
      }
      if (fs.exists(target)) {
        fs.delete(target, true);
      }
      if (!fs.rename(staging, target)) {
        throw new IOException("Cannot rename " + staging + " to " + target);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot write profiles of round " + round + " to " + target + ": " + e.getMessage(), e);
    } finally {
      try {
        if (fs.exists(staging)) {
          fs.delete(staging, true);
        }
      } catch (IOException e) {
        // the staging folder is hidden from readers; a leftover does no harm
      }
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
