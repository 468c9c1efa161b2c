package fedlake.core.client;

import fedlake.core.train.TrainSettings;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.ClientSpec;

/**
 * What a site does in a round: the client algorithm, its training settings and FedProx's mu.
 *
 * @param proximalMu FedProx's mu, read by {@link ClientAlgorithmName#PROX} only
 * @param personalisation the personalisation mode ({@link FedDatRound}), null for none
 */
public record ClientSettings(
    ClientAlgorithmName algorithm,
    TrainSettings train,
    double proximalMu,
    Personalisation personalisation) {
  public ClientSettings(ClientAlgorithmName algorithm, TrainSettings train, double proximalMu) {
    this(algorithm, train, proximalMu, null);
  }

  public ClientSettings {
    if (algorithm == null || train == null) {
      throw new IllegalArgumentException("Client settings need an algorithm and training settings");
    }
    if (!(proximalMu >= 0) || !Double.isFinite(proximalMu)) {
      throw new IllegalArgumentException("proximal mu must be finite and >= 0, got " + proximalMu);
    }
  }

  /** The settings a federation spec names, with the site's shuffling seed. */
  public static ClientSettings of(ClientSpec spec, long seed) {
    return new ClientSettings(
        spec.getAlgorithm(),
        new TrainSettings(
            spec.getEpochs(),
            spec.getBatchSize(),
            spec.getLearningRate(),
            spec.getMomentum(),
            spec.getWeightDecay(),
            seed,
            spec.getBalancedLoss()),
        spec.getProximalMu(),
        Personalisation.of(spec.getPersonalisation()));
  }

  /**
   * These settings with the site's own training settings where it gave them; the algorithm stays.
   */
  public ClientSettings with(Overrides overrides) {
    return new ClientSettings(algorithm, overrides.apply(train), proximalMu, personalisation);
  }

  /** The algorithm these settings name. */
  public ClientAlgorithm create() {
    return ClientAlgorithm.of(algorithm, proximalMu);
  }

  /**
   * Training settings a site gives on its command line, each null where it gave none; they win over
   * the spec's (a weak site may train fewer epochs). The algorithm cannot be overridden.
   */
  public record Overrides(
      Integer epochs,
      Integer batchSize,
      Double learningRate,
      Double momentum,
      Double weightDecay,
      Boolean balancedLoss,
      Long seed) {
    public static final Overrides NONE = new Overrides(null, null, null, null, null, null, null);

    public TrainSettings apply(TrainSettings base) {
      return new TrainSettings(
          epochs == null ? base.epochs() : epochs,
          batchSize == null ? base.batchSize() : batchSize,
          learningRate == null ? base.learningRate() : learningRate,
          momentum == null ? base.momentum() : momentum,
          weightDecay == null ? base.weightDecay() : weightDecay,
          seed == null ? base.seed() : seed,
          balancedLoss == null ? base.balancedLoss() : balancedLoss);
    }
  }
}
