package fedlake.core.privacy;

import fedlake.core.model.Models;
import fedlake.core.numeric.ExactSum;
import fedlake.core.strategy.Aggregate;
import fedlake.core.strategy.Fold;
import fedlake.core.strategy.Strategy;
import fedlake.core.strategy.StrategySettings;
import fedlake.core.strategy.StrategyWrapper;
import fedlake.core.strategy.UpdateOutcome;
import fedlake.core.strategy.UpdateParameters;
import fedlake.schema.Model;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A strategy wrapped in central differential privacy ({@link CentralDp}; Flower style: wrap, don't
 * subclass). The fold sums the sites' changes clipped to the bound, exactly and in any order; the
 * finish adds the round's seeded noise, divides by {@code sampleFraction x population} and hands
 * the wrapped strategy one update, the noisy average, so that server optimizers (FedAvgM, FedAdam,
 * ...) apply their step to it (DP-FedAdam and the like). Memory: one exact sum, as FedAvg.
 */
public final class PrivateStrategy extends StrategyWrapper {
  private static final long serialVersionUID = 1L;
  private final CentralDp dp;

  private PrivateStrategy(Strategy inner, CentralDp dp) {
    super(inner);
    this.dp = dp;
  }

  /** {@code inner} wrapped in {@code dp}; {@code inner} itself when dp is null. */
  public static Strategy wrap(Strategy inner, CentralDp dp) {
    return dp == null ? inner : new PrivateStrategy(inner, dp);
  }

  public CentralDp mechanism() {
    return dp;
  }

  @Override
  public String summary() {
    return inner().summary() + ", " + dp.describe();
  }

  @Override
  public Fold newFold(Model base, StrategySettings settings) {
    return new ClippedSum(Models.parameters(base), dp.clipNorm(), Centring.of(dp.centre(), base));
  }

  @Override
  public Aggregate finish(Model base, Fold fold, StrategySettings settings) {
    ClippedSum sum = (ClippedSum) fold;
    float[] reference = Models.parameters(base);
    double[] noise = dp.noise(base.getRound(), base.getVersion(), reference.length);
    Centring centring = Centring.of(dp.centre(), base);
    if (centring != null) {
      centring.toStored(noise); // drawn in centred coordinates, like the clipped changes
    }
    double denominator = dp.denominator();
    float[] average = new float[reference.length];
    for (int i = 0; i < average.length; i++) {
      average[i] = (float) (reference[i] + (sum.changes.get(i) + noise[i]) / denominator);
    }
    Fold one = inner().newFold(base, settings);
    one.add(
        new UpdateParameters(
            "dp-average",
            1,
            (int) Math.round((double) sum.steps / sum.count),
            average,
            new float[0]));
    return inner().finish(base, one, settings).withOutcomes(sum.outcomes);
  }

  /** Exact sum of the clipped changes, with what clipping did to each for the audit. */
  static final class ClippedSum implements Fold {
    private static final long serialVersionUID = 1L;
    private final float[] base;
    private final double bound;
    private final Centring centring;
    private final ExactSum changes;
    private final List<UpdateOutcome> outcomes = new ArrayList<>();
    private long steps;
    private int count;

    ClippedSum(float[] base, double bound, Centring centring) {
      this.base = base;
      this.bound = bound;
      this.centring = centring;
      this.changes = new ExactSum(base.length);
    }

    @Override
    public void add(UpdateParameters update) {
      float[] change = new float[base.length];
      float[] p = update.parameters();
      for (int i = 0; i < change.length; i++) {
        change[i] = (float) ((double) p[i] - base[i]);
      }
      double norm = CentralDp.clip(change, bound, centring);
      changes.addAll(change, 1);
      // the edge runner clipped already: float rounding may leave its change a hair above
      boolean clipped = norm > bound * (1 + 1e-5);
      outcomes.add(
          new UpdateOutcome(
              update.site(),
              clipped ? UpdateOutcome.Action.CLIPPED : UpdateOutcome.Action.KEPT,
              String.format(
                  Locale.ROOT,
                  clipped
                      ? "change norm %.4g clipped to %.4g (privacy.clipNorm); weight 1 (DP-FedAvg)"
                      : "change norm %.4g within %.4g (privacy.clipNorm); weight 1 (DP-FedAvg)",
                  norm,
                  bound)));
      steps += update.localSteps();
      count++;
    }

    @Override
    public Fold merge(Fold other) {
      ClippedSum that = (ClippedSum) other;
      changes.merge(that.changes);
      outcomes.addAll(that.outcomes);
      steps += that.steps;
      count += that.count;
      return this;
    }

    @Override
    public int count() {
      return count;
    }
  }
}
