package fedlake.core.strategy;

import fedlake.core.model.Models;
import fedlake.schema.Model;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The adaptive server optimizers of Reddi et al. 2021, "Adaptive Federated Optimization", Algorithm
 * 2: with {@code x} the base parameters and {@code delta} the example-weighted mean change of the
 * sites' parameters, per parameter
 *
 * <pre>
 *   m      = beta1 m + (1 - beta1) delta
 *   v      = secondMoment(v, delta)        (Adagrad, Adam or Yogi: the subclass)
 *   x_next = x + server-lr * m / (sqrt(v) + tau)
 * </pre>
 *
 * As in the paper there is no bias correction. Both moments start at zeros in the first round (the
 * paper takes {@code v_-1 >= tau^2}; fedlake takes 0, so that a round-0 model needs no state) and
 * are stored with the model as server state {@code first-moment} and {@code second-moment}.
 * Arithmetic in double, rounded once to float.
 */
abstract class AdaptiveOptimizer implements Strategy {
  private static final long serialVersionUID = 1L;
  public static final String FIRST_MOMENT = "first-moment";
  public static final String SECOND_MOMENT = "second-moment";
  public static final String SERVER_LR = "server-lr";
  public static final String BETA1 = "beta1";
  public static final String BETA2 = "beta2";
  public static final String TAU = "tau";

  /** Default server step size. */
  abstract double serverLrDefault();

  /** Whether the second moment decays ({@code beta2}); Adagrad's does not. */
  abstract boolean decays();

  /** The next second moment from the current {@code v} and the change {@code delta}. */
  abstract double secondMoment(double v, double delta, double beta2);

  @Override
  public List<StrategyParameter> parameters() {
    List<StrategyParameter> parameters = new ArrayList<>();
    parameters.add(StrategyParameter.positive(SERVER_LR, serverLrDefault(), "server step size"));
    parameters.add(StrategyParameter.fraction(BETA1, 0.9, "decay of the first moment"));
    if (decays()) {
      parameters.add(StrategyParameter.fraction(BETA2, 0.99, "decay of the second moment"));
    }
    parameters.add(
        StrategyParameter.positive(TAU, 0.001, "adaptivity: added to sqrt(v) in the denominator"));
    return List.copyOf(parameters);
  }

  @Override
  public Fold newFold(Model base, StrategySettings settings) {
    return new WeightedMean(base);
  }

  @Override
  public Aggregate finish(Model base, Fold fold, StrategySettings settings) {
    double lr = settings.get(SERVER_LR);
    double beta1 = settings.get(BETA1);
    double beta2 = decays() ? settings.get(BETA2) : 0;
    double tau = settings.get(TAU);
    float[] x = Models.parameters(base);
    double[] delta = ((WeightedMean) fold).meanDelta(x);
    float[] first = ServerState.getOrZeros(base, FIRST_MOMENT, x.length);
    float[] second = ServerState.getOrZeros(base, SECOND_MOMENT, x.length);
    float[] next = new float[x.length];
    float[] nextFirst = new float[x.length];
    float[] nextSecond = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      double d = delta[i];
      double m = beta1 * first[i] + (1 - beta1) * d;
      double v = secondMoment(second[i], d, beta2);
      next[i] = (float) (x[i] + lr * m / (Math.sqrt(v) + tau));
      nextFirst[i] = (float) m;
      nextSecond[i] = (float) v;
    }
    return new Aggregate(next, null, Map.of(FIRST_MOMENT, nextFirst, SECOND_MOMENT, nextSecond));
  }
}
