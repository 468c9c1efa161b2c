package fedlake.jobs.cli;

import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.cli.Option;
import fedlake.core.cluster.Assigner;
import fedlake.core.cluster.ClusterEvents;
import fedlake.core.cluster.ProfileFeatures;
import fedlake.core.cluster.RandomProjection;
import fedlake.core.round.UpdateValidator;
import fedlake.core.store.Store;
import fedlake.core.store.StoreConfig;
import fedlake.jobs.actions.ClusterJob;
import fedlake.jobs.actions.ProfilesJob;
import fedlake.jobs.spark.Spark;
import java.io.PrintStream;
import org.apache.spark.sql.SparkSession;

/**
 * {@code fedlake profiles} and {@code fedlake cluster}: the clustering jobs from the command line.
 */
public final class ClusterCommands {
  public static final CommandLine PROFILES =
      CommandLine.of(
              "profiles",
              "usage: fedlake profiles --store URI [--round R] [--projection-dim P] [--projection-seed S] [--max-abs-value V] [--master M]",
              "  builds one profile per site from the round's valid updates into ROOT/profiles/round=R/ (default: the current round)")
          .with(StoreConfig.STORE)
          .value("round", "R", "the round whose updates to profile (default: the current round)")
          .value(
              "projection-dim",
              "P",
              "length of the projected update direction (default "
                  + RandomProjection.DIMENSION_DEFAULT
                  + ")")
          .value(
              "projection-seed",
              "S",
              "seed of the random projection (default " + RandomProjection.SEED_DEFAULT + ")")
          .value(
              "max-abs-value",
              "V",
              "updates with a larger absolute value are rejected (default "
                  + UpdateValidator.MAX_ABS_VALUE_DEFAULT
                  + ")")
          .with(JobOptions.MASTER, StoreConfig.CONF);

  /** {@code --algorithm}, shared with the clustered simulation. */
  public static final Option ALGORITHM =
      Option.value("algorithm", "A", "Spark MLlib algorithm: kmeans (default), bisecting or gmm");

  public static final Option K_RANGE =
      Option.value(
          "k-range",
          "MIN..MAX",
          "range of k to choose from by silhouette (default "
              + ClusterJob.K_MIN_DEFAULT
              + ".."
              + ClusterJob.K_MAX_DEFAULT
              + ")");
  public static final Option MIN_SIZE =
      Option.value(
          "min-size",
          "N",
          "clusters with fewer sites are dissolved into the nearest other (default "
              + ClusterJob.MIN_SIZE_DEFAULT
              + ")");
  public static final Option WEIGHTS =
      Option.value(
          "weights",
          "H,D,P,E[,C]",
          "weights of label histogram, update direction, position, embedding mean, centroid (default "
              + ProfileFeatures.WEIGHTS_DEFAULT
              + ")");

  public static final CommandLine CLUSTER =
      CommandLine.of(
              "cluster",
              "usage: fedlake cluster --store URI [--round R] [--algorithm kmeans|bisecting|gmm] [--k auto|K] [--k-range 2..8] [--min-size N]",
              "  clusters the round's profiles (default: the latest profiled round) and writes ROOT/assignments/round-R.parquet",
              "  and ROOT/cluster-history/round-R.parquet; run it after 'profiles' and before 'round'")
          .with(StoreConfig.STORE)
          .value("round", "R", "the profiled round to cluster (default: the latest profiled round)")
          .with(ALGORITHM)
          .value(
              "k",
              "K",
              "number of clusters, or auto (default) to choose by silhouette over --k-range")
          .with(K_RANGE, MIN_SIZE, WEIGHTS)
          .value(
              "choice-margin",
              "M",
              "a site's own lowest-loss choice wins within (1 + M) x its nearest distance (default "
                  + Assigner.CHOICE_MARGIN_DEFAULT
                  + ")")
          .value(
              "separable-silhouette",
              "S",
              "silhouette from which one cluster for all counts as a collapse (default "
                  + ClusterEvents.SEPARABLE_SILHOUETTE_DEFAULT
                  + ")")
          .value(
              "k-change-margin",
              "M",
              "keep the previous assignment (warm-started on this round's profiles) unless a fresh"
                  + " fit's silhouette is higher by M or more (default "
                  + ClusterJob.K_CHANGE_MARGIN_DEFAULT
                  + ")")
          .value(
              "restarts",
              "N",
              "k-means runs from N seeds and keeps the lowest cost (default "
                  + ClusterJob.RESTARTS_DEFAULT
                  + ")")
          .value("seed", "S", "seed of the algorithm (default 0)")
          .with(JobOptions.MASTER, StoreConfig.CONF);

