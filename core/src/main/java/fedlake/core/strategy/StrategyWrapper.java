package fedlake.core.strategy;

import fedlake.schema.ClientAlgorithmName;
import java.util.List;

/**
 * A strategy wrapped in a cross-cutting rule (robust aggregation, differential privacy): it keeps
 * the wrapped strategy's name, parameters and client, and adds the rule's folds and finish.
 */
public abstract class StrategyWrapper implements Strategy {
  private static final long serialVersionUID = 1L;
  private final Strategy inner;

  protected StrategyWrapper(Strategy inner) {
    this.inner = inner;
  }

  /** The wrapped strategy. */
  public Strategy inner() {
    return inner;
  }

  @Override
  public String name() {
    return inner.name();
  }

  @Override
  public List<StrategyParameter> parameters() {
    return inner.parameters();
  }

  @Override
  public ClientAlgorithmName requiredClient() {
    return inner.requiredClient();
  }
}
