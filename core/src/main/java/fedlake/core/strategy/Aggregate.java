package fedlake.core.strategy;

import java.util.List;
import java.util.Map;

/**
 * What a strategy publishes for one cluster.
 *
 * @param parameters the next model's parameters, laid out as {@code Models.parameters(base)}
 * @param controlVariate the next SCAFFOLD control variate that sites read, or null to keep the base
 *     model's
 * @param serverState vectors the strategy keeps for the next round (momentum, moments), by name;
 *     empty for none
 * @param outcomes what a robust aggregation did to individual updates (clipped, trimmed, excluded),
 *     for the audit; empty when every update was used as sent
 */
public record Aggregate(
    float[] parameters,
    float[] controlVariate,
    Map<String, float[]> serverState,
    List<UpdateOutcome> outcomes) {
  public Aggregate {
    serverState = Map.copyOf(serverState);
    outcomes = List.copyOf(outcomes);
  }

  public Aggregate(float[] parameters, float[] controlVariate, Map<String, float[]> serverState) {
    this(parameters, controlVariate, serverState, List.of());
  }

  /** The same aggregate with {@code value} as its outcomes. */
  public Aggregate withOutcomes(List<UpdateOutcome> value) {
    return new Aggregate(parameters, controlVariate, serverState, value);
  }

  /** Parameters only: no control variate change, no server state. */
  public static Aggregate of(float[] parameters) {
    return new Aggregate(parameters, null, Map.of());
  }
}
