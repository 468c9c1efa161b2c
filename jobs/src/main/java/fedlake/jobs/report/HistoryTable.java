package fedlake.jobs.report;

import fedlake.schema.RoundHistory;
import java.io.PrintStream;
import java.util.List;

/** Prints round-history rows as an aligned table. */
public final class HistoryTable {
  private static final String FORMAT = "%5s %7s %-16s %-11s %4s %6s %8s %8s %10s %9s %9s %8s  %s%n";

  private HistoryTable() {}

  public static void header(PrintStream out, String extraColumn) {
    out.printf(
        FORMAT,
        "round",
        "cluster",
        "status",
        "strategy",
        "spec",
        "sites",
        "rejected",
        "examples",
        "local-loss",
        "local-acc",
        "norm-mean",
        "millis",
        extraColumn);
  }

  public static void row(PrintStream out, RoundHistory h, String extra) {
    out.printf(
        FORMAT,
        h.getRound(),
        h.getCluster(),
        h.getStatus(),
        h.getStrategy(),
        h.getSpecVersion() == 0 ? "-" : h.getSpecVersion(),
        h.getParticipants(),
        h.getRejected(),
        h.getTotalExamples(),
        number(h.getWeightedLocalLoss(), "%.4f"),
        number(h.getWeightedLocalAccuracy(), "%.3f"),
        Figures.norm(h.getUpdateNormMean()),
        h.getTotalMillis(),
        extra);
  }

  public static void print(PrintStream out, List<RoundHistory> rows) {
    header(out, "published model");
    for (RoundHistory h : rows) {
      row(out, h, h.getPublishedModelVersion() == null ? "-" : h.getPublishedModelVersion());
    }
    out.println();
    out.println(
        "Accuracy and update norms (test: the published model on the evaluation set; site: holdout"
            + " accuracy the sites reported for the model the round started from):");
    out.printf(
        FIGURES,
        "round",
        "cluster",
        "test-acc",
        "eval-rows",
        "probe-acc",
        "site-min",
        "site-median",
        "site-max",
        "sites",
        "norm-min",
        "norm-mean",
        "norm-max");
    for (RoundHistory h : rows) {
      out.printf(
          FIGURES,
          h.getRound(),
          h.getCluster(),
          Figures.accuracy(h.getTestAccuracy()),
          Figures.count(h.getEvaluationRows()),
          Figures.accuracy(h.getProbeAccuracy()),
          Figures.accuracy(h.getSiteAccuracyMin()),
          Figures.accuracy(h.getSiteAccuracyMedian()),
          Figures.accuracy(h.getSiteAccuracyMax()),
          Figures.count(h.getSiteAccuracySites()),
          Figures.norm(h.getUpdateNormMin()),
          Figures.norm(h.getUpdateNormMean()),
          Figures.norm(h.getUpdateNormMax()));
    }
  }

  private static final String FIGURES = "%5s %7s %9s %9s %9s %9s %11s %9s %5s %9s %9s %9s%n";

  private static String number(Double value, String format) {
    return value == null ? "-" : String.format(format, value);
  }
}
