package fedlake.core.client;

/**
 * The seeded random perturbations of forward-only training: a vector of {@code +1} and {@code -1}
 * (Rademacher) for every (base seed, step, direction), reproducible anywhere from those three
 * numbers alone, so that an update can travel as its seed and one scalar per direction.
 *
 * <p>The generator, fixed here so that any implementation can reproduce it:
 *
 * <pre>
 *   mix(z)  = z ^= z >>> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >>> 27; z *= 0x94D049BB133111EB;
 *             z ^ (z >>> 31)                                  (SplitMix64's finaliser, 64-bit wrap)
 *   key     = mix(mix(seed + 0x9E3779B97F4A7C15) ^ (step << 32 | direction))
 *   word k  = mix(key + (k + 1) * 0x9E3779B97F4A7C15)         (k = 0, 1, ...)
 *   z[i]    = -1 when bit (i mod 64) of word (i div 64) is set, else +1
 * </pre>
 *
 * where {@code i} indexes the parameters in the stored layout ({@link
 * fedlake.core.model.Models#parameters}: weights row-major, then bias).
 */
public final class Perturbations {
  static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private Perturbations() {}

  /** SplitMix64's output function. */
  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** The key of one perturbation. */
  public static long key(long seed, int step, int direction) {
    if (step < 0 || direction < 0) {
      throw new IllegalArgumentException(
          "A perturbation needs step and direction >= 0, got " + step + " and " + direction);
    }
    return mix(mix(seed + GOLDEN) ^ ((long) step << 32 | direction));
  }

  /** Writes the perturbation of (seed, step, direction) into {@code z} (all of it). */
  public static void fill(long seed, int step, int direction, float[] z) {
    long key = key(seed, step, direction);
    int n = z.length;
    for (int word = 0; word * 64 < n; word++) {
      long bits = mix(key + (word + 1L) * GOLDEN);
      int first = word * 64;
      int last = Math.min(n, first + 64);
      for (int i = first; i < last; i++) {
        z[i] = ((bits >>> (i - first)) & 1L) == 0 ? 1f : -1f;
      }
    }
  }
}
