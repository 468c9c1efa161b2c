package fedlake.core.round;

import fedlake.core.synth.ClassMoments;
import fedlake.core.synth.StatisticsPool;
import fedlake.core.synth.StatisticsStore;
import fedlake.schema.ClassStatistics;
import fedlake.schema.Model;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileSystem;

/**
 * The class statistics one cluster's calibration may use this round: per accepted site with a
 * statistics fingerprint, either the statistics its update carried (pooled in the scan) or, when it
 * sent none, the ones the store holds for it if their fingerprint is the one the update claims.
 * Sites that claim a fingerprint the store does not hold contribute nothing ({@link #unmatched}).
 * Pooling is deferred ({@link #pool}) so that a calibrator that has the Gaussians of the same
 * (site, fingerprint) set cached ({@link #key}) reads and pools nothing.
 */
public final class CalibrationStatistics {
  /** One site's contribution: its fingerprint, and whether its update carried the statistics. */
  public record Source(String site, String fingerprint, boolean sent) {}

  private final int cluster;
  private final int dimension;
  private final List<Source> sources;
  private final List<String> unmatched;
  private final StatisticsPool sent;
  private final StatisticsStore store;

  public CalibrationStatistics(
      int cluster,
      int dimension,
      List<Source> sources,
      List<String> unmatched,
      StatisticsPool sent,
      StatisticsStore store) {
    this.cluster = cluster;
    this.dimension = dimension;
    this.sources = sources.stream().sorted(Comparator.comparing(Source::site)).toList();
    this.unmatched = unmatched.stream().sorted().toList();
    this.sent = sent;
    this.store = store;
  }

  /** Statistics sent with the updates only, nothing from a store (tests, tools). */
  public static CalibrationStatistics of(int cluster, int dimension, StatisticsPool sent) {
    List<Source> sources = new ArrayList<>();
    for (int i = 0; i < sent.contributions(); i++) {
      sources.add(new Source(String.format(java.util.Locale.ROOT, "update-%06d", i), null, true));
    }
    return new CalibrationStatistics(cluster, dimension, sources, List.of(), sent, null);
  }

  /**
   * Settles where each accepted site's statistics come from. An update that carried statistics
   * other than the ones the store holds for its site replaces them (read once more from the update
   * file, written atomically); that is the only write.
   */
  static Map<Integer, CalibrationStatistics> settle(
      StatisticsStore store,
      FileSystem fs,
      RoundRules rules,
      int round,
      Map<Integer, Model> targets,
      List<UpdateCheck> accepted,
      Map<Integer, StatisticsPool> pooled) {
    Map<Integer, List<Source>> sources = new TreeMap<>();
    Map<Integer, List<String>> unmatched = new TreeMap<>();
    UpdateScan scan = new UpdateScan(fs, rules);
    for (UpdateCheck check : accepted) {
      String fingerprint = check.statisticsFingerprint();
      if (fingerprint == null) {
        continue; // the site did not opt in
      }
      int cluster = check.cluster();
      String held = store.fingerprint(check.site());
      if (check.statisticsSent()) {
        if (!fingerprint.equals(held)) {
          List<ClassStatistics> statistics =
              scan.statistics(
                  new UpdateFile(check.file(), check.fileBytes()), targets.get(cluster));
          store.write(check.site(), round, statistics, fingerprint);
        }
        sources
            .computeIfAbsent(cluster, c -> new ArrayList<>())
            .add(new Source(check.site(), fingerprint, true));
      } else if (fingerprint.equals(held)) {
        sources
            .computeIfAbsent(cluster, c -> new ArrayList<>())
            .add(new Source(check.site(), fingerprint, false));
      } else {
        unmatched.computeIfAbsent(cluster, c -> new ArrayList<>()).add(check.site());
      }
    }
    Map<Integer, CalibrationStatistics> result = new TreeMap<>();
    targets.forEach(
        (cluster, base) ->
            result.put(
                cluster,
                new CalibrationStatistics(
                    cluster,
                    base.getDimension(),
                    sources.getOrDefault(cluster, List.of()),
                    unmatched.getOrDefault(cluster, List.of()),
                    pooled.getOrDefault(cluster, new StatisticsPool(base.getDimension())),
                    store)));
    return result;
  }

  public int cluster() {
    return cluster;
  }

  /** The contributing sites, sorted by name. */
  public List<Source> sources() {
    return sources;
  }

  /**
   * Sites whose update claimed a statistics fingerprint the store does not hold (and carried no
   * statistics), sorted.
   */
  public List<String> unmatched() {
    return unmatched;
  }

  public boolean isEmpty() {
    return sources.isEmpty();
  }

  public long sentCount() {
    return sources.stream().filter(Source::sent).count();
  }

  public long storedCount() {
    return sources.stream().filter(s -> !s.sent()).count();
  }

  /** Where to cache pooled Gaussians; null without a store. */
  public StatisticsStore store() {
    return store;
  }

  /**
   * Names what would be pooled: SHA-256 over the dimension and the sorted (site, fingerprint) list.
   * Equal keys pool equal statistics (the fingerprints are content hashes).
   */
  public String key() {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    StringBuilder text = new StringBuilder("dimension ").append(dimension).append('\n');
    for (Source s : sources) {
      text.append(s.site()).append(' ').append(s.fingerprint()).append('\n');
    }
    return HexFormat.of()
        .formatHex(digest.digest(text.toString().getBytes(StandardCharsets.UTF_8)));
  }

  /**
   * Pools the sent statistics with the stored ones of the other sources (read now, their
   * fingerprints checked).
   */
  public StatisticsPool pool() {
    StatisticsPool pool = new StatisticsPool(dimension).merge(sent);
    for (Source s : sources) {
      if (!s.sent()) {
        List<ClassMoments> held = store.read(s.site(), s.fingerprint());
        pool.add(held);
      }
    }
    return pool;
  }
}
