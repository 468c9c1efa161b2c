package fedlake.core.client;

import fedlake.core.train.TrainSettings;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.ClientSpec;

/**
 * What a site does in a round: the client algorithm, its training settings and FedProx's mu.
 *
 * @param proximalMu FedProx's mu, read by {@link ClientAlgorithmName#PROX} only
 * @param personalisation the personalisation mode ({@link FedDatRound}), null for none
 * @param budget the site's budget: a step cap, forward-only training ({@link SiteBudget})
 */
public record ClientSettings(
    ClientAlgorithmName algorithm,
    TrainSettings train,
    double proximalMu,
    Personalisation personalisation,
    SiteBudget budget) {
  public ClientSettings(ClientAlgorithmName algorithm, TrainSettings train, double proximalMu) {
    this(algorithm, train, proximalMu, null, SiteBudget.NONE);
  }

  public ClientSettings(
      ClientAlgorithmName algorithm,
      TrainSettings train,
      double proximalMu,
      Personalisation personalisation) {
    this(algorithm, train, proximalMu, personalisation, SiteBudget.NONE);
  }

  public ClientSettings(
      ClientAlgorithmName algorithm, TrainSettings train, double proximalMu, SiteBudget budget) {
    this(algorithm, train, proximalMu, null, budget);
  }

  public ClientSettings {
    if (algorithm == null || train == null || budget == null) {
      throw new IllegalArgumentException(
          "Client settings need an algorithm, training settings and a budget");
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
        Personalisation.of(spec.getPersonalisation()),
        ForwardOnlySpecs.budget(spec, null, null));
  }

  /**
   * The settings a federation spec names for site {@code site} of class {@code siteClass} (null:
   * none): its budget is the spec's {@code client.budgets} entry of the site id, else of its class,
   * else the spec-wide one.
   */
  public static ClientSettings of(ClientSpec spec, long seed, String site, String siteClass) {
    ClientSettings all = of(spec, seed);
    return all.with(ForwardOnlySpecs.budget(spec, site, siteClass));
  }

  /** These settings with another budget. */
  public ClientSettings with(SiteBudget value) {
    return new ClientSettings(algorithm, train, proximalMu, personalisation, value);
  }

  /**
   * These settings with the site's own training settings where it gave them; the algorithm stays.
   */
  public ClientSettings with(Overrides overrides) {
    return new ClientSettings(
        algorithm, overrides.apply(train), proximalMu, personalisation, budget);
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
