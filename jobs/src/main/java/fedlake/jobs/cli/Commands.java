package fedlake.jobs.cli;

import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.init.Federation;
import fedlake.core.round.AuditStatus;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.store.Store;
import fedlake.core.store.StoreConfig;
import fedlake.jobs.report.HistoryTable;
import fedlake.jobs.spark.Spark;
import fedlake.jobs.spark.SparkScanner;
import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import fedlake.schema.UpdateAudit;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** The server-side commands that need no simulation: init, round, history. */
public final class Commands {
  /**
   * init flag: a store already initialised by the same command line (recorded in spec version 1) is
   * left as it is, exit 0, so that a retried task succeeds; any other existing federation is still
   * refused.
   */
  static final String EXISTS_OK = "exists-ok";

  /** {@code fedlake init}. */
  public static final CommandLine INIT =
      CommandLine.of(
              "init",
              "usage: fedlake init --store URI --dim D --classes C [--clusters K] [--logit-scale S] [--sites a,b,c] [--conf KEY=VALUE]")
          .with(StoreConfig.STORE)
          .value("dim", "D", "embedding dimension of the model")
          .value("classes", "C", "number of classes")
          .value("clusters", "K", "models, one per cluster of sites (default 1)")
          .value(
              "logit-scale",
              "S",
              "logits = S * W x + b (default "
                  + fedlake.core.model.Models.DEFAULT_LOGIT_SCALE
                  + ")")
          .value(
              "sites",
              "a,b,c",
              "only these sites may upload (the registry ROOT/_sites); without it any site may")
          .flag(
              EXISTS_OK,
              "a store initialised by this same command line is left as it is (exit 0: a retried task)")
          .text("  spec options: what sites do and how the round aggregates")
          .with(SpecCommands.all())
          .text(
              "  round-0 head: --bootstrap zero-shot --text FILE [--zero-shot-scale 100], or"
                  + " --bootstrap synthetic --synthetic TABLE [--seed S]")
          .with(Preparation.INIT_OPTIONS)
          .with(
              Preparation.TEXT.withHelp(
                  "class text embeddings (.npy classes x dim, or Parquet DatasetRow with label ="
                      + " class): the zero-shot head of --bootstrap zero-shot, or with --model cache"
                      + " the cache's zero-shot head part (default zeros)"))
          .text(
              "  a cache model: --model cache --keys PATH [--text FILE] [--cache-alpha A] [--cache-beta B]")
          .with(CacheInit.OPTIONS)
          .with(StoreConfig.CONF);

  /** {@code fedlake round}; {@code --deploy-mode} and {@code --outcome} are ClusterSubmit's. */
  public static final CommandLine ROUND =
      CommandLine.of(
              "round",
              "usage: fedlake round --store URI [--round R] [--master M] [--conf KEY=VALUE]   (strategy and limits: fedlake spec)",
              "       [--deploy-mode cluster]   with --master spark://HOST:PORT: the driver runs on a worker; exits with its code",
              "       [--outcome URI]   also write the exit code to this file (docs/cluster.md)")
          .with(StoreConfig.STORE)
          .value("round", "R", "round to aggregate (default: the current round)")
          .with(JobOptions.MASTER)
          .with(
              Preparation.CALIBRATE.withHelp(
                  "CCVR: re-fit the aggregated head on virtual features sampled from the pooled"
                      + " class statistics of the accepted updates"))
          .with(Preparation.CALIBRATION)
          .value("seed", "S", "seed of the virtual features of --calibrate (default 0)")
          .value(
              "probe",
              "PATH",
              "labelled data for --calibrate: its accuracy before and after calibration goes into history")
          .flag(
              "profiles",
              "also build every accepted update's site profile in the same read and write them to"
                  + " ROOT/profiles/round=R (then 'fedlake cluster'; docs/clustering.md)")
          .with(StoreConfig.CONF);

  /** {@code fedlake history}. */
  public static final CommandLine HISTORY =
      CommandLine.of(
              "history", "usage: fedlake history --store URI [--audit ROUND] [--conf KEY=VALUE]")
          .with(StoreConfig.STORE)
          .value(
              "audit",
              "ROUND",
              "also print that round's audit: every update file with its status and reason")
          .with(StoreConfig.CONF);

  private Commands() {}

