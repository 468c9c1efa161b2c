package fedlake.core.strategy;

import com.google.auto.service.AutoService;

/**
 * FedAdam: the server-side Adam update of Algorithm 2 of Reddi et al. 2021, "Adaptive Federated
 * Optimization" (ICLR 2021).
 *
 * <p>With {@code x} the base parameters and {@code delta = sum_i n_i y_i / sum_i n_i - x} the
 * example-weighted mean change of the sites' parameters {@code y_i}, per parameter:
 *
 * <pre>
 *   m      = beta1 m + (1 - beta1) delta
 *   v      = beta2 v + (1 - beta2) delta^2
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
public final class FedAdam extends AdaptiveOptimizer {
  private static final long serialVersionUID = 1L;
  public static final String NAME = "fedadam";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String summary() {
    return "server Adam on the mean change (Reddi et al. 2021)";
  }

  @Override
  double serverLrDefault() {
    return 0.01;
  }

  @Override
  boolean decays() {
    return true;
  }

  @Override
  double secondMoment(double v, double delta, double beta2) {
    return beta2 * v + (1 - beta2) * delta * delta;
  }
}
