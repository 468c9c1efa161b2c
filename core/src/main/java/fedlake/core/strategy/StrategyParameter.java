package fedlake.core.strategy;

import java.util.Map;

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
 * @param words values that may be given by name on the command line ({@code --tau-eff max}), each
 *     standing for a number outside the range that the strategy reads as that choice; the spec
 *     stores the number
 */
public record StrategyParameter(
    String name,
    double defaultValue,
    double min,
    double max,
    boolean minExclusive,
    String doc,
    Map<String, Double> words) {
  public StrategyParameter {
    words = Map.copyOf(words);
  }

  public StrategyParameter(
      String name, double defaultValue, double min, double max, boolean minExclusive, String doc) {
    this(name, defaultValue, min, max, minExclusive, doc, Map.of());
  }

  /** A parameter that must be above zero. */
  public static StrategyParameter positive(String name, double defaultValue, String doc) {
    return new StrategyParameter(name, defaultValue, 0, Double.MAX_VALUE, true, doc);
  }

  /** A parameter in [0, 1). */
  public static StrategyParameter fraction(String name, double defaultValue, String doc) {
    return new StrategyParameter(name, defaultValue, 0, Math.nextDown(1.0), false, doc);
  }

  /** This parameter with values that may also be given by name. */
  public StrategyParameter withWords(Map<String, Double> named) {
    return new StrategyParameter(name, defaultValue, min, max, minExclusive, doc, named);
  }

  /** The number a word stands for, or null when {@code text} is not one of the words. */
  public Double word(String text) {
    return words.get(text.trim());
  }

  /** The word a number stands for, or null. */
  public String wordFor(double value) {
    return words.entrySet().stream()
        .filter(e -> e.getValue() == value)
        .map(Map.Entry::getKey)
        .findFirst()
        .orElse(null);
  }

  /** Why {@code value} is not allowed, or null when it is. */
  public String problem(double value) {
    if (wordFor(value) != null) {
      return null;
    }
    if (!Double.isFinite(value) || value < min || value > max || (minExclusive && value == min)) {
      String range =
          (minExclusive ? "(" : "[")
              + format(min)
              + ", "
              + (max == Math.nextDown(1.0) ? "1)" : format(max) + "]");
      String named =
          words.isEmpty()
              ? ""
              : " or one of "
                  + String.join(", ", new java.util.TreeMap<>(words).keySet())
                  + " ("
                  + String.join(
                      ", ",
                      new java.util.TreeMap<>(words)
                          .entrySet().stream()
                              .map(e -> e.getKey() + " = " + format(e.getValue()))
                              .toList())
                  + ")";
      if (min == max && wordFor(min) != null) { // only words: no range to name
        return "parameter "
            + name
            + " must be"
            + named.substring(" or".length())
            + ", got "
            + value;
      }
      return "parameter " + name + " must be in " + range + named + ", got " + value;
    }
    return null;
  }

  private static String format(double v) {
    return v == Double.MAX_VALUE
        ? "inf"
        : (v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v));
  }
}
