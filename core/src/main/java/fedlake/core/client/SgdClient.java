package fedlake.core.client;

import fedlake.schema.ClientAlgorithmName;

/**
 * Plain local SGD (FedAvg's client): no gradient term, nothing uploaded or kept besides the
 * parameters.
 */
public final class SgdClient implements ClientAlgorithm {
  @Override
  public ClientAlgorithmName name() {
    return ClientAlgorithmName.SGD;
  }

  @Override
  public Round begin(RoundStart start) {
    return new Round() {
      @Override
      public GradientTerm term() {
        return GradientTerm.NONE;
      }

      @Override
      public Outcome finish(float[] trained, int steps, double learningRate) {
        return Outcome.NOTHING;
      }
    };
  }
}
