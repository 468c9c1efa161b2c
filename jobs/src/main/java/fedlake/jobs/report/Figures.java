package fedlake.jobs.report;

import java.util.Locale;

/**
 * How round figures are written as text, in one place: {@code fedlake history}, {@code fedlake
 * evaluation show} and the HTML report print the same figure the same way.
 */
public final class Figures {
  private Figures() {}

  /** An accuracy (test, probe, site holdout, per class): 4 decimals; "-" when absent or NaN. */
  public static String accuracy(Double value) {
    return format(value, "%.4f");
  }

  /** An update or model-change norm: 3 decimals; "-" when absent. */
  public static String norm(Double value) {
    return format(value, "%.3f");
  }

  /** A privacy budget: 3 decimals; "-" when absent. */
  public static String epsilon(Double value) {
    return format(value, "%.3f");
  }

  /** A whole count held in a double. */
  public static String count(double value) {
    return Double.isFinite(value) ? Long.toString(Math.round(value)) : "-";
  }

  /** A nullable count. */
  public static String count(Number value) {
    return value == null ? "-" : value.toString();
  }

  static String format(Double value, String format) {
    return value == null || value.isNaN() ? "-" : String.format(Locale.ROOT, format, value);
  }
}
