package fedlake.core.privacy;

import java.util.Arrays;

/**
 * Rényi differential privacy of the sampled Gaussian mechanism (Mironov, Talwar and Zhang 2019),
 * composed over rounds and converted to (ε, δ). One round: every site is included with probability
 * {@code q} (Poisson sampling), each included site's change is clipped to norm S and Gaussian noise
 * of standard deviation {@code z S} is added to their sum; {@code z} is the noise multiplier.
 *
 * <p>For an integer order α the RDP of one round is {@code log(A_α) / (α - 1)} with {@code A_α =
 * Σ_k C(α, k) (1 - q)^(α - k) q^k exp((k² - k) / (2 z²))}, summed in log space; rounds compose by
 * adding RDP. The accountant keeps the integer orders 2 to 256 (fractional orders can only lower ε
 * a little). ε at δ is the smallest over the orders of {@code rdp + log((α - 1) / α) - (log δ + log
 * α) / (α - 1)} (Balle et al. 2020, Proposition 12), which is never above the classic conversion
 * {@code rdp + log(1 / δ) / (α - 1)} (Mironov 2017, Proposition 3).
 *
 * <p>An accountant is an immutable value: {@link #plus} returns the composition.
 */
public final class RdpAccountant {
  /** The orders the accountant tracks: 2, 3, ..., 256. */
  static final int MIN_ORDER = 2;

  static final int MAX_ORDER = 256;

  private final double[] rdp; // rdp[i] at order MIN_ORDER + i

  private RdpAccountant(double[] rdp) {
    this.rdp = rdp;
  }

  /** No round yet: zero at every order. */
  public static RdpAccountant none() {
    return new RdpAccountant(new double[MAX_ORDER - MIN_ORDER + 1]);
  }

  /** {@code rounds} rounds with sampling rate {@code q} and noise multiplier {@code z}. */
  public static RdpAccountant sampledGaussian(double q, double z, long rounds) {
    if (!(q >= 0 && q <= 1)) {
      throw new IllegalArgumentException("sampling rate must be in [0, 1], got " + q);
    }
    if (!(z > 0) || !Double.isFinite(z)) {
      throw new IllegalArgumentException("noise multiplier must be positive, got " + z);
    }
    if (rounds < 0) {
      throw new IllegalArgumentException("rounds must be >= 0, got " + rounds);
    }
    double[] rdp = new double[MAX_ORDER - MIN_ORDER + 1];
    for (int i = 0; i < rdp.length; i++) {
      rdp[i] = rounds * roundRdp(q, z, MIN_ORDER + i);
    }
    return new RdpAccountant(rdp);
  }

  /** The composition of this accountant's rounds and {@code other}'s. */
  public RdpAccountant plus(RdpAccountant other) {
    double[] sum = rdp.clone();
    for (int i = 0; i < sum.length; i++) {
      sum[i] += other.rdp[i];
    }
    return new RdpAccountant(sum);
  }

  /** The RDP at integer order {@code alpha} (2 to 256). */
  public double rdp(int alpha) {
    if (alpha < MIN_ORDER || alpha > MAX_ORDER) {
      throw new IllegalArgumentException(
          "order must be between " + MIN_ORDER + " and " + MAX_ORDER + ", got " + alpha);
    }
    return rdp[alpha - MIN_ORDER];
  }

  /** ε at {@code delta}, with the order that gives it. */
  public record Epsilon(double epsilon, int order) {}

  /** The smallest ε at {@code delta} over the orders (Balle et al. 2020's conversion). */
  public Epsilon epsilon(double delta) {
    checkDelta(delta);
    double best = Double.POSITIVE_INFINITY;
    int order = MIN_ORDER;
    for (int i = 0; i < rdp.length; i++) {
      double alpha = MIN_ORDER + i;
      double eps =
          rdp[i]
              + Math.log((alpha - 1) / alpha)
              - (Math.log(delta) + Math.log(alpha)) / (alpha - 1);
      if (eps < best) {
        best = eps;
        order = MIN_ORDER + i;
      }
    }
    return new Epsilon(Math.max(0, best), order);
  }

  /** The smallest ε at {@code delta} with the classic conversion {@code rdp + log(1/δ)/(α-1)}. */
  public Epsilon classicEpsilon(double delta) {
    checkDelta(delta);
    double best = Double.POSITIVE_INFINITY;
    int order = MIN_ORDER;
    for (int i = 0; i < rdp.length; i++) {
      double eps = rdp[i] + Math.log(1 / delta) / (MIN_ORDER + i - 1);
      if (eps < best) {
        best = eps;
        order = MIN_ORDER + i;
      }
    }
    return new Epsilon(best, order);
  }

  private static void checkDelta(double delta) {
    if (!(delta > 0 && delta < 1)) {
      throw new IllegalArgumentException("delta must be in (0, 1), got " + delta);
    }
  }

  /** The RDP of one round at integer order {@code alpha}. */
  static double roundRdp(double q, double z, int alpha) {
    if (q == 0) {
      return 0;
    }
    if (q == 1) {
      return alpha / (2 * z * z);
    }
    // log A_alpha = logsumexp over k of log C(alpha, k) + k log q + (alpha - k) log(1 - q)
    //   + (k^2 - k) / (2 z^2)
    double[] terms = new double[alpha + 1];
    double logBinomial = 0; // log C(alpha, 0)
    double logQ = Math.log(q);
    double logRest = Math.log1p(-q);
    double largest = Double.NEGATIVE_INFINITY;
    for (int k = 0; k <= alpha; k++) {
      if (k > 0) {
        logBinomial += Math.log((double) (alpha - k + 1) / k);
      }
      terms[k] =
          logBinomial + k * logQ + (alpha - k) * logRest + ((double) k * k - k) / (2 * z * z);
      largest = Math.max(largest, terms[k]);
    }
    double sum = 0;
    for (double t : terms) {
      sum += Math.exp(t - largest);
    }
    return (largest + Math.log(sum)) / (alpha - 1);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RdpAccountant that && Arrays.equals(rdp, that.rdp);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(rdp);
  }
}
