package fedlake.core.client;

import fedlake.schema.ClientSpec;
import fedlake.schema.ForwardOnlySpec;
import fedlake.schema.SiteBudgetSpec;
import java.util.Locale;
import java.util.Map;

/** Reads forward-only settings and site budgets out of a federation spec's {@code client}. */
public final class ForwardOnlySpecs {
  public static final String BACKPROP = "backprop";
  public static final String FORWARD_ONLY = "forward-only";

  private ForwardOnlySpecs() {}

  /** The spec's forward-only settings (their defaults when it gives none). */
  public static ForwardOnlySettings settings(ClientSpec spec) {
    ForwardOnlySpec f = spec.getForwardOnly();
    if (f == null) {
      return ForwardOnlySettings.defaults();
    }
    try {
      return new ForwardOnlySettings(
          f.getPerturbation(),
          f.getLearningRate(),
          f.getDirections(),
          f.getSteps(),
          f.getBatchSize(),
          f.getCandidates() == null ? f.getDirections() : f.getCandidates());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("client.forwardOnly: " + e.getMessage(), e);
    }
  }

  /**
   * The budget of {@code site} (null: the spec-wide one) of class {@code siteClass} (null: none):
   * the {@code client.budgets} entry of the site id, else of the class, else none; its optimizer,
   * else the spec's.
   */
  public static SiteBudget budget(ClientSpec spec, String site, String siteClass) {
    Map<String, SiteBudgetSpec> budgets = spec.getBudgets();
    SiteBudgetSpec entry = null;
    if (budgets != null) {
      entry = site == null ? null : budgets.get(site);
      if (entry == null && siteClass != null) {
        entry = budgets.get(siteClass);
      }
    }
    String optimizer =
        entry != null && entry.getOptimizer() != null ? entry.getOptimizer() : spec.getOptimizer();
    String where =
        entry != null && entry.getOptimizer() != null
            ? "client.budgets[" + (budgets.get(site) == entry ? site : siteClass) + "].optimizer"
            : "client.optimizer";
    boolean forward = forwardOnly(optimizer, where);
    Integer steps = entry == null ? null : entry.getLocalSteps();
    if (steps != null && steps < 1) {
      throw new IllegalArgumentException("client.budgets: local steps must be >= 1, got " + steps);
    }
    return new SiteBudget(steps, forward ? settings(spec) : null);
  }

  /**
   * Whether {@code optimizer} names forward-only training; anything but the two names is refused.
   */
  public static boolean forwardOnly(String optimizer, String where) {
    String id = optimizer == null ? BACKPROP : optimizer.toLowerCase(Locale.ROOT);
    if (id.equals(BACKPROP)) {
      return false;
    }
    if (id.equals(FORWARD_ONLY)) {
      return true;
    }
    throw new IllegalArgumentException(
        where + ": unknown optimizer '" + optimizer + "' (expected backprop or forward-only)");
  }
}
