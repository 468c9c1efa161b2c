package fedlake.jobs.simulation;

import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.cluster.AdjustedRandIndex;
import fedlake.core.cluster.ProfileFeatures;
import fedlake.core.data.Dataset;
import fedlake.core.data.DatasetFiles;
import fedlake.core.data.DirichletSplit;
import fedlake.core.init.Federation;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.store.Store;
import fedlake.core.store.StoreConfig;
import fedlake.core.train.TrainSettings;
import fedlake.edge.EdgeMain;
import fedlake.edge.EdgeTrain;
import fedlake.jobs.actions.ClusterJob;
import fedlake.jobs.actions.ProfilesJob;
import fedlake.jobs.cli.ClusterCommands;
import fedlake.jobs.cli.JobOptions;
import fedlake.jobs.report.LinePlot;
import fedlake.jobs.spark.Spark;
import fedlake.jobs.spark.SparkScanner;
import fedlake.schema.Model;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.SparkSession;

/**
 * {@code fedlake simulate --data DIR1,DIR2,... [--clusters auto|K]}: a federation in which every
 * site holds data of one of several datasets, run with clustered federated learning (profiles job,
 * cluster job, per-cluster round job, edge runners that train their cluster's model) and, on the
 * same sites, with one global model for comparison. Reports per-site test accuracy (each site on
 * its own dataset's test rows with its cluster's model), and the adjusted Rand index of the final
 * assignment against the sites' true datasets.
 */
public final class ClusteredSimulation {
  public static final CommandLine COMMAND =
      CommandLine.of(
              "simulate",
              "usage: fedlake simulate --data DIR1,DIR2,... [--label-space shared|disjoint] [--clusters auto|K] [options]")
          .value(
              "data",
              "DIRS",
              "comma-separated folders, each with train_X.npy, train_y.npy, test_X.npy, test_y.npy;"
                  + " site i holds data of dataset i mod D (a Dirichlet label split within each dataset)")
          .value(
              "label-space",
              "S",
              "shared (default): each dataset keeps its class ids, so one id means different classes;"
                  + " disjoint: ids are offset into one union of all classes")
          .value(
              "clusters",
              "C",
              "auto (default: k by silhouette over --k-range) or a fixed number of clusters")
          .with(ClusterCommands.ALGORITHM, ClusterCommands.K_RANGE, ClusterCommands.MIN_SIZE)
          .with(ClusterCommands.WEIGHTS)
          .text(
              "  as for the single-dataset simulate; the global-model baseline runs in URI-global:")
          .with(Simulate.SITES, Simulate.ALPHA, Simulate.ROUNDS, Simulate.SEED)
          .with(Simulate.STORE, Simulate.REPORT_JSON, JobOptions.MASTER, Simulate.STRATEGY)
          .with(Simulate.TRAINING)
          .flag("no-baseline", "skip the global-model baseline")
          .flag(
              "personalise",
              "the global-model federation runs FedDAT personalisation (docs/personalisation.md):"
                  + " per site, on test rows drawn with its own label distribution, the personalised"
                  + " model against the global and the site's cluster model")
          .with(Simulate.SITE_TEST_ROWS)
          .value(
              "plot",
              "FILE",
              "PNG: per-site accuracy per round (per-cluster and global models), ARI, centralised reference")
          .with(StoreConfig.CONF);

  public static final String USAGE = COMMAND.usage();

  private List<String> dataDirs;
  private boolean disjoint;
  private Integer clusters;
  private String algorithm = ClusterJob.KMEANS;
  private String kRange = ClusterJob.K_MIN_DEFAULT + ".." + ClusterJob.K_MAX_DEFAULT;
  private int minSize = ClusterJob.MIN_SIZE_DEFAULT;
  private ProfileFeatures weights = ProfileFeatures.defaults();
  private int sites = 10;
  private double alpha = 0.5;
  private int rounds = 10;
  private long seed = 0;
  private TrainSettings settings = TrainSettings.defaults(0);
  private String storeUri;
  private StoreConfig storeConfig = StoreConfig.empty();
  private Path reportJson;
  private Path plot;
  private String strategy = "scaffold";
  private String master;
  private boolean baseline = true;
  private PrintStream out;
  private boolean personalise;
  private int siteTestRows = PersonalEvaluation.ROWS_DEFAULT;
  private PersonalEvaluation.Result personal;

