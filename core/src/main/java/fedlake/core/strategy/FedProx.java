package fedlake.core.strategy;

import com.google.auto.service.AutoService;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.Model;

/**
 * FedProx (Li et al. 2020, "Federated Optimization in Heterogeneous Networks"). The sites minimise
 * their loss plus the proximal term {@code mu/2 |w - x|^2} (client algorithm PROX; mu is the spec's
 * {@code client.proximalMu}); the server averages as FedAvg: {@code x_next = sum_i n_i y_i / sum_i
 * n_i}, rounded once to float.
 */
@AutoService(Strategy.class)
public final class FedProx implements Strategy {
  private static final long serialVersionUID = 1L;
  public static final String NAME = "fedprox";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String summary() {
    return "FedAvg on the server; sites add the proximal term mu/2 |w - x|^2";
  }

  @Override
  public ClientAlgorithmName requiredClient() {
    return ClientAlgorithmName.PROX;
  }

  @Override
  public Fold newFold(Model base, StrategySettings settings) {
    return new WeightedMean(base);
  }

  @Override
  public Aggregate finish(Model base, Fold fold, StrategySettings settings) {
    return Aggregate.of(((WeightedMean) fold).mean());
  }
}
