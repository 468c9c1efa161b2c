package fedlake.core.strategy;

import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** Every strategy on the classpath, found through {@link ServiceLoader}, by name. */
public final class Strategies {
  private static final Map<String, Strategy> BY_NAME = load();

  private Strategies() {}

  private static Map<String, Strategy> load() {
    Map<String, Strategy> byName = new TreeMap<>();
    for (Strategy strategy :
        ServiceLoader.load(Strategy.class, Strategies.class.getClassLoader())) {
      Strategy earlier = byName.put(strategy.name(), strategy);
      if (earlier != null) {
        throw new IllegalStateException(
            "Two strategies are named '"
                + strategy.name()
                + "': "
                + earlier.getClass().getName()
                + " and "
                + strategy.getClass().getName());
      }
    }
    return byName;
  }

  /** The strategy called {@code name}; an unknown name raises an error listing the known ones. */
  public static Strategy named(String name) {
    Strategy strategy = BY_NAME.get(name);
    if (strategy == null) {
      throw new IllegalArgumentException(
          "Unknown strategy '" + name + "' (known: " + String.join(", ", names()) + ")");
    }
    return strategy;
  }

  /**
   * The strategy of a store made before federation specs existed: SCAFFOLD when its model carries a
   * control variate, else FedAvg.
   */
  public static Strategy implied(fedlake.schema.Model base) {
    return named(base.getControlVariate().isEmpty() ? "fedavg" : "scaffold");
  }

  /** Names of every strategy, sorted. */
  public static List<String> names() {
    return List.copyOf(BY_NAME.keySet());
  }

  /**
   * The names of the strategies that need only the weighted mean change ({@link
   * Strategy#needsEachUpdate} false), sorted, as in "a, b or c".
   */
  public static String meanOnlyNames() {
    List<String> names =
        all().stream().filter(s -> !s.needsEachUpdate()).map(Strategy::name).toList();
    return names.size() < 2
        ? String.join("", names)
        : String.join(", ", names.subList(0, names.size() - 1))
            + " or "
            + names.get(names.size() - 1);
  }

  /** Every strategy, sorted by name. */
  public static List<Strategy> all() {
    return List.copyOf(BY_NAME.values());
  }
}