  private ClusterCommands() {}

  public static int profiles(String[] argv, PrintStream out) {
    Args args = PROFILES.parse(argv);
    String uri = args.required("store");
    StoreConfig storeConfig = StoreConfig.of(args);
    SparkSession spark = Spark.session("fedlake-profiles", args.string("master", null));
    try {
      Store store =
          Store.open(uri, storeConfig.applyTo(spark.sparkContext().hadoopConfiguration()));
      ProfilesJob.Result result =
          new ProfilesJob(spark, store)
              .round(args.has("round") ? args.integer("round", 0) : null)
              .projectionDimension(
                  args.integer("projection-dim", RandomProjection.DIMENSION_DEFAULT))
              .projectionSeed(args.longValue("projection-seed", RandomProjection.SEED_DEFAULT))
              .maxAbsValue(args.number("max-abs-value", UpdateValidator.MAX_ABS_VALUE_DEFAULT))
              .execute();
      if (result.profiles() == 0) {
        out.printf(
            "Round %d: no valid update to profile (%d file(s) rejected); nothing written%n",
            result.round(), result.rejected());
        return 3;
      }
      out.printf(
          "Round %d: wrote %d profile(s) to %s (%d update file(s) rejected) in %d ms%n",
          result.round(), result.profiles(), result.path(), result.rejected(), result.millis());
      return 0;
    } finally {
      spark.stop();
    }
  }

  public static int cluster(String[] argv, PrintStream out) {
    Args args = CLUSTER.parse(argv);
    String uri = args.required("store");
    StoreConfig storeConfig = StoreConfig.of(args);
    ClusterJob.Result result;
    SparkSession spark = Spark.session("fedlake-cluster", args.string("master", null));
    try {
      Store store =
          Store.open(uri, storeConfig.applyTo(spark.sparkContext().hadoopConfiguration()));
      ClusterJob job =
          new ClusterJob(spark, store)
              .round(args.has("round") ? args.integer("round", 0) : null)
              .algorithm(args.string("algorithm", ClusterJob.KMEANS))
              .k(args.string("k", "auto"))
              .kRange(
                  args.string(
                      "k-range", ClusterJob.K_MIN_DEFAULT + ".." + ClusterJob.K_MAX_DEFAULT))
              .minSize(args.integer("min-size", ClusterJob.MIN_SIZE_DEFAULT))
              .choiceMargin(args.number("choice-margin", Assigner.CHOICE_MARGIN_DEFAULT))
              .separableSilhouette(
                  args.number("separable-silhouette", ClusterEvents.SEPARABLE_SILHOUETTE_DEFAULT))
              .kChangeMargin(args.number("k-change-margin", ClusterJob.K_CHANGE_MARGIN_DEFAULT))
              .restarts(args.integer("restarts", ClusterJob.RESTARTS_DEFAULT))
              .seed(args.longValue("seed", 0));
      if (args.has("weights")) {
        job.weights(ProfileFeatures.parse(args.required("weights")));
      }
      result = job.execute();
    } finally {
      spark.stop();
    }
    out.print(ClusterJob.describe(result));
    return 0;
  }
}
