package fedlake.core.client;

/**
 * A forward-only update in the form it travels: the perturbations' base seed, the step size, the
 * directions per step and one scalar (the projected gradient {@code (L+ - L-) / (2 epsilon)}) per
 * step and direction, step-major; when the site chose its directions among more candidates ({@link
 * ForwardOnlySettings#candidates}), also one index (0-255, a byte) per scalar: the scalar {@code t
 * x directions + j} belongs to the perturbation {@code (seed, t, indices[t x directions + j])}
 * instead of {@code (seed, t, j)}. {@link #replay} turns it back into parameters, bit for bit the
 * ones the site trained.
 *
 * @param indices empty: no choice; else as many as scalars, unsigned bytes
 */
public record SeededUpdate(
    long seed, float learningRate, int directions, float[] scalars, byte[] indices) {
  /** Bytes of the payload: the seed (8), step size (4), directions (4) and 4 per scalar. */
  public static long bytes(int scalars) {
    return bytes(scalars, 0);
  }

  /** Bytes of the payload with {@code indices} chosen directions' indices, one byte each. */
  public static long bytes(int scalars, int indices) {
    return 16L + 4L * scalars + indices;
  }

  /** An update without a choice of directions. */
  public SeededUpdate(long seed, float learningRate, int directions, float[] scalars) {
    this(seed, learningRate, directions, scalars, new byte[0]);
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
    String problem = indexProblem(indices, scalars.length, directions);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
  }

  /**
   * Why {@code indices} do not fit {@code scalars} scalars of {@code directions} a step: not one
   * per scalar, or a direction chosen twice in one step; null when they fit (or are empty).
   */
  public static String indexProblem(byte[] indices, long scalars, long directions) {
    if (indices.length == 0) {
      return null;
    }
    if (indices.length != scalars) {
      return "seededIndices has "
          + indices.length
          + " indices, it needs one per scalar ("
          + scalars
          + ")";
    }
    boolean[] seen = new boolean[ForwardOnlySettings.MAX_CANDIDATES];
    for (int t = 0; t * directions < scalars; t++) {
      java.util.Arrays.fill(seen, false);
      for (int j = 0; j < directions; j++) {
        int index = indices[(int) (t * directions + j)] & 0xFF;
        if (seen[index]) {
          return "seededIndices chooses direction " + index + " twice in step " + t;
        }
        seen[index] = true;
      }
    }
    return null;
  }

  public int steps() {
    return scalars.length / directions;
  }

  /** Whether the directions were chosen among more candidates (indices travel). */
  public boolean chosen() {
    return indices.length > 0;
  }

  public long bytes() {
    return bytes(scalars.length, indices.length);
  }

  /** The perturbation index of step {@code step}'s {@code j}-th scalar. */
  public int direction(int step, int j) {
    return indices.length == 0 ? j : indices[step * directions + j] & 0xFF;
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
      for (int j = 0; j < directions; j++) {
        Perturbations.fill(seed, t, direction(t, j), z);
        apply(parameters, z, coefficient(t, j));
      }
    }
    return parameters;
  }
}
