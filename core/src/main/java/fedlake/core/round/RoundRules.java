package fedlake.core.round;

import fedlake.core.strategy.Strategy;
import fedlake.core.strategy.StrategySettings;
import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;

/**
 * What a task needs to check and fold a round's update files, shipped to it once.
 *
 * @param validator the round's rules for one update
 * @param strategy how accepted updates are folded
 * @param settings the strategy's parameters
 * @param targets site to the cluster its update is aggregated into, when it differs from the
 *     update's own
 * @param poolStatistics whether to pool the class statistics of accepted updates (calibration)
 * @param maxUpdateBytes largest file, and largest uncompressed size of its columns, read at all
 */
public record RoundRules(
    UpdateValidator validator,
    Strategy strategy,
    StrategySettings settings,
    Map<String, Integer> targets,
    boolean poolStatistics,
    long maxUpdateBytes)
    implements Serializable {
  public RoundRules {
    targets = new HashMap<>(targets);
  }

  /** The cluster {@code site}'s update of {@code cluster} is aggregated into. */
  public int target(String site, int cluster) {
    return targets.getOrDefault(site, cluster);
  }
}
