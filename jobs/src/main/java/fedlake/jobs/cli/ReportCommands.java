package fedlake.jobs.cli;

import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.data.Dataset;
import fedlake.core.data.DatasetFiles;
import fedlake.core.round.Evaluation;
import fedlake.core.store.Store;
import fedlake.core.store.StoreConfig;
import fedlake.jobs.report.Figures;
import fedlake.jobs.report.HtmlReport;
import fedlake.schema.RoundHistory;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * Evaluation and report, without Spark: {@code evaluation set|show} (the federation's held-out set)
 * and {@code report} (the HTML round report). See docs/report.md.
 */
public final class ReportCommands {
  public static final CommandLine EVALUATION_SET =
      CommandLine.of(
              "evaluation set",
              "usage: fedlake evaluation set --store URI --data PATH [--conf KEY=VALUE]",
              "  registers labelled rows as the federation's evaluation set: copied into the store as",
              "  ROOT/evaluation/eval-HASH.parquet (DatasetRow) and named by ROOT/evaluation/_CURRENT; every later",
              "  round measures the model it publishes on it (history: testAccuracy, perClassAccuracy, evaluationRows).")
          .with(StoreConfig.STORE)
          .value(
              "data",
              "PATH",
              "any format edge train --data reads: .parquet (DatasetRow), a folder with X.npy + y.npy,"
                  + " or NAME_X.npy with NAME_y.npy beside it; every row labelled within the model's classes")
          .with(StoreConfig.CONF);
  public static final CommandLine EVALUATION_SHOW =
      CommandLine.of(
              "evaluation show",
              "usage: fedlake evaluation show --store URI [--round R] [--conf KEY=VALUE]",
              "  prints round R's evaluation: test accuracy, the sites'",
              "  holdout accuracy spread and the accuracy per class")
          .with(StoreConfig.STORE)
          .value("round", "R", "the round to show (default: the last round in history)")
          .with(StoreConfig.CONF);
  public static final String EVALUATION_USAGE =
      EVALUATION_SET.usage() + "\n" + EVALUATION_SHOW.usage();
  public static final CommandLine REPORT =
      CommandLine.of(
              "report",
              "usage: fedlake report --store URI --out DIR [--round-from R] [--conf KEY=VALUE]",
              "  writes DIR/index.html: one self-contained page (inline SVG, no script, nothing fetched) with",
              "  accuracy per round, per-class accuracy, participation and rejections, rejection reasons, update",
              "  norms, per-site participation, cluster sizes and ε when history has them (docs/report.md).")
          .with(StoreConfig.STORE)
          .value("out", "DIR", "a local folder or a store-like URI (s3a://bucket/reports)")
          .value("round-from", "R", "leave out earlier rounds (default 0)")
          .with(StoreConfig.CONF);

  private ReportCommands() {}

  public static int evaluation(String[] argv, PrintStream out) {
    if (argv.length == 0 || !(argv[0].equals("set") || argv[0].equals("show"))) {
      throw new IllegalArgumentException(
          "evaluation: expected 'set' or 'show' (fedlake evaluation --help)");
    }
    String[] rest = java.util.Arrays.copyOfRange(argv, 1, argv.length);
    return argv[0].equals("set") ? set(rest, out) : show(rest, out);
  }

  private static int set(String[] argv, PrintStream out) {
    Args args = EVALUATION_SET.parse(argv);
    Configuration conf = StoreConfig.of(args).hadoop();
    Store store = Store.open(args.required("store"), conf);
    store.requireLatest();
    Dataset data = DatasetFiles.read(args.required("data"), conf);
    Evaluation.Registered registered = Evaluation.register(store, data);
    long classes = java.util.Arrays.stream(data.labels()).distinct().count();
    out.printf(
        "Registered %s as the evaluation set of %s: %d rows of %d classes; every round from round %d"
            + " on records the published model's accuracy on it%n",
        registered.file(), store.root(), data.size(), classes, store.requireLatest().round());
    return 0;
  }

  private static int show(String[] argv, PrintStream out) {
    Args args = EVALUATION_SHOW.parse(argv);
    Store store = Store.open(args.required("store"), StoreConfig.of(args).hadoop());
    out.println(
        "Evaluation set: "
            + Evaluation.registeredFile(store)
                .map(Object::toString)
                .orElse("none registered (fedlake evaluation set --store URI --data PATH)"));
    List<RoundHistory> all = store.readHistory();
    if (all.isEmpty()) {
      out.println("No round history in " + store.root() + " yet");
      return 0;
    }
    int round = args.has("round") ? args.integer("round", 0) : all.get(all.size() - 1).getRound();
    List<RoundHistory> rows = all.stream().filter(h -> h.getRound() == round).toList();
    if (rows.isEmpty()) {
      throw new IllegalArgumentException(
          "evaluation show: round " + round + " has no history in " + store.root());
    }
    for (RoundHistory h : rows) {
      out.printf(
          "Round %d, cluster %d: model %s: test accuracy %s on %s rows; sites' holdout accuracy"
              + " min %s, median %s, max %s (%s sites); probe accuracy %s%n",
          h.getRound(),
          h.getCluster(),
          h.getPublishedModelVersion() == null
              ? "- (nothing published)"
              : h.getPublishedModelVersion(),
          Figures.accuracy(h.getTestAccuracy()),
          Figures.count(h.getEvaluationRows()),
          Figures.accuracy(h.getSiteAccuracyMin()),
          Figures.accuracy(h.getSiteAccuracyMedian()),
          Figures.accuracy(h.getSiteAccuracyMax()),
          Figures.count(h.getSiteAccuracySites()),
          Figures.accuracy(h.getProbeAccuracy()));
      if (h.getPerClassAccuracy() != null) {
        out.printf("  %5s %9s%n", "class", "accuracy");
        List<Double> perClass = h.getPerClassAccuracy();
        for (int c = 0; c < perClass.size(); c++) {
          out.printf("  %5d %9s%n", c, Figures.accuracy(perClass.get(c)));
        }
      }
    }
    return 0;
  }

  public static int report(String[] argv, PrintStream out) {
    Args args = REPORT.parse(argv);
    Configuration conf = StoreConfig.of(args).hadoop();
    Store store = Store.open(args.required("store"), conf);
    String dir = args.required("out");
    int from = args.integer("round-from", 0);
    if (from < 0) {
      throw new IllegalArgumentException("report: --round-from must be >= 0, got " + from);
    }
    String page = HtmlReport.build(store, from);
    String written = write(dir, page.getBytes(StandardCharsets.UTF_8), conf);
    out.println("Report written to " + written);
    return 0;
  }

  /** Writes DIR/index.html whole or not at all: a local folder, or a Hadoop file system URI. */
  static String write(String dir, byte[] page, Configuration conf) {
    if (!dir.contains("://") && !dir.startsWith("file:")) {
      java.nio.file.Path folder = java.nio.file.Path.of(dir);
      java.nio.file.Path target = folder.resolve("index.html");
      try {
        if (Files.exists(folder) && !Files.isDirectory(folder)) {
          throw new IllegalArgumentException("report: --out " + dir + " is a file, not a folder");
        }
        Files.createDirectories(folder);
        java.nio.file.Path temporary =
            folder.resolve(".index.html." + java.util.UUID.randomUUID() + ".tmp");
        try {
          Files.write(temporary, page);
          Files.move(
              temporary,
              target,
              StandardCopyOption.REPLACE_EXISTING,
              StandardCopyOption.ATOMIC_MOVE);
        } finally {
          Files.deleteIfExists(temporary);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot write report " + target + ": " + e.getMessage(), e);
      }
      return target.toAbsolutePath().toString();
    }
    org.apache.hadoop.fs.Path target =
        new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(dir), "index.html");
    try {
      FileSystem fs = target.getFileSystem(conf);
      // one PUT on object stores: readers see the old page or the new one
      try (OutputStream stream = fs.create(target, true)) {
        stream.write(page);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write report " + target + ": " + e.getMessage(), e);
    }
    return target.toString();
  }
}
