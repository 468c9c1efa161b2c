package fedlake.core.strategy;

import java.util.Map;

/**
 * What a strategy publishes for one cluster.
 *
 * @param parameters the next model's parameters, laid out as {@code Models.parameters(base)}
 * @param controlVariate the next SCAFFOLD control variate that sites read, or null to keep the base
 *     model's
 * @param serverState vectors the strategy keeps for the next round (momentum, moments), by name;
 *     empty for none
 */
public record Aggregate(
    float[] parameters, float[] controlVariate, Map<String, float[]> serverState) {
  public Aggregate {
    serverState = Map.copyOf(serverState);
  }

  /** Parameters only: no control variate change, no server state. */
  public static Aggregate of(float[] parameters) {
    return new Aggregate(parameters, null, Map.of());
  }
}
