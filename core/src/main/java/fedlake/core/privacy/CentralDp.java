package fedlake.core.privacy;

import fedlake.schema.FederationSpec;
import fedlake.schema.PrivacySpec;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/**
 * Central differential privacy of the published models: DP-FedAvg with a fixed denominator (McMahan
 * et al. 2018). Each round every site is drawn with probability {@code sampleFraction} (from the
 * server secret and the round, so that a rerun draws the same sites); each drawn site's change is
 * clipped to {@code clipNorm}; Gaussian noise of standard deviation {@code noiseMultiplier x
 * clipNorm} is added to the sum of the clipped changes, and the sum is divided by {@code
 * sampleFraction x population}. The noise is drawn from SHA-256 in counter mode keyed by the server
 * secret, the round, the base model's version and the cluster: a rerun publishes the same model,
 * and nobody without the secret can predict or remove the noise.
 *
 * <p>The server secret comes from the environment of the round job ({@value #SECRET_ENV}); it must
 * never be in the store, which sites and analysts read.
 *
 * @param secret the server secret's bytes
 * @param centre the public centre of the coordinates the mechanism clips and noises in ({@link
 *     Centring}); empty for the stored ones
 */
public record CentralDp(
    double clipNorm,
    double noiseMultiplier,
    double sampleFraction,
    int population,
    double delta,
    double epsilonBudget,
    byte[] secret,
    java.util.List<Float> centre)
    implements Serializable {
  /** The spec's name of this mechanism. */
  public static final String MECHANISM = "central-gaussian";

  /** Environment variable holding the server secret (at least 16 characters). */
  public static final String SECRET_ENV = "FEDLAKE_DP_SECRET";

  public CentralDp {
    check(clipNorm > 0 && Double.isFinite(clipNorm), "privacy.clipNorm must be positive", clipNorm);
    check(
        noiseMultiplier > 0 && Double.isFinite(noiseMultiplier),
        "privacy.noiseMultiplier must be positive",
        noiseMultiplier);
    check(
        sampleFraction > 0 && sampleFraction <= 1,
        "privacy.sampleFraction must be in (0, 1]",
        sampleFraction);
    check(population >= 1, "the federation's population must be at least 1", population);
    check(delta > 0 && delta < 1, "privacy.delta must be in (0, 1)", delta);
    check(
        epsilonBudget > 0 && Double.isFinite(epsilonBudget),
        "privacy.epsilonBudget must be positive",
        epsilonBudget);
    centre = centre == null ? java.util.List.of() : centre;
    if (secret == null || secret.length < 16) {
      throw new IllegalStateException(
          "central differential privacy needs a server secret of at least 16 bytes in "
              + SECRET_ENV
              + " (never in the store)");
    }
  }

  /** Whether {@code spec} asks for central DP. */
  public static boolean required(FederationSpec spec) {
    return spec != null
        && spec.getPrivacy() != null
        && MECHANISM.equals(spec.getPrivacy().getMechanism());
  }

  /**
   * The mechanism of {@code spec} with {@code secret}, or null when the spec asks for none; {@code
   * registered} sites give the population when the spec's is 0.
   */
  public static CentralDp of(FederationSpec spec, int registered, String secret) {
    if (!required(spec)) {
      return null;
    }
    PrivacySpec p = spec.getPrivacy();
    int population = p.getPopulation() > 0 ? p.getPopulation() : registered;
    if (population < 1) {
      throw new IllegalArgumentException(
          "privacy.population is 0 and the store registers no sites: the average of a DP round"
              + " divides by sampleFraction x population (set --dp-population N)");
    }
    return new CentralDp(
        p.getClipNorm(),
        p.getNoiseMultiplier(),
        p.getSampleFraction(),
        population,
        p.getDelta(),
        p.getEpsilonBudget(),
        secret == null ? null : secret.getBytes(StandardCharsets.UTF_8),
        java.util.List.copyOf(p.getCentre()));
  }

  /** Checks the spec's privacy settings without a secret; an invalid one raises an error. */
  public static void validate(PrivacySpec p) {
    if (p == null || "none".equals(p.getMechanism())) {
      return;
    }
    if (!MECHANISM.equals(p.getMechanism())) {
      throw new IllegalArgumentException(
          "unknown privacy mechanism '" + p.getMechanism() + "' (known: none, " + MECHANISM + ")");
    }
    new CentralDp(
        p.getClipNorm(),
        p.getNoiseMultiplier(),
        p.getSampleFraction(),
        Math.max(1, p.getPopulation()),
        p.getDelta(),
        p.getEpsilonBudget(),
        new byte[16],
        java.util.List.copyOf(p.getCentre()));
  }

  /** The denominator of a round's average: {@code sampleFraction x population}. */
  public double denominator() {
    return sampleFraction * population;
  }

  /** Whether {@code site} is drawn for {@code round}. */
  public boolean sampled(int round, String site) {
    if (sampleFraction >= 1) {
      return true;
    }
    long bits = ByteBuffer.wrap(digest("sample", round, site, 0)).getLong();
    double u = (bits >>> 11) * 0x1.0p-53;
    return u < sampleFraction;
  }

  /**
   * The noise of one round's model: {@code size} Gaussian values of standard deviation {@code
   * noiseMultiplier x clipNorm}, the same for the same round and base model (a model version names
   * its cluster).
   */
  public double[] noise(int round, String baseVersion, int size) {
    double sigma = noiseMultiplier * clipNorm;
    double[] out = new double[size];
    int block = 0;
    ByteBuffer bytes = ByteBuffer.allocate(0);
    for (int i = 0; i < size; i += 2) {
      double u1;
      double u2;
      do {
        if (bytes.remaining() < 16) {
          bytes = ByteBuffer.wrap(digest("noise", round, baseVersion, ++block));
        }
        u1 = (bytes.getLong() >>> 11) * 0x1.0p-53;
        u2 = (bytes.getLong() >>> 11) * 0x1.0p-53;
      } while (u1 == 0);
      double radius = Math.sqrt(-2 * Math.log(u1)) * sigma; // Box-Muller
      out[i] = radius * Math.cos(2 * Math.PI * u2);
      if (i + 1 < size) {
        out[i + 1] = radius * Math.sin(2 * Math.PI * u2);
      }
    }
    return out;
  }

  /**
   * Scales {@code change} (parameters minus base) down to norm {@code clipNorm} in place when it is
   * longer; returns its norm before.
   */
  public static double clip(float[] change, double clipNorm) {
    return clip(change, clipNorm, null);
  }

  /**
   * As {@link #clip(float[], double)} with the norm taken in {@code centring}'s coordinates (null:
   * the stored ones). The map between the two is linear, so scaling the stored change scales the
   * centred one by the same factor.
   */
  public static double clip(float[] change, double clipNorm, Centring centring) {
    double norm;
    if (centring != null) {
      norm = centring.norm(change);
    } else {
      double squares = 0;
      for (float v : change) {
        squares += (double) v * v;
      }
      norm = Math.sqrt(squares);
    }
    if (norm > clipNorm) {
      double scale = clipNorm / norm;
      for (int i = 0; i < change.length; i++) {
        change[i] = (float) (change[i] * scale);
      }
    }
    return norm;
  }

  /** One line for logs and history. */
  public String describe() {
    return String.format(
        Locale.ROOT,
        "central DP: clip %s, noise multiplier %s, sample %s of %d sites, delta %s, budget %s%s",
        clipNorm,
        noiseMultiplier,
        sampleFraction,
        population,
        delta,
        epsilonBudget,
        centre.isEmpty() ? "" : ", centred (" + centre.size() + " values)");
  }

  /** The RDP of one round of this mechanism. */
  public RdpAccountant round() {
    return RdpAccountant.sampledGaussian(sampleFraction, noiseMultiplier, 1);
  }

  private byte[] digest(String label, int round, String site, int block) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(secret);
      sha.update((byte) 0);
      sha.update(label.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      sha.update(ByteBuffer.allocate(8).putInt(round).putInt(block).array());
      sha.update(site.getBytes(StandardCharsets.UTF_8));
      return sha.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JRE", e);
    }
  }

  private static void check(boolean ok, String what, Object value) {
    if (!ok) {
      throw new IllegalArgumentException(what + ", got " + value);
    }
  }

  @Override
  public String toString() {
    return describe(); // never the secret
  }
}
