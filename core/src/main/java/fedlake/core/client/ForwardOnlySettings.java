package fedlake.core.client;

/**
 * Settings of forward-only (zeroth-order) local training, two-point SPSA: every step draws {@code
 * directions} seeded perturbations {@code z} ({@link Perturbations}), measures the minibatch loss
 * at {@code w + perturbation z} and {@code w - perturbation z}, and moves {@code w} by {@code
 * -learningRate / directions * (L+ - L-) / (2 perturbation) * z} for each.
 *
 * @param perturbation the scale epsilon of the perturbations
 * @param learningRate the step size
 * @param directions perturbations a step (their estimates are averaged)
 * @param steps local steps a round
 * @param batchSize rows a step's losses are measured on
 */
public record ForwardOnlySettings(
    double perturbation, double learningRate, int directions, int steps, int batchSize) {
  public static final double PERTURBATION_DEFAULT = 1e-3;
  public static final double LEARNING_RATE_DEFAULT = 0.05;
  public static final int DIRECTIONS_DEFAULT = 10;
  public static final int STEPS_DEFAULT = 50;
  public static final int BATCH_SIZE_DEFAULT = 32;

  /**
   * The most scalars one update may carry (steps x directions): the round job's replay of one
   * update costs this many passes over the parameters at most.
   */
  public static final int MAX_SCALARS = 1 << 16;

  public ForwardOnlySettings {
    if (!(perturbation > 0) || !Double.isFinite(perturbation)) {
      throw new IllegalArgumentException(
          "forward-only perturbation must be finite and > 0, got " + perturbation);
    }
    if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
      throw new IllegalArgumentException(
          "forward-only learning rate must be finite and > 0, got " + learningRate);
    }
    if (directions < 1 || steps < 1 || batchSize < 1) {
      throw new IllegalArgumentException(
          "forward-only directions, steps and batch size must be >= 1, got "
              + directions
              + ", "
              + steps
              + ", "
              + batchSize);
    }
    if ((long) directions * steps > MAX_SCALARS) {
      throw new IllegalArgumentException(
          "forward-only steps x directions must be at most "
              + MAX_SCALARS
              + ", got "
              + steps
              + " x "
              + directions);
    }
  }

  public static ForwardOnlySettings defaults() {
    return new ForwardOnlySettings(
        PERTURBATION_DEFAULT,
        LEARNING_RATE_DEFAULT,
        DIRECTIONS_DEFAULT,
        STEPS_DEFAULT,
        BATCH_SIZE_DEFAULT);
  }

  public ForwardOnlySettings withSteps(int value) {
    return new ForwardOnlySettings(perturbation, learningRate, directions, value, batchSize);
  }
}