  public static int init(String[] argv, PrintStream out) {
    Args args = INIT.parse(argv);
    Store store = Store.open(args.required("store"), StoreConfig.of(args).hadoop());
    String change = "init " + String.join(" ", argv);
    if (args.flag(EXISTS_OK) && store.latest().isPresent()) {
      fedlake.schema.FederationSpec first = fedlake.core.spec.Specs.read(store, 1);
      if (first.getChange().equals(change)) {
        out.printf(
            "%s was initialised by this same command already (spec version 1 of %s, now at round %d); nothing to do%n",
            store.root(), first.getCreatedTime(), store.requireLatest().round());
        return 0;
      }
    }
    Federation federation = new Federation(store);
    boolean cache =
        fedlake.core.model.Models.CACHE.equals(
            args.string("model", fedlake.core.model.Models.HEAD));
    if (cache
        || !Preparation.initBootstrap(
            args,
            federation,
            store,
            (float) args.number("logit-scale", fedlake.core.model.Models.DEFAULT_LOGIT_SCALE))) {
      federation.dimension(args.integer("dim", 0)).classes(args.integer("classes", 0));
    }
    federation
        .clusters(args.integer("clusters", 1))
        .logitScale(
            (float) args.number("logit-scale", fedlake.core.model.Models.DEFAULT_LOGIT_SCALE))
        .change(change)
        .adjust(spec -> SpecCommands.apply(args, spec));
    if (args.has("sites")) {
      federation.sites(
          Arrays.stream(args.required("sites").split(","))
              .map(String::trim)
              .filter(s -> !s.isEmpty())
              .toList());
    }
    String kind =
        CacheInit.configure(
            args,
            federation,
            args.integer("dim", 0),
            args.integer("classes", 0),
            (float) args.number("logit-scale", fedlake.core.model.Models.DEFAULT_LOGIT_SCALE),
            StoreConfig.of(args).hadoop());
    List<Model> models = federation.execute();
    fedlake.schema.FederationSpec spec = fedlake.core.spec.Specs.require(store);
    out.printf(
        "Initialised %s: round 0, %d x %d %s, models %s; spec version 1: strategy %s, %s sites%n",
        store.root(),
        models.get(0).getClassCount(),
        models.get(0).getDimension(),
        kind.equals("cache")
            ? "cache model with " + models.get(0).getCacheLabels().size() + " keys"
            : "head",
        models.stream().map(Model::getVersion).toList(),
        spec.getStrategy().getName(),
        fedlake.core.spec.Specs.id(spec.getClient().getAlgorithm()));
    return 0;
  }

  public static int round(String[] argv, PrintStream out) {
    Args args = ROUND.parse(argv);
    Preparation calibration = Preparation.calibrationFromArgs("round", args);
    String uri = args.required("store");
    StoreConfig storeConfig = StoreConfig.of(args);
    SparkSession spark = Spark.session("fedlake-round", args.string("master", null));
    try {
      // SparkScanner hands the driver's Hadoop configuration to the tasks, so these settings reach
      // them too.
      Store store =
          Store.open(uri, storeConfig.applyTo(spark.sparkContext().hadoopConfiguration()));
      RoundResult result =
          new RoundJob(store)
              .scanner(new SparkScanner(spark))
              .round(args.has("round") ? args.integer("round", 0) : null)
              .profiles(args.flag("profiles"))
              .calibration(
                  calibration.calibrator(
                      args.has("probe")
                          ? fedlake.core.data.DatasetFiles.read(
                              args.required("probe"), store.conf())
                          : null,
                      args.longValue("seed", 0)))
              .execute();
      report(result, out);
      result.history().stream()
          .filter(h -> h.getCalibrationMessage() != null)
          .forEach(
              h -> out.println("  cluster " + h.getCluster() + ": " + h.getCalibrationMessage()));
      return exitCode(result.status());
    } finally {
      spark.stop();
    }
  }

  /** Exit code of the round command, by outcome. */
  public static final int EXIT_NO_VALID_UPDATES = 3;

  public static final int EXIT_LOST_RACE = 4;

  /**
   * 0 published (or already done), 3 no valid update, 4 lost the race to another round job on the
   * same round.
   */
  public static int exitCode(RoundResult.Status status) {
    return switch (status) {
      case PUBLISHED, ALREADY_DONE -> 0;
      case NO_VALID_UPDATES -> EXIT_NO_VALID_UPDATES;
      case LOST_RACE -> EXIT_LOST_RACE;
    };
  }

  static void report(RoundResult result, PrintStream out) {
    out.println(result.message());
    for (UpdateAudit a : result.audit()) {
      if (!AuditStatus.ACCEPTED.is(a.getStatus())) {
        out.println("  rejected " + a.getFile() + ": " + a.getReason());
      }
    }
  }

  public static int history(String[] argv, PrintStream out) {
    Args args = HISTORY.parse(argv);
    Store store = Store.open(args.required("store"), StoreConfig.of(args).hadoop());
    List<RoundHistory> rows = store.readHistory();
    if (rows.isEmpty() && store.latest().isEmpty()) {
      throw new IllegalStateException(
          "Cannot show history of "
              + store.root()
              + ": it holds no federation (no model pointer "
              + Store.LATEST
              + " and no round history)");
    }
    if (rows.isEmpty()) {
      out.println("No round history in " + store.root() + " yet");
      return 0;
    }
    HistoryTable.print(out, rows);
    if (args.has("audit")) {
      int round = args.integer("audit", 0);
      out.println();
      out.println("Audit of round " + round + ":");
      for (UpdateAudit a : store.readAudit(round)) {
        out.printf(
            "  %-8s %-12s %s%s%n",
            a.getStatus(),
            a.getSite() == null ? "?" : a.getSite(),
            a.getFile(),
            a.getReason() == null ? "" : "  -- " + a.getReason());
      }
    }
    return 0;
  }
}
