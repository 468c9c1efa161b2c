package fedlake.core.round;

import fedlake.core.strategy.Fold;
import fedlake.core.synth.StatisticsPool;
import fedlake.schema.SiteProfile;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a scan of update files found: one check per file, and per target cluster the fold of the
 * accepted updates, the pool of their class statistics and the sum of their predictions, and, when
 * asked, a profile of every accepted update. Partial results of tasks merge.
 */
public final class ScanResult implements Serializable {
  private static final long serialVersionUID = 1L;
  private final List<UpdateCheck> checks = new ArrayList<>();
  private final Map<Integer, Fold> folds = new HashMap<>();
  private final Map<Integer, StatisticsPool> statistics = new HashMap<>();
  private final Map<Integer, PriorCorrection> priors = new HashMap<>();
  private final Map<String, SiteProfile> profiles = new HashMap<>();

  public List<UpdateCheck> checks() {
    return checks;
  }

  public Map<Integer, Fold> folds() {
    return folds;
  }

  public Map<Integer, StatisticsPool> statistics() {
    return statistics;
  }

  /** Per target cluster, the prediction sums of the accepted updates that report one. */
  public Map<Integer, PriorCorrection> priors() {
    return priors;
  }

  /** File to the profile of its accepted update, when the rules ask for profiles. */
  public Map<String, SiteProfile> profiles() {
    return profiles;
  }

  /** Adds everything {@code other} holds into this one; returns this. */
  public ScanResult merge(ScanResult other) {
    checks.addAll(other.checks);
    other.folds.forEach((cluster, fold) -> folds.merge(cluster, fold, Fold::merge));
    other.statistics.forEach(
        (cluster, pool) -> statistics.merge(cluster, pool, StatisticsPool::merge));
    other.priors.forEach((cluster, sums) -> priors.merge(cluster, sums, PriorCorrection::merge));
    profiles.putAll(other.profiles);
    return this;
  }
}
