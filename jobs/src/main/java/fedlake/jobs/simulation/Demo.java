package fedlake.jobs.simulation;

import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.data.Dataset;
import fedlake.core.data.DatasetFiles;
import fedlake.core.data.DirichletSplit;
import fedlake.core.data.GaussianClasses;
import fedlake.core.init.Federation;
import fedlake.core.model.Models;
import fedlake.core.round.AuditStatus;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.store.Store;
import fedlake.edge.EdgeMain;
import fedlake.jobs.report.LinePlot;
import fedlake.jobs.spark.Spark;
import fedlake.jobs.spark.SparkScanner;
import fedlake.schema.RoundHistory;
import fedlake.schema.UpdateAudit;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;

/**
 * The main job on the embedded default: a generated data set with class structure split over 10
 * sites (Dirichlet), several rounds through the real edge runner CLI and the real Spark round job
 * on a local store, one site uploading a corrupt file along the way.
 */
public final class Demo {
  private static final int EPOCHS = 2;
  private static final double LEARNING_RATE = 0.3;
  public static final CommandLine COMMAND =
      CommandLine.of(
              "demo",
              "usage: fedlake demo [--dir DIR] [--sites N] [--rounds R] [--alpha A] [--seed S] [--local-epochs E] [--learning-rate LR] [--calibrate]")
          .value("dir", "DIR", "working folder, recreated on every run (default ./fedlake-demo)")
          .value("sites", "N", "sites (default 10)")
          .value("rounds", "R", "rounds (default 8)")
          .value("alpha", "A", "Dirichlet label skew (default 0.3)")
          .value("seed", "S", "seed (default 7)")
          .value("local-epochs", "E", "local epochs a round (default " + EPOCHS + ")")
          .value("learning-rate", "LR", "local learning rate (default " + LEARNING_RATE + ")")
          .flag(
              "calibrate",
              "sites report class statistics and the round job re-fits the head on them (CCVR)");

  public static final String USAGE = COMMAND.usage();
  private static final String MARKER = ".fedlake-demo";
  private static final int CLASSES = 12;
  private static final int DIMENSION = 64;

  private final PrintStream out;
  private final Path dir;
  private final int sites;
  private final int rounds;
  private final double alpha;
  private final long seed;
  private int epochs = EPOCHS;
  private double learningRate = LEARNING_RATE;
  private boolean calibrate;

  private Demo(PrintStream out, Path dir, int sites, int rounds, double alpha, long seed) {
    this.out = out;
    this.dir = dir.toAbsolutePath().normalize();
    this.sites = sites;
    this.rounds = rounds;
    this.alpha = alpha;
    this.seed = seed;
  }

  public static Demo fromArgs(String[] argv, PrintStream out) {
    Args args = COMMAND.parse(argv);
    int sites = args.integer("sites", 10);
    int rounds = args.integer("rounds", 8);
    if (sites < 2 || rounds < 1) {
      throw new IllegalArgumentException("demo: needs --sites >= 2 and --rounds >= 1");
    }
    Demo demo =
        new Demo(
            out,
            Path.of(args.string("dir", "fedlake-demo")),
            sites,
            rounds,
            args.number("alpha", 0.3),
            args.longValue("seed", 7));
    demo.epochs = args.integer("local-epochs", EPOCHS);
    demo.learningRate = args.number("learning-rate", LEARNING_RATE);
    demo.calibrate = args.flag("calibrate");
    return demo;
  }

