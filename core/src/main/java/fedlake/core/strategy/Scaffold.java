package fedlake.core.strategy;

import com.google.auto.service.AutoService;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.Model;
import java.util.List;
import java.util.Map;

/**
 * SCAFFOLD (Karimireddy et al. 2020, "SCAFFOLD: Stochastic Controlled Averaging for Federated
 * Learning", Algorithm 1 with full participation weights replaced by example weights). Sites run
 * SGD corrected by {@code c - c_i} and upload the change {@code dc_i} of their own control variate
 * (option II). With {@code x} the base parameters, {@code y_i} the sites' parameters and {@code
 * n_i} their examples:
 *
 * <pre>
 *   x_next = x + server-lr * (sum_i n_i y_i / sum_i n_i - x)
 *   c_next = c + sum_i n_i dc_i / sum_i n_i       (an empty c is zeros; an update without dc adds none)
 * </pre>
 *
 * {@code server-lr} is the paper's global step size eta_g; at its default 1 the parameters are the
 * weighted mean rounded once to float, exactly the rule fedlake ran before strategies were
 * pluggable.
 */
@AutoService(Strategy.class)
public final class Scaffold implements Strategy {
  private static final long serialVersionUID = 1L;
  public static final String NAME = "scaffold";
  public static final String SERVER_LR = "server-lr";

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
    return "weighted mean moved by server-lr, plus the SCAFFOLD control variate c += mean control delta";
  }

  @Override
  public List<StrategyParameter> parameters() {
    return List.of(
        StrategyParameter.positive(
            SERVER_LR, 1.0, "global step size eta_g toward the weighted mean"));
  }

  @Override
  public ClientAlgorithmName requiredClient() {
    return ClientAlgorithmName.SCAFFOLD;
  }

  @Override
  public Fold newFold(Model base, StrategySettings settings) {
    return new WeightedMean(base);
  }

  @Override
  public Aggregate finish(Model base, Fold fold, StrategySettings settings) {
    WeightedMean mean = (WeightedMean) fold;
    double lr = settings.get(SERVER_LR);
    float[] x = Models.parameters(base);
    float[] next;
    if (lr == 1) {
      next = mean.mean();
    } else {
      double[] delta = mean.meanDelta(x);
      next = new float[x.length];
      for (int i = 0; i < x.length; i++) {
        next[i] = (float) (x[i] + lr * delta[i]);
      }
    }
    float[] current =
        base.getControlVariate().isEmpty()
            ? new float[x.length]
            : FloatArrays.toArray(base.getControlVariate());
    if (current.length != x.length) {
      throw new IllegalStateException(
          "Model "
              + base.getVersion()
              + " has a control variate of "
              + current.length
              + " values for "
              + x.length
              + " parameters");
    }
    double[] controlDelta = mean.meanControlDelta();
    float[] control = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      control[i] = (float) (current[i] + controlDelta[i]);
    }
    return new Aggregate(next, control, Map.of());
  }
}
