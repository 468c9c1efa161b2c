package fedlake.core.client;

/**
 * What one site (or every site of a class) may spend on a round, from the federation spec's {@code
 * client.budgets}: at most {@code localSteps} optimizer steps (null: as many as its epochs give),
 * and whether it trains forward-only ({@code forwardOnly} non-null: SPSA with those settings)
 * instead of by backpropagation.
 */
public record SiteBudget(Integer localSteps, ForwardOnlySettings forwardOnly) {
  public static final SiteBudget NONE = new SiteBudget(null, null);

  public SiteBudget {
    if (localSteps != null && localSteps < 1) {
      throw new IllegalArgumentException("a budget's local steps must be >= 1, got " + localSteps);
    }
  }

  /** The step cap, {@link Integer#MAX_VALUE} for none. */
  public int maxSteps() {
    return localSteps == null ? Integer.MAX_VALUE : localSteps;
  }

  /** One line for the log. */
  public String describe() {
    if (forwardOnly != null) {
      ForwardOnlySettings f = forwardOnly;
      return String.format(
          java.util.Locale.ROOT,
          "forward-only (SPSA: %d steps x %d directions%s, perturbation %s, learning rate %s, batch"
              + " %d)",
          localSteps == null ? f.steps() : Math.min(localSteps, f.steps()),
          f.directions(),
          f.chooses() ? " of " + f.candidates() + " candidates" : "",
          f.perturbation(),
          f.learningRate(),
          f.batchSize());
    }
    return localSteps == null ? "backprop" : "backprop, at most " + localSteps + " local steps";
  }
}
