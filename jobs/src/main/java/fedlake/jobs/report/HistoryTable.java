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
        number(h.getUpdateNormMean(), "%.3f"),
        h.getTotalMillis(),
        extra);
  }

  public static void print(PrintStream out, List<RoundHistory> rows) {
    header(out, "published model");
    for (RoundHistory h : rows) {
      row(out, h, h.getPublishedModelVersion() == null ? "-" : h.getPublishedModelVersion());
    }
  }

  private static String number(Double value, String format) {
    return value == null ? "-" : String.format(format, value);
  }
}
