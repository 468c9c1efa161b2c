package fedlake.core.strategy;

import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.Model;
import java.io.Serializable;
import java.util.List;

/**
 * How the round job turns one cluster's accepted updates into the next model. A strategy is
 * stateless: what it keeps between rounds (server momentum, Adam moments, the SCAFFOLD control
 * variate) travels with the model ({@link Aggregate}), and its parameters come from the federation
 * spec ({@link StrategySettings}).
 *
 * <p>A round runs {@link #newFold} once per task, {@link Fold#add} for each of the task's updates,
 * {@link Fold#merge} to combine tasks, then {@link #finish} on the driver. A fold may hold whatever
 * its rule needs (a streaming sum, or every update's parameters for a median); it must not depend
 * on the order of updates or on how they were split into tasks, so that the published model does
 * not either.
 *
 * <p>Adding a strategy is one class annotated {@code @AutoService(Strategy.class)} with a public
 * no-argument constructor; {@link Strategies} finds it by {@link #name()}.
 */
public interface Strategy extends Serializable {
  /**
   * The name in the spec, on the command line, in models and history: lower case, such as {@code
   * fedadam}.
   */
  String name();

  /** One line for usage and docs. */
  String summary();

  /** The parameters this strategy reads from the spec, with their defaults. */
  default List<StrategyParameter> parameters() {
    return List.of();
  }

  /**
   * Whether finishing needs more of each update than its share of the weighted mean change (control
   * deltas, local steps). Secure aggregation and central differential privacy give the server only
   * that mean, so they refuse such strategies.
   */
  default boolean needsEachUpdate() {
    return false;
  }

  /**
   * The client algorithm this strategy needs the sites to run, or null when any algorithm that
   * needs no server support will do (SGD or PROX).
   */
  default ClientAlgorithmName requiredClient() {
    return null;
  }

  /** An empty fold for updates trained from {@code base}. */
  Fold newFold(Model base, StrategySettings settings);

  /**
   * The next model's parameters and server state from every accepted update of the cluster ({@code
   * fold} holds at least one).
   */
  Aggregate finish(Model base, Fold fold, StrategySettings settings);
}
