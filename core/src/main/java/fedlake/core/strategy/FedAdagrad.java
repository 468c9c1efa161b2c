package fedlake.core.strategy;

import com.google.auto.service.AutoService;
import fedlake.core.model.Models;
import fedlake.schema.Model;
import java.util.List;
import java.util.Map;

/**
 * FedAdagrad: the server-side Adagrad update (which has no beta2) of Algorithm 2 of Reddi et al.
 * 2021, "Adaptive Federated Optimization" (ICLR 2021).
 *
 * <p>With {@code x} the base parameters and {@code delta = sum_i n_i y_i / sum_i n_i - x} the
 * example-weighted mean change of the sites' parameters {@code y_i}, per parameter:
 *
 * <pre>
 *   m      = beta1 m + (1 - beta1) delta
 *   v      = v + delta^2
 *   x_next = x + server-lr * m / (sqrt(v) + tau)
 * </pre>
 *
 * As in the paper there is no bias correction. Both moments start at zeros in the first round
 * ({@code m_-1 = 0} as in the paper; for {@code v} the paper takes {@code v_-1 >= tau^2}, fedlake
 * takes {@code v_-1 = 0}, so that a round-0 model needs no state). They are stored with the model
 * as server state {@code first-moment} and {@code second-moment}. Arithmetic in double, rounded
 * once to float.
 *
 * <p>Defaults were chosen on CLIP ViT-B/32 caltech101 embeddings (20 sites, Dirichlet alpha 0.1, 30
 * rounds, local SGD lr 0.3, 5 epochs): see docs/strategies.md.
 */
@AutoService(Strategy.class)
public final class FedAdagrad implements Strategy {
  private static final long serialVersionUID = 1L;
  public static final String NAME = "fedadagrad";
  public static final String FIRST_MOMENT = "first-moment";
  public static final String SECOND_MOMENT = "second-moment";
  public static final String SERVER_LR = "server-lr";
  public static final String BETA1 = "beta1";
  public static final String TAU = "tau";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String summary() {
    return "server Adagrad on the mean change (Reddi et al. 2021)";
  }

  @Override
  public List<StrategyParameter> parameters() {
    return List.of(
        StrategyParameter.positive(SERVER_LR, 0.1, "server step size"),
        StrategyParameter.fraction(BETA1, 0.9, "decay of the first moment"),
        StrategyParameter.positive(TAU, 0.001, "adaptivity: added to sqrt(v) in the denominator"));
  }

  @Override
  public Fold newFold(Model base, StrategySettings settings) {
    return new WeightedMean(base);
  }

  @Override
  public Aggregate finish(Model base, Fold fold, StrategySettings settings) {
    double lr = settings.get(SERVER_LR);
    double beta1 = settings.get(BETA1);
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
      double v = second[i] + d * d;
      next[i] = (float) (x[i] + lr * m / (Math.sqrt(v) + tau));
      nextFirst[i] = (float) m;
      nextSecond[i] = (float) v;
    }
    return new Aggregate(next, null, Map.of(FIRST_MOMENT, nextFirst, SECOND_MOMENT, nextSecond));
  }
}
