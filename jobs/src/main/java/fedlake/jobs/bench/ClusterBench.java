package fedlake.jobs.bench;

import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.store.Store;
import fedlake.jobs.actions.ClusterJob;
import fedlake.jobs.spark.Spark;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;

/**
 * {@code fedlake bench cluster}: wall time and peak JVM heap (driver and local executors) of the
 * cluster job on seeded profiles, at the requested size and at a reference size measured in the
 * same run; prints the ratios. Asserts nothing.
 */
public final class ClusterBench {
  static final CommandLine COMMAND =
      CommandLine.of(
              "bench cluster",
              "usage: fedlake bench cluster [--profiles 100000] [--reference 10000] [--algorithm kmeans] [--k auto|K]")
          .value("profiles", "N", "seeded profiles of the measured run (default 100000)")
          .value("reference", "N", "profiles of the reference run (default 10000)")
          .value("algorithm", "A", "kmeans (default), bisecting or gmm")
          .value("k", "K", "number of clusters, or auto (default)")
          .value("k-range", "MIN..MAX", "range for --k auto (default 2..8)")
          .value("groups", "G", "true groups the profiles are drawn from (default 5)")
          .value("classes", "C", "classes of the profiles' label histograms (default 100)")
          .value("projection-dim", "P", "projected values a profile (default 128)")
          .with(fedlake.jobs.cli.JobOptions.MASTER);

  private ClusterBench() {}

  static int run(String[] argv, PrintStream out) {
    Args args = COMMAND.parse(argv);
    int profiles = args.integer("profiles", 100_000);
    int reference = args.integer("reference", 10_000);
    int groups = args.integer("groups", 5);
    int classes = args.integer("classes", 100);
    int dimension = args.integer("projection-dim", 128);
    String algorithm = args.string("algorithm", ClusterJob.KMEANS);
    String k = args.string("k", "auto");
    String kRange = args.string("k-range", "2..8");
    SparkSession spark = Spark.session("fedlake-bench-cluster", args.string("master", null));
    try {
      out.printf(
          Locale.ROOT,
          "bench cluster: %s, k %s (range %s), %d groups, profiles of %d classes + %d projected values, master %s%n",
          algorithm,
          k,
          kRange,
          groups,
          classes,
          dimension,
          spark.sparkContext().master());
      out.printf(
          Locale.ROOT,
          "%10s %10s %12s %14s %8s %14s%n",
          "profiles",
          "seconds",
          "peak heap MB",
          "k (silhouette)",
          "ARI",
          "profiles/s");
      Measure small =
          measure(spark, reference, groups, classes, dimension, algorithm, k, kRange, out);
      Measure large =
          measure(spark, profiles, groups, classes, dimension, algorithm, k, kRange, out);
      out.printf(
          Locale.ROOT,
          "ratio %d vs %d profiles (x%.1f): time x%.2f, peak heap x%.2f%n",
          profiles,
          reference,
          (double) profiles / reference,
          large.seconds() / small.seconds(),
          (double) large.peakHeap() / small.peakHeap());
      return 0;
    } finally {
      spark.stop();
    }
  }

  record Measure(double seconds, long peakHeap) {}

  private static Measure measure(
      SparkSession spark,
      int count,
      int groups,
      int classes,
      int dimension,
      String algorithm,
      String k,
      String kRange,
      PrintStream out) {
    try {
      java.nio.file.Path dir = Files.createTempDirectory("fedlake-bench-cluster-");
      Store store = Store.open(dir.toUri().toString(), new Configuration());
      SyntheticProfiles.Generated generated =
          SyntheticProfiles.generate(count, groups, classes, dimension, 0.8, 0, count);
      SyntheticProfiles.write(store, 0, generated.profiles(), Math.max(1, count / 10_000));
      generated =
          new SyntheticProfiles.Generated(null, generated.groups()); // let the generator's copy go
      Heap.resetPeaks(); // collects garbage first
      long started = System.nanoTime();
      ClusterJob.Result result =
          new ClusterJob(spark, store).round(0).algorithm(algorithm).k(k).kRange(kRange).execute();
      double seconds = (System.nanoTime() - started) / 1e9;
      long peak = Heap.peak();
      int[] found = new int[count];
      for (int s = 0; s < count; s++) {
        found[s] = result.assignments().get(String.format("site-%06d", s));
      }
      double ari = fedlake.core.cluster.AdjustedRandIndex.of(found, generated.groups());
      out.printf(
          Locale.ROOT,
          "%10d %10.1f %12.0f %14s %8.4f %14.0f%n",
          count,
          seconds,
          peak / 1e6,
          result.k()
              + (result.silhouette() == null
                  ? ""
                  : String.format(Locale.ROOT, " (%.3f)", result.silhouette())),
          ari,
          count / seconds);
      Heap.deleteTree(dir);
      return new Measure(seconds, peak);
    } catch (IOException e) {
      throw new UncheckedIOException("bench cluster: " + e.getMessage(), e);
    }
  }
}
