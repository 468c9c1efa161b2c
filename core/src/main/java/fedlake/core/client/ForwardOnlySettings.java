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
 * @param candidates seeded directions a step evaluates, of which it applies (and uploads) the
 *     {@code directions} with the largest |scalar|, with their indices; equal to {@code
 *     directions}: no choice, every direction evaluated is applied (and no indices travel)
 */
public record ForwardOnlySettings(
    double perturbation,
    double learningRate,
    int directions,
    int steps,
    int batchSize,
    int candidates) {
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

  /**
   * The most candidates a step may evaluate when it chooses among them: an index travels as one
   * byte.
   */
  public static final int MAX_CANDIDATES = 256;

  /** Settings without a choice of directions (candidates = directions). */
  public ForwardOnlySettings(
      double perturbation, double learningRate, int directions, int steps, int batchSize) {
    this(perturbation, learningRate, directions, steps, batchSize, directions);
  }

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
    if (candidates != directions && (candidates < directions || candidates > MAX_CANDIDATES)) {
      throw new IllegalArgumentException(
          "forward-only candidates must be between the directions ("
              + directions
              + ") and "
              + MAX_CANDIDATES
              + ", got "
              + candidates);
    }
  }

  /** Whether a step chooses its directions among more candidates. */
  public boolean chooses() {
    return candidates > directions;
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
    return new ForwardOnlySettings(
        perturbation, learningRate, directions, value, batchSize, candidates);
  }
}
