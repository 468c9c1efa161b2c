package fedlake.core.client;

/**
 * A forward-only update in the form it travels: the perturbations' base seed, the step size, the
 * directions per step and one scalar (the projected gradient {@code (L+ - L-) / (2 epsilon)}) per
 * step and direction, step-major. {@link #replay} turns it back into parameters, bit for bit the
 * ones the site trained.
 */
public record SeededUpdate(long seed, float learningRate, int directions, float[] scalars) {
  /** Bytes of the payload: the seed (8), step size (4), directions (4) and 4 per scalar. */
  public static long bytes(int scalars) {
    return 16L + 4L * scalars;
  }

  public SeededUpdate {
    if (directions < 1) {
      throw new IllegalArgumentException("directions must be >= 1, got " + directions);
    }
    if (scalars.length % directions != 0) {
      throw new IllegalArgumentException(
          scalars.length + " scalars are not a whole number of steps of " + directions);
    }
    if (!(learningRate > 0) || !Float.isFinite(learningRate)) {
      throw new IllegalArgumentException(
          "learning rate must be finite and > 0, got " + learningRate);
    }
  }

  public int steps() {
    return scalars.length / directions;
  }

  public long bytes() {
    return bytes(scalars.length);
  }

  /**
   * What step {@code step}'s direction {@code direction} moves every parameter by, times its
   * perturbation sign: {@code (float) (learningRate * scalar / directions)}.
   */
  public float coefficient(int step, int direction) {
    return coefficient(learningRate, scalars[step * directions + direction], directions);
  }

  static float coefficient(float learningRate, float scalar, int directions) {
    return (float) ((double) learningRate * scalar / directions);
  }

  /**
   * {@code parameters[i] -= coefficient * z[i]} for every i: the one update rule of forward-only
   * training, on the site and in the round job alike. The order of the parameters does not matter
   * (each gets the same float operation), so the site may apply it in its working layout.
   */
  static void apply(float[] parameters, float[] z, float coefficient) {
    for (int i = 0; i < parameters.length; i++) {
      parameters[i] -= coefficient * z[i];
    }
  }

  /**
   * The trained parameters (stored layout): {@code base} moved by every step's directions in order.
   * A non-finite scalar gives non-finite parameters, which the round's value check rejects.
   */
  public float[] replay(float[] base) {
    float[] parameters = base.clone();
    float[] z = new float[base.length];
    int steps = steps();
    for (int t = 0; t < steps; t++) {
      for (int d = 0; d < directions; d++) {
        Perturbations.fill(seed, t, d, z);
        apply(parameters, z, coefficient(t, d));
      }
    }
    return parameters;
  }
}
