package fedlake.core.strategy;

import com.google.auto.service.AutoService;
import fedlake.core.model.Models;
import fedlake.core.numeric.ExactSum;
import fedlake.schema.Model;
import java.util.List;
import java.util.Map;

/**
 * FedNova (Wang et al. 2020, "Tackling the Objective Inconsistency Problem in Heterogeneous
 * Federated Optimization"), for sites running vanilla local SGD. A site that ran more steps moves
 * further; FedNova averages each site's change per step, then scales by the effective number of
 * steps, so that the fixed point does not favour sites with many steps. With {@code x} the base,
 * {@code y_i} the sites' parameters, {@code n_i} their examples and {@code tau_i} their local
 * steps:
 *
 * <pre>
 *   d_i     = (x - y_i) / tau_i                 (normalised change, rounded to float)
 *   p_i     = n_i / sum_j n_j
 *   tau_eff = sum_i p_i tau_i        (tau-eff weighted, the default)
 *           | max_i tau_i            (tau-eff max)
 *           | T                      (tau-eff T, a positive number)
 *   g       = tau_eff * sum_i p_i d_i        (the normalised pseudo-gradient)
 * </pre>
 *
 * and then the server optimizer ({@code server-optimizer}) takes a step along {@code -g}:
 *
 * <pre>
 *   sgd, server-momentum 0 (the default):  x_next = x - server-lr * g      (no server state)
 *   sgd, server-momentum > 0:              v = server-momentum * v - g      (state "momentum")
 *                                          x_next = x + server-lr * v
 *   adam:                                  m = beta1 m - (1 - beta1) g     (state "first-moment")
 *                                          s = beta2 s + (1 - beta2) g^2   (state "second-moment")
 *                                          x_next = x + server-lr * m / (sqrt(s) + tau)
 * </pre>
 *
 * <p>The paper leaves tau_eff to be chosen; the weighted mean keeps the update's size that of
 * FedAvg's when every site ran the same steps. When half the sites run one step and half twenty, it
 * is about 10.5, so the federation moves about half as far a round as one whose sites all ran
 * twenty; {@code max} moves as far as the sites that ran the most. The spec stores {@code weighted}
 * as 0 and {@code max} as -1.
 *
 * <p>The normalised step is a pseudo-gradient like FedAvg's {@code -delta} (Wang et al. combine
 * FedNova with server momentum too): when every tau_i is equal, {@code -g} is the weighted mean
 * change, so this is FedAvg (sgd without momentum), FedAvgM (sgd with momentum, Hsu et al. 2019) or
 * FedAdam (adam, Reddi et al. 2021, with its state names and its parameters beta1, beta2 and tau),
 * up to the rounding of {@code d_i} to float. With adam, {@code server-lr} is Adam's step size
 * (FedAdam's default is 0.01; fednova's default 1 is sgd's) and {@code server-momentum} is not
 * used; with sgd, beta1, beta2 and tau are not used. The fold keeps exact sums of {@code n_i d_i}
 * and {@code n_i tau_i}, so the result does not depend on order or partitioning. An update with no
 * local steps is an error.
 */
@AutoService(Strategy.class)
public final class FedNova implements Strategy {
  private static final long serialVersionUID = 1L;
  public static final String NAME = "fednova";
  public static final String SERVER_LR = "server-lr";
  public static final String TAU_EFF = "tau-eff";
  public static final String SERVER_MOMENTUM = FedAvgM.SERVER_MOMENTUM;
  public static final String MOMENTUM = FedAvgM.MOMENTUM;
  public static final double TAU_EFF_WEIGHTED = 0;
  public static final double TAU_EFF_MAX = -1;
  public static final String SERVER_OPTIMIZER = "server-optimizer";
  public static final double SGD = 0;
  public static final double ADAM = 1;
  public static final String BETA1 = AdaptiveOptimizer.BETA1;
  public static final String BETA2 = AdaptiveOptimizer.BETA2;
  public static final String TAU = AdaptiveOptimizer.TAU;
  public static final String FIRST_MOMENT = AdaptiveOptimizer.FIRST_MOMENT;
  public static final String SECOND_MOMENT = AdaptiveOptimizer.SECOND_MOMENT;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean needsEachUpdate() {
    return true;
  }

  @Override
  public String summary() {
    return "normalised averaging: mean change per local step times the effective number of steps,"
        + " applied by sgd (with optional momentum) or adam";
  }

  @Override
  public List<StrategyParameter> parameters() {
    return List.of(
        StrategyParameter.positive(SERVER_LR, 1.0, "server step size on the normalised update"),
        StrategyParameter.positive(
                TAU_EFF,
                TAU_EFF_WEIGHTED,
                "FedNova's effective number of steps: weighted (the mean of the sites' steps"
                    + " weighted by examples), max (the most steps any site ran) or a number")
            .withWords(Map.of("weighted", TAU_EFF_WEIGHTED, "max", TAU_EFF_MAX)),
        StrategyParameter.fraction(
            SERVER_MOMENTUM, 0.0, "server momentum factor (fednova: on the normalised step)"),
        new StrategyParameter(
                SERVER_OPTIMIZER,
                SGD,
                SGD,
                SGD,
                false,
                "fednova's step on the normalised update: sgd (server-lr, server-momentum) or"
                    + " adam (server-lr, beta1, beta2, tau)")
            .withWords(Map.of("sgd", SGD, "adam", ADAM)),
        StrategyParameter.fraction(BETA1, 0.9, "decay of the first moment"),
        StrategyParameter.fraction(BETA2, 0.99, "decay of the second moment"),
        StrategyParameter.positive(TAU, 0.001, "adaptivity: added to sqrt(v) in the denominator"));
  }

