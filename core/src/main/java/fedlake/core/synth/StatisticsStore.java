package fedlake.core.synth;

import fedlake.core.InvalidInputException;
import fedlake.core.store.ParquetFiles;
import fedlake.core.store.Store;
import fedlake.schema.ClassStatistics;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.ref.SoftReference;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.fs.Path;

/**
 * What the server keeps of site statistics between rounds, in the store:
 *
 * <ul>
 *   <li>{@code ROOT/statistics/SITE.parquet}: the latest class statistics an accepted update of the
 *       site carried, one {@code ClassStatistics} row a class, with their fingerprint ({@link
 *       SiteStatistics#fingerprint}) and the round under the footer keys {@value #FINGERPRINT_KEY}
 *       and {@value #ROUND_KEY}. Written atomically by the round job; the edge runner reads the
 *       footer to decide whether to send its statistics again.
 *   <li>{@code ROOT/calibration/cluster-C.gaussians}: the factored class Gaussians CCVR pooled for
 *       cluster C last ({@link PooledGaussians}), under the key of what was pooled. Also kept in
 *       this JVM (softly) so that a simulation does not read it back every round.
 * </ul>
 */
public final class StatisticsStore {
  public static final String FINGERPRINT_KEY = "fedlake.statistics.fingerprint";
  public static final String ROUND_KEY = "fedlake.statistics.round";
  private static final Map<String, SoftReference<PooledGaussians>> IN_MEMORY =
      new ConcurrentHashMap<>();

  private final Store store;

  public StatisticsStore(Store store) {
    this.store = store;
  }

  public Store store() {
    return store;
  }

  /** {@code ROOT/statistics/SITE.parquet}. */
  public Path file(String site) {
    return store.path("statistics/" + Store.checkSite(site) + ".parquet");
  }

  /** {@code ROOT/calibration/cluster-C.gaussians}. */
  public Path gaussiansFile(int cluster) {
    return store.path("calibration/cluster-" + cluster + ".gaussians");
  }

  /**
   * The fingerprint of the statistics the server holds for {@code site}; null when it holds none or
   * the file cannot be read.
   */
  public String fingerprint(String site) {
    Path file = file(site);
    try {
      if (!store.fileSystem().exists(file)) {
        return null;
      }
      return ParquetFiles.footer(file, store.conf()).get(FINGERPRINT_KEY);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Replaces the statistics held for {@code site} (atomically: readers see the old file or the new
   * one).
   */
  public void write(String site, int round, List<ClassStatistics> statistics, String fingerprint) {
    Path file = file(site);
    try {
      store.writeAtomically(
          file,
          path ->
              ParquetFiles.write(
                  path,
                  store.conf(),
                  ClassStatistics.getClassSchema(),
                  statistics,
                  Map.of(FINGERPRINT_KEY, fingerprint, ROUND_KEY, Integer.toString(round))));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot write the statistics of site " + site + " to " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The statistics held for {@code site} as moments; checks that their content still has {@code
   * fingerprint} (a file changed behind the round job's back is an error, not a silent change of
   * the calibration).
   */
  public List<ClassMoments> read(String site, String fingerprint) {
    Path file = file(site);
    List<ClassStatistics> rows =
        ParquetFiles.read(file, store.conf(), ClassStatistics.getClassSchema());
    String actual = SiteStatistics.fingerprint(rows);
    if (!actual.equals(fingerprint)) {
      throw new InvalidInputException(
          file.toString(),
          "holds statistics with fingerprint " + actual + ", expected " + fingerprint);
    }
    return rows.stream().map(ClassMoments::fromAvro).toList();
  }

  /**
   * The Gaussians cached for {@code cluster} under {@code key}, from this JVM or the store; null
   * when there are none for that key.
   */
  public PooledGaussians cached(int cluster, String key) {
    Path file = gaussiansFile(cluster);
    SoftReference<PooledGaussians> reference = IN_MEMORY.get(file.toString());
    PooledGaussians held = reference == null ? null : reference.get();
    if (held != null && held.key().equals(key)) {
      return held;
    }
    try (InputStream in = store.fileSystem().open(file)) {
      PooledGaussians read =
          PooledGaussians.read(new java.io.BufferedInputStream(in, 1 << 20), key);
      if (read != null) {
        IN_MEMORY.put(file.toString(), new SoftReference<>(read));
      }
      return read;
    } catch (FileNotFoundException e) {
      return null;
    } catch (IOException | RuntimeException e) {
      return null; // an unreadable cache is a miss: the round pools and factors again and replaces
      // it
    }
  }

  /** Forgets the Gaussians kept in this JVM, as a new process would (tests, benchmarks). */
  public static void forgetInMemory() {
    IN_MEMORY.clear();
  }

  /** Replaces the cached Gaussians of {@code cluster} (atomically), here and in this JVM. */
  public void cache(int cluster, PooledGaussians gaussians) {
    Path file = gaussiansFile(cluster);
    try {
      store.writeAtomically(
          file,
          path -> {
            try (OutputStream out =
                new java.io.BufferedOutputStream(store.fileSystem().create(path, true), 1 << 20)) {
              gaussians.write(out);
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot write the calibration cache " + file + ": " + e.getMessage(), e);
    }
    IN_MEMORY.put(file.toString(), new SoftReference<>(gaussians));
  }
}