  /** Whether {@code simulate} should run this instead of the single-dataset simulation. */
  public static boolean wanted(String[] argv) {
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      if (a.equals("--clusters")
          || a.startsWith("--clusters=")
          || a.equals("--label-space")
          || a.startsWith("--label-space=")) {
        return true;
      }
      if (a.equals("--data") && i + 1 < argv.length && argv[i + 1].contains(",")) {
        return true;
      }
      if (a.startsWith("--data=") && a.contains(",")) {
        return true;
      }
    }
    return false;
  }

  public static ClusteredSimulation fromArgs(String[] argv) {
    Args args = COMMAND.parse(argv);
    ClusteredSimulation s = new ClusteredSimulation();
    s.dataDirs =
        Arrays.stream(args.required("data").split(","))
            .map(String::trim)
            .filter(d -> !d.isEmpty())
            .toList();
    String space = args.string("label-space", "shared");
    if (!space.equals("shared") && !space.equals("disjoint")) {
      throw new IllegalArgumentException(
          "simulate: --label-space must be 'shared' or 'disjoint', got '" + space + "'");
    }
    s.disjoint = space.equals("disjoint");
    String c = args.string("clusters", "auto");
    if (!c.equals("auto")) {
      s.clusters = args.integer("clusters", 1);
      if (s.clusters < 1) {
        throw new IllegalArgumentException(
            "simulate: --clusters must be 'auto' or at least 1, got " + s.clusters);
      }
    }
    s.algorithm = args.string("algorithm", ClusterJob.KMEANS);
    s.kRange = args.string("k-range", s.kRange);
    s.minSize = args.integer("min-size", ClusterJob.MIN_SIZE_DEFAULT);
    if (args.has("weights")) {
      s.weights = ProfileFeatures.parse(args.required("weights"));
    }
    s.sites = args.integer("sites", 10);
    if (s.sites < s.dataDirs.size()) {
      throw new IllegalArgumentException(
          "simulate: --sites " + s.sites + " is fewer than the " + s.dataDirs.size() + " datasets");
    }
    s.alpha = args.number("alpha", 0.5);
    s.rounds = args.integer("rounds", 10);
    if (s.rounds < 1) {
      throw new IllegalArgumentException(
          "simulate: --rounds must be at least 1 for a clustered simulation, got " + s.rounds);
    }
    s.seed = args.longValue("seed", 0);
    s.settings =
        EdgeMain.settings(args)
            .withEpochs(args.integer("local-epochs", TrainSettings.EPOCHS_DEFAULT));
    s.storeUri = args.string("store", null);
    s.storeConfig = StoreConfig.of(args);
    s.strategy = args.string("strategy", "scaffold");
    s.master = args.string("master", null);
    s.baseline = !args.flag("no-baseline");
    s.personalise = args.flag("personalise");
    s.siteTestRows = args.integer("site-test-rows", PersonalEvaluation.ROWS_DEFAULT);
    if (s.personalise && !s.baseline) {
      throw new IllegalArgumentException(
          "simulate: --personalise runs in the global-model federation; drop --no-baseline");
    }
    if (!s.personalise && args.has("site-test-rows")) {
      throw new IllegalArgumentException("simulate: --site-test-rows needs --personalise");
    }
    if (s.siteTestRows < 1) {
      throw new IllegalArgumentException(
          "simulate: --site-test-rows must be at least 1, got " + s.siteTestRows);
    }
    if (args.has("report-json")) {
      s.reportJson = Path.of(args.required("report-json"));
    }
    if (args.has("plot")) {
      s.plot = Path.of(args.required("plot"));
    }
    return s;
  }

  /** After {@link #execute()} with --personalise: the last round's per-site evaluation. */
  public PersonalEvaluation.Result personalResult() {
    return personal;
  }

  public ClusteredSimulation progress(PrintStream value) {
    this.out = value;
    return this;
  }

  /** One round: the models published after {@code round} rounds. */
  public record RoundReport(
      int round,
      int k,
      Map<Integer, Integer> sizes,
      double adjustedRandIndex,
      double meanSiteAccuracy,
      Double globalMeanSiteAccuracy,
      boolean collapsed,
      double seconds) {}

  /** One site at the end. */
  public record SiteReport(
      String site,
      String dataset,
      int examples,
      int cluster,
      double accuracy,
      Double globalAccuracy) {}

  /**
   * What centralised training reaches on the same rows (every site's training rows in one place,
   * the same linear head): mean per-site test accuracy with one head per dataset, and with one head
   * for all datasets. Their difference bounds what per-cluster models can gain over one global
   * model.
   */
  public record Reference(int epochs, double perDataset, double oneHead) {}

  /** The simulation's outcome. */
  public record Report(
      List<String> data,
      String labelSpace,
      int sites,
      double alpha,
      int rounds,
      long seed,
      int classes,
      String clusters,
      List<RoundReport> history,
      List<SiteReport> siteReports,
      double adjustedRandIndex,
      double meanSiteAccuracy,
      Double globalMeanSiteAccuracy,
      Reference reference,
      String store,
      String globalStore) {
    public int exitCode() {
      return 0;
    }
  }

  public Report execute() {
    if (dataDirs == null || dataDirs.isEmpty()) {
      throw new IllegalArgumentException("simulate: --data is required");
    }
    org.apache.hadoop.conf.Configuration local = new org.apache.hadoop.conf.Configuration();
    int datasets = dataDirs.size();
    List<Dataset> trains = new ArrayList<>();
    List<Dataset> tests = new ArrayList<>();
    int[] offsets = new int[datasets];
    int classes = 0;
    int dimension = -1;
    for (int d = 0; d < datasets; d++) {
      String dir = dataDirs.get(d);
      Dataset train = DatasetFiles.read(Path.of(dir, "train_X.npy").toString(), local);
      Dataset test = DatasetFiles.read(Path.of(dir, "test_X.npy").toString(), local);
      if (dimension >= 0 && train.dimension() != dimension) {
        throw new IllegalArgumentException(
            "simulate: "
                + dir
                + " has embeddings of dimension "
                + train.dimension()
                + " but "
                + dataDirs.get(0)
                + " has "
                + dimension
                + "; every dataset needs the same encoder");
      }
      if (test.dimension() != train.dimension()) {
        throw new IllegalArgumentException(
            "simulate: "
                + dir
                + ": train rows have dimension "
                + train.dimension()
                + " but test rows have "
                + test.dimension());
      }
      dimension = train.dimension();
      int bound = Math.max(train.classBound(), test.classBound());
      offsets[d] = disjoint ? classes : 0;
      classes = disjoint ? classes + bound : Math.max(classes, bound);
      trains.add(offsets[d] == 0 ? train : shift(train, offsets[d]));
      tests.add(offsets[d] == 0 ? test : shift(test, offsets[d]));
    }
    // site s holds dataset s mod D; each dataset's rows are split over its sites by a Dirichlet
    // label split
    int[] truth = new int[sites];
    List<Dataset> siteData = new ArrayList<>(java.util.Collections.nCopies(sites, (Dataset) null));
    for (int d = 0; d < datasets; d++) {
      List<Integer> mine = new ArrayList<>();
      for (int s = d; s < sites; s += datasets) {
        mine.add(s);
        truth[s] = d;
      }
      int[][] split =
          DirichletSplit.split(trains.get(d).labels(), mine.size(), alpha, seed * 31 + d);
      for (int i = 0; i < mine.size(); i++) {
        siteData.set(mine.get(i), trains.get(d).select(split[i]));
      }
    }
    Reference reference = reference(trains, tests, truth, classes);
    String uri = storeUri != null ? storeUri : Simulate.temporaryStore("fedlake-clustered-");
    String globalUri =
        storeUri != null
            ? storeUri.replaceAll("/+$", "") + "-global"
            : Simulate.temporaryStore("fedlake-global-");
    log(
        "simulate (clustered): %d datasets, %s label space, %d classes, dim %d; %d sites (alpha %s); clusters %s (%s); store %s%s",
        datasets,
        disjoint ? "disjoint" : "shared",
        classes,
        dimension,
        sites,
        alpha,
        clusters == null ? "auto" : clusters,
        algorithm,
        uri,
        storeUri == null ? " (temporary, removed at the end; --store URI keeps one)" : "");
    for (int d = 0; d < datasets; d++) {
      log(
          "  dataset %d: %s (%d train / %d test rows, class ids from %d)",
          d, dataDirs.get(d), trains.get(d).size(), tests.get(d).size(), offsets[d]);
    }
    log(
        "centralised reference (all training rows in one place, %d epochs): mean per-site accuracy %.4f with one head per dataset,"
            + " %.4f with one head for all",
        reference.epochs(), reference.perDataset(), reference.oneHead());

    Path states = Simulate.temporaryFolder("fedlake-site-states-");
    SparkSession spark = Spark.session("fedlake-simulate-clustered", master);
    ExecutorService pool =
        Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors()));
    try {
      var hadoop = storeConfig.applyTo(spark.sparkContext().hadoopConfiguration());
      Store store = Store.open(uri, hadoop);
      Store global = baseline ? Store.open(globalUri, hadoop) : null;
      new Federation(store)
          .dimension(dimension)
          .classes(classes)
          .strategy(strategy)
          .training(settings)
          .execute();
      if (global != null) {
        new Federation(global)
            .dimension(dimension)
            .classes(classes)
            .strategy(strategy)
            .training(settings)
            .adjust(
                spec -> {
                  if (personalise) {
                    spec.getClient()
                        .setPersonalisation(fedlake.core.client.Personalisation.feddat().toSpec());
                  }
                })
            .execute();
      }
      List<String> siteNames = new ArrayList<>();
      List<Dataset> siteTests = new ArrayList<>();
      if (personalise) {
        for (int s = 0; s < sites; s++) {
          siteNames.add(siteName(s));
          siteTests.add(
              PersonalEvaluation.draw(
                  siteData.get(s), tests.get(truth[s]), classes, siteTestRows, seed * 7_919L + s));
        }
        log(
            "personalise: the global-model federation runs FedDAT; %d test rows a site, drawn with its own label distribution",
            siteTestRows);
      }
      SparkScanner scanner = new SparkScanner(spark);
      ClusterJob clusterJob =
          new ClusterJob(spark, store)
              .algorithm(algorithm)
              .k(clusters)
              .kRange(kRange)
              .minSize(minSize)
              .seed(seed)
              .weights(weights);
      List<RoundReport> history = new ArrayList<>();
      Map<String, Integer> assignment = Map.of();
      Map<Integer, Model> models = Map.of();
      Model globalModel = null;
      log(
          "%5s %3s %-22s %6s %10s %10s %8s",
          "round", "k", "sizes", "ARI", "site-acc", "global-acc", "seconds");
      for (int round = 0; round < rounds; round++) {
        long started = System.nanoTime();
        trainAll(pool, store, siteData, round, states, false);
        new ProfilesJob(spark, store).round(round).execute();
        ClusterJob.Result clustered = clusterJob.round(round).execute();
        for (String warning : clustered.warnings()) {
          log("  WARNING: %s", warning);
        }
        RoundResult result = new RoundJob(store).scanner(scanner).round(round).execute();
        if (result.status() != RoundResult.Status.PUBLISHED) {
          throw new IllegalStateException(
              "simulate: round " + round + " published nothing: " + result.message());
        }
        models = new TreeMap<>();
        for (Model m : result.published()) {
          models.put(m.getCluster(), m);
        }
        assignment = clustered.assignments();
        double[][] accuracy = accuracies(models, tests);
        Double globalMean = null;
        if (global != null) {
          trainAll(pool, global, siteData, round, states, true);
          RoundResult g = new RoundJob(global).scanner(scanner).round(round).execute();
          if (g.status() != RoundResult.Status.PUBLISHED) {
            throw new IllegalStateException(
                "simulate: global round " + round + " published nothing: " + g.message());
          }
          globalModel = g.published().get(0);
          double[] globalAccuracy = accuracies(Map.of(0, globalModel), tests)[0];
          globalMean = mean(s -> globalAccuracy[truth[s]]);
          if (personalise) {
            List<fedlake.core.model.Classifier> clusterModels = new ArrayList<>();
            for (int s = 0; s < sites; s++) {
              Integer c = assignment.get(siteName(s));
              clusterModels.add(Models.head(models.get(c == null ? 0 : c)));
            }
            personal =
                PersonalEvaluation.evaluate(
                    globalModel,
                    states,
                    global.root().toString(),
                    siteNames,
                    siteTests,
                    clusterModels);
            log(
                "      per-site test rows: personalised %.4f, local head %.4f, global %.4f, per-cluster %.4f",
                personal.personalised(), personal.local(), personal.global(), personal.other());
          }
        }
        Map<String, Integer> current = assignment;
        Map<Integer, Model> currentModels = models;
        double siteMean =
            mean(s -> accuracy[index(currentModels, current.get(siteName(s)))][truth[s]]);
        double ari = ari(current, truth);
        double seconds = (System.nanoTime() - started) / 1e9;
        history.add(
            new RoundReport(
                round + 1,
                clustered.k(),
                clustered.sizes(),
                ari,
                siteMean,
                globalMean,
                clustered.collapsed(),
                seconds));
        log(
            "%5d %3d %-22s %6.3f %10.4f %10s %8.1f",
            round + 1,
            clustered.k(),
            clustered.sizes(),
            ari,
            siteMean,
            globalMean == null ? "-" : String.format(Locale.ROOT, "%.4f", globalMean),
            seconds);
      }
      double[][] accuracy = accuracies(models, tests);
      double[] globalAccuracy =
          globalModel == null ? null : accuracies(Map.of(0, globalModel), tests)[0];
      List<SiteReport> siteReports = new ArrayList<>();
      for (int s = 0; s < sites; s++) {
        int cluster = assignment.get(siteName(s));
        siteReports.add(
            new SiteReport(
                siteName(s),
                Path.of(dataDirs.get(truth[s])).getFileName().toString(),
                siteData.get(s).size(),
                cluster,
                accuracy[index(models, cluster)][truth[s]],
                globalAccuracy == null ? null : globalAccuracy[truth[s]]));
      }
      RoundReport last = history.get(history.size() - 1);
      Report report =
          new Report(
              dataDirs,
              disjoint ? "disjoint" : "shared",
              sites,
              alpha,
              rounds,
              seed,
              classes,
              clusters == null ? "auto" : String.valueOf(clusters),
              history,
              siteReports,
              last.adjustedRandIndex(),
              last.meanSiteAccuracy(),
              last.globalMeanSiteAccuracy(),
              reference,
              storeUri,
              global == null ? null : globalUri);
      log(
          "%-10s %-14s %9s %8s %9s %11s",
          "site", "dataset", "examples", "cluster", "accuracy", "global-acc");
      for (SiteReport r : siteReports) {
        log(
            "%-10s %-14s %9d %8d %9.4f %11s",
            r.site(),
            r.dataset(),
            r.examples(),
            r.cluster(),
            r.accuracy(),
            r.globalAccuracy() == null
                ? "-"
                : String.format(Locale.ROOT, "%.4f", r.globalAccuracy()));
      }
      if (personal != null) {
        PersonalEvaluation.print(personal, "per-cluster", line -> log("%s", line));
      }
      if (reportJson != null) {
        writeJson(report, reportJson);
        log("report written to %s", reportJson);
      }
      if (plot != null) {
        plot(report, plot);
        log("plot written to %s", plot);
      }
      log(
          "final: adjusted Rand index %.4f; mean per-site test accuracy %.4f with per-cluster models, %s with one global model",
          report.adjustedRandIndex(),
          report.meanSiteAccuracy(),
          report.globalMeanSiteAccuracy() == null
              ? "-"
              : String.format(Locale.ROOT, "%.4f", report.globalMeanSiteAccuracy()));
      return report;
    } finally {
      pool.shutdownNow();
      spark.stop();
      Simulate.removeTemporary(states);
      if (storeUri == null) {
        Simulate.removeTemporary(Path.of(java.net.URI.create(uri)));
        if (baseline) {
          Simulate.removeTemporary(Path.of(java.net.URI.create(globalUri)));
        }
      }
    }
  }

  /**
   * Per-round accuracy of the per-cluster models, the global model, the centralised references, and
   * the ARI.
   */
  private static void plot(Report r, Path file) {
    double[] x = r.history().stream().mapToDouble(RoundReport::round).toArray();
    List<LinePlot.Series> series = new ArrayList<>();
    series.add(
        new LinePlot.Series(
            "per-cluster models",
            x,
            r.history().stream().mapToDouble(RoundReport::meanSiteAccuracy).toArray()));
    if (r.globalMeanSiteAccuracy() != null) {
      series.add(
          new LinePlot.Series(
              "one global model",
              x,
              r.history().stream()
                  .mapToDouble(
                      h ->
                          h.globalMeanSiteAccuracy() == null
                              ? Double.NaN
                              : h.globalMeanSiteAccuracy())
                  .toArray()));
    }
    series.add(
        new LinePlot.Series(
            "adjusted Rand index",
            x,
            r.history().stream().mapToDouble(RoundReport::adjustedRandIndex).toArray()));
    double[] ends = {x[0], x[x.length - 1]};
    series.add(
        new LinePlot.Series(
            "centralised, head per dataset",
            ends,
            new double[] {r.reference().perDataset(), r.reference().perDataset()}));
    LinePlot.write(
        file,
        "fedlake simulate: "
            + r.data().size()
            + " datasets, "
            + r.labelSpace()
            + " label space, "
            + r.sites()
            + " sites",
        "round",
        "mean per-site test accuracy / ARI",
        series);
  }

  /** The centralised reference heads ({@link Centralised}). */
  private Reference reference(List<Dataset> trains, List<Dataset> tests, int[] truth, int classes) {
    TrainSettings central = settings.withSeed(seed);
    int dimension = trains.get(0).dimension();
    double[] perDataset = new double[trains.size()];
    int rows = 0;
    for (int d = 0; d < trains.size(); d++) {
      perDataset[d] =
          Centralised.head(trains.get(d), classes, central).evaluate(tests.get(d)).accuracy();
      rows += trains.get(d).size();
    }
    float[] features = new float[rows * dimension];
    int[] labels = new int[rows];
    int at = 0;
    for (Dataset train : trains) {
      System.arraycopy(train.features(), 0, features, at * dimension, train.size() * dimension);
      System.arraycopy(train.labels(), 0, labels, at, train.size());
      at += train.size();
    }
    Head all =
        Centralised.head(
            Dataset.of("all training rows", features, labels, dimension), classes, central);
    double[] oneHead = new double[tests.size()];
    for (int d = 0; d < tests.size(); d++) {
      oneHead[d] = all.evaluate(tests.get(d)).accuracy();
    }
    return new Reference(
        Centralised.EPOCHS, mean(s -> perDataset[truth[s]]), mean(s -> oneHead[truth[s]]));
  }

  private void trainAll(
      ExecutorService pool,
      Store store,
      List<Dataset> siteData,
      int round,
      Path states,
      boolean single) {
    List<Future<EdgeTrain.Result>> running = new ArrayList<>();
    for (int s = 0; s < sites; s++) {
      TrainSettings siteSettings = settings.withSeed(seed * 1_000_003L + round * 10_007L + s);
      EdgeTrain edge =
          new EdgeTrain(store, siteName(s), siteData.get(s))
              .settings(siteSettings)
              .stateDir(states);
      if (single) {
        edge.cluster(0);
      }
      running.add(pool.submit(edge::execute));
    }
    try {
      for (Future<EdgeTrain.Result> f : running) {
        f.get();
      }
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException(
          "simulate: site training failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("simulate: interrupted", e);
    }
  }

  /** accuracy[model index][dataset] on each dataset's test rows. */
  private static double[][] accuracies(Map<Integer, Model> models, List<Dataset> tests) {
    double[][] accuracy = new double[models.size()][tests.size()];
    int i = 0;
    for (Model m : models.values()) {
      var head = Models.head(m);
      for (int d = 0; d < tests.size(); d++) {
        accuracy[i][d] = head.evaluate(tests.get(d)).accuracy();
      }
      i++;
    }
    return accuracy;
  }

  private static int index(Map<Integer, Model> models, Integer cluster) {
    int i = 0;
    for (int c : models.keySet()) {
      if (cluster != null && c == cluster) {
        return i;
      }
      i++;
    }
    throw new IllegalStateException(
        "simulate: no published model for cluster "
            + cluster
            + " (models: "
            + models.keySet()
            + ")");
  }

  private double mean(java.util.function.IntToDoubleFunction perSite) {
    double sum = 0;
    for (int s = 0; s < sites; s++) {
      sum += perSite.applyAsDouble(s);
    }
    return sum / sites;
  }

  private double ari(Map<String, Integer> assignment, int[] truth) {
    int[] found = new int[sites];
    for (int s = 0; s < sites; s++) {
      Integer c = assignment.get(siteName(s));
      found[s] = c == null ? -1 - s : c;
    }
    return AdjustedRandIndex.of(found, truth);
  }

  private static Dataset shift(Dataset data, int offset) {
    int[] labels = data.labels().clone();
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] >= 0) {
        labels[i] += offset;
      }
    }
    return Dataset.of(data.source(), data.labelSource(), data.features(), labels, data.dimension());
  }

  static String siteName(int index) {
    return Simulate.siteName(index);
  }

  private void log(String format, Object... args) {
    if (out != null) {
      out.println(String.format(Locale.ROOT, format, args));
    }
  }

  static void writeJson(Report r, Path file) {
    StringBuilder json = new StringBuilder("{\n");
    json.append("  \"data\": [");
    for (int i = 0; i < r.data().size(); i++) {
      json.append(i > 0 ? ", " : "").append(Simulate.quote(r.data().get(i)));
    }
    json.append("],\n");
    json.append(
        String.format(
            Locale.ROOT,
            "  \"label_space\": %s,%n  \"sites\": %d,%n  \"alpha\": %s,%n  \"rounds_run\": %d,%n"
                + "  \"seed\": %d,%n  \"classes\": %d,%n  \"clusters\": %s,%n",
            Simulate.quote(r.labelSpace()),
            r.sites(),
            r.alpha(),
            r.rounds(),
            r.seed(),
            r.classes(),
            Simulate.quote(r.clusters())));
    json.append("  \"store\": ").append(Simulate.quote(r.store())).append(",\n");
    json.append("  \"global_store\": ")
        .append(r.globalStore() == null ? "null" : Simulate.quote(r.globalStore()))
        .append(",\n");
    json.append("  \"rounds\": [\n");
    for (int i = 0; i < r.history().size(); i++) {
      RoundReport h = r.history().get(i);
      StringBuilder sizes = new StringBuilder("{");
      h.sizes()
          .forEach(
              (c, n) ->
                  sizes
                      .append(sizes.length() > 1 ? ", " : "")
                      .append('"')
                      .append(c)
                      .append("\": ")
                      .append(n));
      sizes.append('}');
      json.append(
          String.format(
              Locale.ROOT,
              "    {\"round\": %d, \"k\": %d, \"sizes\": %s, \"adjusted_rand_index\": %.6f, "
                  + "\"mean_site_accuracy\": %.6f, \"global_mean_site_accuracy\": %s, \"collapsed\": %s, \"seconds\": %.3f}%s%n",
              h.round(),
              h.k(),
              sizes,
              h.adjustedRandIndex(),
              h.meanSiteAccuracy(),
              number(h.globalMeanSiteAccuracy()),
              h.collapsed(),
              h.seconds(),
              i + 1 < r.history().size() ? "," : ""));
    }
    json.append("  ],\n  \"site_reports\": [\n");
    for (int i = 0; i < r.siteReports().size(); i++) {
      SiteReport s = r.siteReports().get(i);
      json.append(
          String.format(
              Locale.ROOT,
              "    {\"site\": %s, \"dataset\": %s, \"examples\": %d, \"cluster\": %d, "
                  + "\"accuracy\": %.6f, \"global_accuracy\": %s}%s%n",
              Simulate.quote(s.site()),
              Simulate.quote(s.dataset()),
              s.examples(),
              s.cluster(),
              s.accuracy(),
              number(s.globalAccuracy()),
              i + 1 < r.siteReports().size() ? "," : ""));
    }
    json.append("  ],\n");
    json.append(
        String.format(
            Locale.ROOT,
            "  \"adjusted_rand_index\": %.6f,%n  \"mean_site_accuracy\": %.6f,%n"
                + "  \"global_mean_site_accuracy\": %s,%n  \"centralised_per_dataset_site_accuracy\": %.6f,%n"
                + "  \"centralised_one_head_site_accuracy\": %.6f%n}%n",
            r.adjustedRandIndex(),
            r.meanSiteAccuracy(),
            number(r.globalMeanSiteAccuracy()),
            r.reference().perDataset(),
            r.reference().oneHead()));
    Simulate.writeReport(file, json);
  }

  private static String number(Double value) {
    return value == null ? "null" : String.format(Locale.ROOT, "%.6f", value);
  }
}
