package fedlake.core.strategy;

import com.google.auto.service.AutoService;
import fedlake.schema.Model;

/**
 * FedAvg (McMahan et al. 2017): the mean of the updates' parameters weighted by their number of
 * examples.
 */
@AutoService(Strategy.class)
public final class FedAvg implements Strategy {
  private static final long serialVersionUID = 1L;
  public static final String NAME = "fedavg";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String summary() {
    return "weighted mean of the sites' parameters (weights: numExamples)";
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
