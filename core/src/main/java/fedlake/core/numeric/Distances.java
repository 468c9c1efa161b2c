package fedlake.core.numeric;

/**
 * The check every update's parameters go through before they are folded: all finite and within a
 * bound in absolute value, and their squared distance to a reference (the base model). One pass;
 * the squared distance is summed in eight double lanes (lane {@code i % 8} takes value {@code i})
 * that are added in a fixed order at the end, so the result is the same bit for bit whether the
 * lanes run in the Vector API ({@link VectorDistances}, where the JVM has it, as {@link
 * ExactSum#VECTOR}) or in the scalar loop.
 */
public final class Distances {
  /** Whether {@link #squaredDistanceIfWithin} runs eight values at a time. */
  public static final boolean VECTOR = VectorSupport.usable(() -> VectorDistances.usable());

  private Distances() {}

  /**
   * The squared Euclidean distance between {@code values} and {@code reference} (the same length),
   * summed in double; NaN when a value is not finite or exceeds {@code limit} in absolute value.
   */
  public static double squaredDistanceIfWithin(float[] values, float[] reference, float limit) {
    if (values.length != reference.length) {
      throw new IllegalArgumentException(
          values.length + " values against a reference of " + reference.length);
    }
    double[] lanes = new double[8];
    int done = VECTOR ? VectorDistances.addLanes(values, reference, limit, lanes) : 0;
    if (done < 0) {
      return Double.NaN;
    }
    return scalar(values, reference, limit, lanes, done);
  }

  /** The scalar loop, from {@code from} on, adding to the lanes; NaN when a value fails. */
  static double scalar(float[] values, float[] reference, float limit, double[] lanes, int from) {
    boolean within = true;
    int n = values.length;
    int i = from;
    for (; i + 7 < n; i += 8) {
      for (int k = 0; k < 8; k++) {
        float v = values[i + k];
        within &= Math.abs(v) <= limit; // false for NaN
        double d = (double) v - reference[i + k];
        lanes[k] += d * d;
      }
    }
    for (; i < n; i++) {
      float v = values[i];
      within &= Math.abs(v) <= limit;
      double d = (double) v - reference[i];
      lanes[i & 7] += d * d;
    }
    if (!within) {
      return Double.NaN;
    }
    return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
        + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
  }

  /** The scalar loop alone, for tests: the figure the vector lanes must equal bit for bit. */
  static double scalarOnly(float[] values, float[] reference, float limit) {
    return scalar(values, reference, limit, new double[8], 0);
  }
}