  @Override
  public Fold newFold(Model base, StrategySettings settings) {
    return new NormalisedSum(Models.parameters(base));
  }

  @Override
  public Aggregate finish(Model base, Fold fold, StrategySettings settings) {
    NormalisedSum sum = (NormalisedSum) fold;
    double lr = settings.get(SERVER_LR);
    float[] x = Models.parameters(base);
    double total = sum.totalWeight;
    double tauEff = tauEff(settings.get(TAU_EFF), sum);
    if (settings.get(SERVER_OPTIMIZER) == ADAM) {
      return adam(base, x, sum, tauEff, settings);
    }
    double beta = settings.get(SERVER_MOMENTUM);
    float[] next = new float[x.length];
    if (beta == 0) {
      for (int i = 0; i < x.length; i++) {
        next[i] = (float) (x[i] - lr * tauEff * (sum.changes.get(i) / total));
      }
      return Aggregate.of(next);
    }
    float[] velocity = ServerState.getOrZeros(base, MOMENTUM, x.length);
    float[] nextVelocity = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      double v = beta * velocity[i] - tauEff * (sum.changes.get(i) / total);
      next[i] = (float) (x[i] + lr * v);
      nextVelocity[i] = (float) v;
    }
    return new Aggregate(next, null, Map.of(MOMENTUM, nextVelocity));
  }

  /** Adam on {@code -g}, as FedAdam on {@code delta}. */
  private static Aggregate adam(
      Model base, float[] x, NormalisedSum sum, double tauEff, StrategySettings settings) {
    double lr = settings.get(SERVER_LR);
    double beta1 = settings.get(BETA1);
    double beta2 = settings.get(BETA2);
    double tau = settings.get(TAU);
    float[] first = ServerState.getOrZeros(base, FIRST_MOMENT, x.length);
    float[] second = ServerState.getOrZeros(base, SECOND_MOMENT, x.length);
    float[] next = new float[x.length];
    float[] nextFirst = new float[x.length];
    float[] nextSecond = new float[x.length];
    double total = sum.totalWeight;
    for (int i = 0; i < x.length; i++) {
      double d = -tauEff * (sum.changes.get(i) / total);
      double m = beta1 * first[i] + (1 - beta1) * d;
      double v = beta2 * second[i] + (1 - beta2) * d * d;
      next[i] = (float) (x[i] + lr * m / (Math.sqrt(v) + tau));
      nextFirst[i] = (float) m;
      nextSecond[i] = (float) v;
    }
    return new Aggregate(next, null, Map.of(FIRST_MOMENT, nextFirst, SECOND_MOMENT, nextSecond));
  }

  private static double tauEff(double choice, NormalisedSum sum) {
    if (choice == TAU_EFF_WEIGHTED) {
      return (double) sum.weightedSteps / sum.totalWeight;
    }
    if (choice == TAU_EFF_MAX) {
      return sum.maxSteps;
    }
    return choice;
  }

  /** Exact sums of {@code n_i d_i}, {@code n_i tau_i} and {@code n_i}, and the largest tau_i. */
  static final class NormalisedSum implements Fold {
    private static final long serialVersionUID = 1L;
    private final float[] base;
    private final ExactSum changes;
    private long totalWeight;
    private long weightedSteps;
    private int maxSteps;
    private int count;

    NormalisedSum(float[] base) {
      this.base = base;
      this.changes = new ExactSum(base.length);
    }

    @Override
    public void add(UpdateParameters update) {
      int steps = update.localSteps();
      if (steps <= 0) {
        throw new IllegalArgumentException(
            "FedNova cannot use the update of site "
                + update.site()
                + ": it reports "
                + steps
                + " local steps (must be positive)");
      }
      float[] y = update.parameters();
      if (y.length != base.length) {
        throw new IllegalArgumentException(
            "Update of site "
                + update.site()
                + " has "
                + y.length
                + " parameters, the base has "
                + base.length);
      }
      long weight = update.numExamples();
      for (int i = 0; i < y.length; i++) {
        changes.add(i, (float) (((double) base[i] - y[i]) / steps), weight);
      }
      totalWeight += weight;
      weightedSteps += weight * steps;
      maxSteps = Math.max(maxSteps, steps);
      count++;
    }

    @Override
    public Fold merge(Fold other) {
      NormalisedSum that = (NormalisedSum) other;
      changes.merge(that.changes);
      totalWeight += that.totalWeight;
      weightedSteps += that.weightedSteps;
      maxSteps = Math.max(maxSteps, that.maxSteps);
      count += that.count;
      return this;
    }

    @Override
    public int count() {
      return count;
    }
  }
}
