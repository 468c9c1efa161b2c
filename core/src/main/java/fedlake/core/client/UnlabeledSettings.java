package fedlake.core.client;

/**
 * How a site without labels trains (FST-CBDG, docs/unlabeled.md): soft pseudo-labels from the
 * received model, kept as a moving average per row in the site state; a class-balanced selection of
 * the confident rows; class-balanced samples around the class text embeddings mixed into every
 * batch; a balance term that pulls the site's mean prediction toward uniform; and a trust term
 * toward the zero-shot head.
 *
 * @param momentum weight of the kept soft labels in the moving average, {@code q <- momentum q + (1
 *     - momentum) p}, in [0, 1)
 * @param topFraction per class (by the soft label's top class), the share of its most confident
 *     rows that train, in (0, 1]
 * @param temperature the soft labels are sharpened to {@code q^(1/temperature)} (renormalised)
 *     before they become targets; 1 keeps them
 * @param balance weight of the class-balance term on the bias: the gradient {@code balance (C p -
 *     1)} averaged over the batch, zero when the mean prediction is uniform
 * @param synthWeight weight of the cross-entropy on the text-Gaussian samples
 * @param synthScale length of the Gaussian noise around a unit text embedding ({@link
 *     fedlake.core.synth.TextSource})
 * @param synthPerBatch text-Gaussian samples per batch (classes in a seeded, class-balanced order)
 * @param trust weight of {@code trust/2 |W - W_0|^2} toward the zero-shot head W_0 (weights only)
 * @param priorCorrection damping of the server's prior correction in [0, 1], 0 off; above 0 the
 *     site reports the sum of its rows' predicted probabilities under the received model
 */
public record UnlabeledSettings(
    double momentum,
    double topFraction,
    double temperature,
    double balance,
    double synthWeight,
    double synthScale,
    int synthPerBatch,
    double trust,
    double priorCorrection) {
  public static final double MOMENTUM_DEFAULT = 0.7;
  public static final double TOP_FRACTION_DEFAULT = 0.5;
  public static final double TEMPERATURE_DEFAULT = 0.5;
  public static final double BALANCE_DEFAULT = 0.0;
  public static final double SYNTH_WEIGHT_DEFAULT = 0.5;
  public static final double SYNTH_SCALE_DEFAULT = 0.5;
  public static final int SYNTH_PER_BATCH_DEFAULT = 16;
  public static final double TRUST_DEFAULT = 1.0;
  public static final double PRIOR_CORRECTION_DEFAULT = 1.0;

  public UnlabeledSettings {
    check(momentum >= 0 && momentum < 1, "momentum", momentum, "in [0, 1)");
    check(topFraction > 0 && topFraction <= 1, "top fraction", topFraction, "in (0, 1]");
    check(temperature > 0 && temperature <= 10, "temperature", temperature, "in (0, 10]");
    check(balance >= 0 && balance <= 100, "balance", balance, "in [0, 100]");
    check(synthWeight >= 0 && synthWeight <= 100, "synthetic weight", synthWeight, "in [0, 100]");
    check(synthScale >= 0 && synthScale <= 100, "synthetic scale", synthScale, "in [0, 100]");
    check(
        synthPerBatch >= 0 && synthPerBatch <= 4096,
        "synthetic samples per batch",
        synthPerBatch,
        "in [0, 4096]");
    check(trust >= 0 && trust <= 1000, "trust", trust, "in [0, 1000]");
    check(
        priorCorrection >= 0 && priorCorrection <= 1,
        "prior correction",
        priorCorrection,
        "in [0, 1]");
  }

  private static void check(boolean ok, String what, double value, String range) {
    if (!ok || !Double.isFinite(value)) {
      throw new IllegalArgumentException(
          "unlabeled training: " + what + " must be " + range + ", got " + value);
    }
  }

  public static UnlabeledSettings defaults() {
    return new UnlabeledSettings(
        MOMENTUM_DEFAULT,
        TOP_FRACTION_DEFAULT,
        TEMPERATURE_DEFAULT,
        BALANCE_DEFAULT,
        SYNTH_WEIGHT_DEFAULT,
        SYNTH_SCALE_DEFAULT,
        SYNTH_PER_BATCH_DEFAULT,
        TRUST_DEFAULT,
        PRIOR_CORRECTION_DEFAULT);
  }

  /** The settings a federation spec names ({@code client.unlabeled}). */
  public static UnlabeledSettings of(fedlake.schema.UnlabeledSpec spec) {
    return new UnlabeledSettings(
        spec.getMomentum(),
        spec.getTopFraction(),
        spec.getTemperature(),
        spec.getBalance(),
        spec.getSynthWeight(),
        spec.getSynthScale(),
        spec.getSynthPerBatch(),
        spec.getTrust(),
        spec.getPriorCorrection());
  }

  /** One line for logs. */
  public String describe() {
    return String.format(
        java.util.Locale.ROOT,
        "momentum %s, top %s a class, temperature %s, balance %s, text-Gaussian weight %s scale %s"
            + " x %d a batch, trust %s, prior correction %s",
        momentum,
        topFraction,
        temperature,
        balance,
        synthWeight,
        synthScale,
        synthPerBatch,
        trust,
        priorCorrection);
  }
}