  public int execute() {
    prepareDirectory();
    Path dataDir = dir.resolve("data");
    String storeUri = dir.resolve("store").toUri().toString();
    Configuration conf = new Configuration();
    GaussianClasses generator = new GaussianClasses(CLASSES, DIMENSION, 2.2, seed).nuisance(4, 3.0);
    Dataset train = generator.sample(60, seed + 1, "demo-train");
    Dataset test = generator.sample(40, seed + 2, "demo-test");
    int[][] split = DirichletSplit.split(train.labels(), sites, alpha, seed);
    List<Path> siteFiles = new ArrayList<>();
    try {
      Files.createDirectories(dataDir);
      for (int s = 0; s < sites; s++) {
        Path file = dataDir.resolve(Simulate.siteName(s) + ".parquet");
        DatasetFiles.writeParquet(
            train.select(split[s]),
            new org.apache.hadoop.fs.Path(file.toUri()),
            conf,
            Simulate.siteName(s) + "-");
        siteFiles.add(file);
      }
      DatasetFiles.writeParquet(
          test,
          new org.apache.hadoop.fs.Path(dataDir.resolve("test.parquet").toUri()),
          conf,
          "test-");
    } catch (IOException e) {
      throw new UncheckedIOException("demo: cannot write demo data under " + dataDir, e);
    }
    out.printf(
        "fedlake demo: %d classes, %d-dim embeddings, %d sites (Dirichlet alpha %s), %d rounds%n",
        CLASSES, DIMENSION, sites, alpha, rounds);
    out.printf(
        "  sites train %d local epoch(s) a round at learning rate %s%s%n",
        epochs,
        learningRate,
        calibrate
            ? "; they upload class statistics and the round job calibrates the head on them (CCVR)"
            : "");
    out.printf(
        "  site data: %s (Parquet, one file a site; %d test rows in test.parquet)%n",
        dataDir, test.size());
    out.printf("  store:     %s%n%n", storeUri);

    Store store = Store.open(storeUri, conf);
    new Federation(store).dimension(DIMENSION).classes(CLASSES).strategy("scaffold").execute();
    List<Double> accuracies = new ArrayList<>();
    SparkSession spark = Spark.session("fedlake-demo", null);
    try {
      store = Store.open(storeUri, spark.sparkContext().hadoopConfiguration());
      SparkScanner scanner = new SparkScanner(spark);
      accuracies.add(Models.classifier(store.readModel(0, 0)).evaluate(test).accuracy());
      out.printf(
          "%5s %6s %8s %8s %10s %9s %8s  %s%n",
          "round",
          "sites",
          "rejected",
          "examples",
          "local-loss",
          "test-acc",
          "seconds",
          "published model");
      for (int round = 0; round < rounds; round++) {
        long started = System.nanoTime();
        for (int s = 0; s < sites; s++) {
          List<String> edge =
              new ArrayList<>(
                  List.of(
                      "--store",
                      storeUri,
                      "--site",
                      Simulate.siteName(s),
                      "--data",
                      siteFiles.get(s).toString(),
                      "--seed",
                      Long.toString(seed * 1000 + round * sites + s),
                      "--state-dir",
                      dir.resolve("site-state").toString(),
                      "--epochs",
                      Integer.toString(epochs),
                      "--learning-rate",
                      Double.toString(learningRate),
                      "--quiet"));
          if (calibrate) {
            edge.add("--site-stats");
          }
          EdgeMain.train(edge.toArray(String[]::new), out);
        }
        if (round == 1) {
          uploadCorruptFile(store, round);
        }
        // sites report class statistics (--site-stats); the round job re-fits the head on virtual
        // features (CCVR)
        RoundResult result =
            new RoundJob(store)
                .scanner(scanner)
                .round(round)
                .calibration(
                    calibrate ? new fedlake.core.synth.Ccvr().seed(seed).probe(test) : null)
                .execute();
        RoundHistory h = result.history().get(0);
        double accuracy =
            result.published().isEmpty()
                ? Double.NaN
                : Models.classifier(result.published().get(0)).evaluate(test).accuracy();
        accuracies.add(accuracy);
        out.printf(
            "%5d %6d %8d %8d %10.4f %9.3f %8.2f  %s%n",
            round,
            h.getParticipants(),
            h.getRejected(),
            h.getTotalExamples(),
            h.getWeightedLocalLoss(),
            accuracy,
            (System.nanoTime() - started) / 1e9,
            h.getPublishedModelVersion());
        for (UpdateAudit a : result.audit()) {
          if (!AuditStatus.ACCEPTED.is(a.getStatus())) {
            out.printf(
                "      rejected %s: %s%n",
                Path.of(java.net.URI.create(a.getFile())).getFileName(), a.getReason());
          }
        }
        if (h.getCalibrated()) {
          out.printf(
              "      calibrated (CCVR on pooled site statistics): test accuracy %.3f before, %.3f after%n",
              h.getProbeAccuracyBeforeCalibration(), h.getProbeAccuracy());
        }
      }
    } finally {
      spark.stop();
    }
    Path plot = dir.resolve("accuracy.png");
    LinePlot.write(
        plot,
        "fedlake demo: test accuracy of the published model",
        "round",
        "test accuracy",
        List.of(
            new LinePlot.Series(
                "published model",
                java.util.stream.IntStream.range(0, accuracies.size()).asDoubleStream().toArray(),
                accuracies.stream().mapToDouble(Double::doubleValue).toArray())));
    String history = dir.resolve("store/history").toString();
    out.println();
    out.println("Round history (Parquet, one file a round): " + history);
    out.println("Update audit:                              " + dir.resolve("store/audit"));
    out.println("Accuracy per round (PNG):                  " + plot);
    out.println("Read it with DuckDB:");
    out.println(
        "  duckdb -c \"SELECT round, participants, rejected, totalExamples, round(weightedLocalLoss, 4) AS loss"
            + " FROM '"
            + history
            + "/*.parquet' ORDER BY round\"");
    out.println("or: bin/fedlake history --store " + storeUri + " --audit 1");
    return 0;
  }

  private void uploadCorruptFile(Store store, int round) {
    // A site whose upload broke off: the first 200 bytes of a real update, in the round's folder.
    org.apache.hadoop.fs.Path target =
        new org.apache.hadoop.fs.Path(
            store.updatesDir(round), "site-000--truncated-upload.parquet");
    try {
      org.apache.hadoop.fs.FileStatus any = store.listUpdates(round).get(0);
      byte[] head;
      try (var in = store.fileSystem().open(any.getPath())) {
        head = in.readNBytes(200);
      }
      try (OutputStream o = store.fileSystem().create(target, true)) {
        o.write(head);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("demo: cannot write the corrupt upload " + target, e);
    }
  }

  private void prepareDirectory() {
    try {
      if (Files.exists(dir)) {
        if (!Files.exists(dir.resolve(MARKER))) {
          throw new IllegalArgumentException(
              "demo: " + dir + " exists and was not made by the demo; choose another --dir");
        }
        try (Stream<Path> walk = Files.walk(dir)) {
          for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
            Files.delete(p);
          }
        }
      }
      Files.createDirectories(dir);
      Files.writeString(
          dir.resolve(MARKER),
          "made by 'fedlake demo'; the demo deletes this folder when it runs again\n");
    } catch (IOException e) {
      throw new UncheckedIOException("demo: cannot prepare " + dir, e);
    }
  }
}
