package fedlake.core.secagg;

/**
 * Turns a site's change into integers mod 2^64 whose sum over sites is exact, and the sum back into
 * the weighted mean change. Word {@code i < P} is {@code round(w * clamp(delta_i, -clip, clip) *
 * scale)} (round half away from zero, {@link Math#round}), word {@code P} is the example count
 * {@code w}. Summing words as Java longs is addition mod 2^64, so masks that cancel mod 2^64 leave
 * exactly the sum; read as signed 64-bit integers the sums are the true integer sums as long as
 * |sum| stays below 2^63, which {@link #MAX_WEIGHTED_STEP} per site guarantees for up to 2^10
 * sites.
 */
public record Quantizer(double clip, double scale) {
  /** Largest {@code w * clip * scale} a site may send: 2^52, so that one word is exact. */
  public static final double MAX_WEIGHTED_STEP = 0x1p52;

  public Quantizer {
    if (!(clip > 0) || !Double.isFinite(clip)) {
      throw new IllegalArgumentException("secure aggregation clip must be positive, got " + clip);
    }
    if (!(scale >= 1) || !Double.isFinite(scale)) {
      throw new IllegalArgumentException(
          "secure aggregation scale must be at least 1 (steps per unit), got " + scale);
    }
  }

  /** The words of one site: {@code change.length + 1} of them. */
  public long[] encode(double[] change, long weight) {
    if (weight < 1) {
      throw new IllegalArgumentException("example count must be positive, got " + weight);
    }
    if (weight * clip * scale > MAX_WEIGHTED_STEP) {
      throw new IllegalArgumentException(
          weight
              + " examples x clip "
              + clip
              + " x scale "
              + scale
              + " exceeds 2^52: lower the secure aggregation scale");
    }
    long[] words = new long[change.length + 1];
    for (int i = 0; i < change.length; i++) {
      double v = change[i];
      if (!Double.isFinite(v)) {
        throw new IllegalArgumentException("change holds " + v + " at " + i);
      }
      words[i] = Math.round(weight * Math.max(-clip, Math.min(clip, v)) * scale);
    }
    words[change.length] = weight;
    return words;
  }

  /** The mean change (sum of words / (scale * total weight)) from the summed words. */
  public double[] meanChange(long[] sum) {
    long weight = sum[sum.length - 1];
    if (weight < 1) {
      throw new IllegalStateException(
          "the unmasked example count is " + weight + ": the masks did not cancel");
    }
    double[] mean = new double[sum.length - 1];
    for (int i = 0; i < mean.length; i++) {
      mean[i] = sum[i] / (scale * weight);
    }
    return mean;
  }

  /** Total example count of the summed words. */
  public static long weight(long[] sum) {
    return sum[sum.length - 1];
  }
}
