package fedlake.core.client;

import fedlake.schema.ClientAlgorithmName;

/**
 * FedProx (Li et al., MLSys 2020): local SGD on the objective plus {@code mu/2 |w - w_round|^2},
 * which keeps a site near the round's model; its gradient {@code mu (w - w_round)} joins every
 * step's gradient.
 */
public final class ProxClient implements ClientAlgorithm {
  private final double mu;

  public ProxClient(double mu) {
    if (!(mu >= 0) || !Double.isFinite(mu)) {
      throw new IllegalArgumentException("FedProx mu must be finite and >= 0, got " + mu);
    }
    this.mu = mu;
  }

  public double mu() {
    return mu;
  }

  @Override
  public ClientAlgorithmName name() {
    return ClientAlgorithmName.PROX;
  }

  @Override
  public Round begin(RoundStart start) {
    GradientTerm term =
        mu == 0
            ? GradientTerm.NONE
            : GradientTerm.proximal(mu, start.objective().pack(start.base()));
    return new Round() {
      @Override
      public GradientTerm term() {
        return term;
      }

      @Override
      public Outcome finish(float[] trained, int steps, double learningRate) {
        return Outcome.NOTHING;
      }
    };
  }
}
