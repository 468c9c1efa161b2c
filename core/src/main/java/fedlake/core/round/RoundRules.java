package fedlake.core.round;

import fedlake.core.cluster.ProfileBuilder;
import fedlake.core.cluster.RandomProjection;
import fedlake.core.store.Store;
import fedlake.core.strategy.Strategy;
import fedlake.core.strategy.StrategySettings;
import fedlake.schema.Model;
import java.io.Serializable;
import java.util.Collection;
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
 * @param profiles how to build a profile of every accepted update in the same read (the profiles
 *     job), or null
 */
public record RoundRules(
    UpdateValidator validator,
    Strategy strategy,
    StrategySettings settings,
    Map<String, Integer> targets,
    boolean poolStatistics,
    long maxUpdateBytes,
    Profiles profiles)
    implements Serializable {
  public RoundRules {
    targets = new HashMap<>(targets);
  }

  public RoundRules(
      UpdateValidator validator,
      Strategy strategy,
      StrategySettings settings,
      Map<String, Integer> targets,
      boolean poolStatistics,
      long maxUpdateBytes) {
    this(validator, strategy, settings, targets, poolStatistics, maxUpdateBytes, null);
  }

  /** These rules, also building a profile of every accepted update. */
  public RoundRules withProfiles(Profiles value) {
    return new RoundRules(
        validator, strategy, settings, targets, poolStatistics, maxUpdateBytes, value);
  }

  /**
   * How the scan builds site profiles (see {@link ProfileBuilder}).
   *
   * @param origin the federation's initial model
   * @param choiceInformative whether the models a site could choose among differed
   * @param createdTime the profiles' createdTime
   */
  public record Profiles(
      ProfileBuilder builder, Model origin, boolean choiceInformative, long createdTime)
      implements Serializable {
    /**
     * Profiles of a round of {@code store} whose sites train {@code bases}: measured from the
     * federation's initial model, projected by {@code projection}.
     */
    public static Profiles of(
        Store store, Collection<Model> bases, RandomProjection projection, long createdTime) {
      return new Profiles(
          new ProfileBuilder(projection),
          store.readModel(0, 0),
          ProfileBuilder.choiceInformative(bases),
          createdTime);
    }
  }

  /** The cluster {@code site}'s update of {@code cluster} is aggregated into. */
  public int target(String site, int cluster) {
    return targets.getOrDefault(site, cluster);
  }
}
