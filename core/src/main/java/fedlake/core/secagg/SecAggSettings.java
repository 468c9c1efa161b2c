package fedlake.core.secagg;

import fedlake.core.strategy.Strategies;
import fedlake.schema.FederationSpec;
import fedlake.schema.SecureAggregationSpec;

/** The secure aggregation part of a federation spec, checked. */
public record SecAggSettings(
    int threshold,
    Quantizer quantizer,
    long keysSeconds,
    long sharesSeconds,
    long maskedSeconds,
    long unmaskSeconds) {
  /** Most sites one round can hold: keeps the 64-bit sums exact ({@link Quantizer}). */
  public static final int MAX_SITES = 1024;

  /** Whether {@code spec} (null: a store without one) runs secure aggregation. */
  public static boolean on(FederationSpec spec) {
    return spec != null && spec.getSecureAggregation() != null;
  }

  public static SecAggSettings of(FederationSpec spec) {
    SecureAggregationSpec s = spec.getSecureAggregation();
    if (s == null) {
      throw new IllegalStateException("the federation spec does not ask for secure aggregation");
    }
    if (s.getThreshold() < 2) {
      throw new IllegalArgumentException(
          "secure aggregation threshold must be at least 2, got " + s.getThreshold());
    }
    for (long seconds :
        new long[] {
          s.getKeysSeconds(), s.getSharesSeconds(), s.getMaskedSeconds(), s.getUnmaskSeconds()
        }) {
      if (seconds < 1) {
        throw new IllegalArgumentException(
            "secure aggregation phase deadlines must be at least 1 second, got " + seconds);
      }
    }
    return new SecAggSettings(
        s.getThreshold(),
        new Quantizer(s.getClip(), s.getScale()),
        s.getKeysSeconds(),
        s.getSharesSeconds(),
        s.getMaskedSeconds(),
        s.getUnmaskSeconds());
  }

  /**
   * Why {@code spec}'s other settings cannot run with secure aggregation, or null when they can.
   * The round job sees only the sum: nothing that needs an individual update can work.
   */
  public static String refusal(FederationSpec spec) {
    if (!on(spec)) {
      return null;
    }
    of(spec);
    String strategy = spec.getStrategy().getName();
    if (Strategies.named(strategy).needsEachUpdate()) {
      return "secure aggregation gives the round job only the sum of the updates; strategy "
          + strategy
          + " needs more (control variates or local steps): use "
          + Strategies.meanOnlyNames();
    }
    var robustness = spec.getRobustness();
    if (!"mean".equals(robustness.getAggregation())
        || robustness.getClipNorm() > 0
        || robustness.getClipMedianMultiple() > 0
        || robustness.getWeightMedianMultiple() > 0
        || robustness.getExcludeMedianMultiple() > 0
        || robustness.getDirectionFloor() > -1
        || robustness.getMisdirectedCeiling() > 0) {
      return "secure aggregation hides every individual update, so robust aggregation (median,"
          + " trimmed mean, Krum, norm clipping, weight caps, exclusion by norm, direction or class"
          + " rows) cannot run on them; set --aggregation mean, the clipping and cap multiples and"
          + " --misdirected-ceiling to 0 and --direction-floor to -1, or turn secure aggregation"
          + " off";
    }
    if (spec.getModel().getClusters() != 1) {
      return "secure aggregation needs one model: clustering and site profiles read individual"
          + " updates (the spec has "
          + spec.getModel().getClusters()
          + " clusters)";
    }
    if (spec.getPrivacy() != null && !"none".equals(spec.getPrivacy().getMechanism())) {
      return "central differential privacy is not combined with secure aggregation in this"
          + " version: its server-side clipping and sampling checks need individual updates"
          + " (docs/secure-aggregation.md)";
    }
    if (spec.getRoundPolicy().getLateUpdates() != fedlake.schema.LateUpdatePolicy.IGNORE) {
      return "secure aggregation runs each round's protocol once: late updates cannot be"
          + " buffered (--late-updates ignore)";
    }
    return null;
  }

  /** Length of phase {@code phase} (0 keys, 1 shares, 2 masked, 3 unmask) in seconds. */
  public long length(int phase) {
    return new long[] {keysSeconds, sharesSeconds, maskedSeconds, unmaskSeconds}[phase];
  }

  /** The threshold the round uses with {@code n} sites that posted keys: max(t, n/2 + 1). */
  public int effectiveThreshold(int n) {
    return Math.max(threshold, n / 2 + 1);
  }
}
