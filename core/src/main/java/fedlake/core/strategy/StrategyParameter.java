package fedlake.core.strategy;

/**
 * A number a strategy reads from the spec. The name is the spec key and the command-line option
 * ({@code init --server-lr 0.1}).
 *
 * @param name lower-case, dash-separated, such as {@code server-lr}
 * @param defaultValue value when the spec does not set it
 * @param min smallest allowed value
 * @param max largest allowed value
 * @param minExclusive whether {@code min} itself is excluded
 * @param doc one line for usage and docs
 */
public record StrategyParameter(
    String name, double defaultValue, double min, double max, boolean minExclusive, String doc) {
  /** A parameter that must be above zero. */
  public static StrategyParameter positive(String name, double defaultValue, String doc) {
    return new StrategyParameter(name, defaultValue, 0, Double.MAX_VALUE, true, doc);
  }

  /** A parameter in [0, 1). */
  public static StrategyParameter fraction(String name, double defaultValue, String doc) {
    return new StrategyParameter(name, defaultValue, 0, Math.nextDown(1.0), false, doc);
  }

  /** Why {@code value} is not allowed, or null when it is. */
  public String problem(double value) {
    if (!Double.isFinite(value) || value < min || value > max || (minExclusive && value == min)) {
      String range =
          (minExclusive ? "(" : "[")
              + format(min)
              + ", "
              + (max == Math.nextDown(1.0) ? "1)" : format(max) + "]");
      return "parameter " + name + " must be in " + range + ", got " + value;
    }
    return null;
  }

  private static String format(double v) {
    return v == Double.MAX_VALUE
        ? "inf"
        : (v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v));
  }
}
