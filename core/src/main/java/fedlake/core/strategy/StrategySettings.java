package fedlake.core.strategy;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/** A strategy's parameter values: the spec's, checked, with the strategy's defaults filled in. */
public final class StrategySettings implements Serializable {
  private static final long serialVersionUID = 1L;
  private final String strategy;
  private final Map<String, Double> values;

  private StrategySettings(String strategy, Map<String, Double> values) {
    this.strategy = strategy;
    this.values = values;
  }

  /**
   * Checks {@code given} against {@code strategy}'s declared parameters: unknown names and values
   * out of range raise {@link IllegalArgumentException}; missing ones take their defaults.
   */
  public static StrategySettings of(Strategy strategy, Map<String, Double> given) {
    Map<String, Double> values = new TreeMap<>();
    for (StrategyParameter p : strategy.parameters()) {
      values.put(p.name(), p.defaultValue());
    }
    for (Map.Entry<String, Double> e : given.entrySet()) {
      StrategyParameter declared =
          strategy.parameters().stream()
              .filter(p -> p.name().equals(e.getKey()))
              .findFirst()
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "Strategy "
                              + strategy.name()
                              + " has no parameter '"
                              + e.getKey()
                              + "' (it has: "
                              + (values.isEmpty() ? "none" : String.join(", ", values.keySet()))
                              + ")"));
      String problem = declared.problem(e.getValue());
      if (problem != null) {
        throw new IllegalArgumentException("Strategy " + strategy.name() + ": " + problem);
      }
      values.put(e.getKey(), e.getValue());
    }
    return new StrategySettings(strategy.name(), values);
  }

  /** The value of a declared parameter. */
  public double get(String name) {
    Double value = values.get(name);
    if (value == null) {
      throw new IllegalArgumentException(
          "Strategy " + strategy + " declares no parameter '" + name + "'");
    }
    return value;
  }

  /** Every parameter with its value, by name. */
  public Map<String, Double> values() {
    return Map.copyOf(values);
  }

  @Override
  public String toString() {
    return strategy + values;
  }
}
