package fedlake.core.secagg;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Shamir secret sharing (Shamir 1979) over the prime field of the Mersenne prime 2^521 - 1: a
 * secret of up to 64 bytes becomes {@code n} shares, any {@code t} of which give it back and any
 * {@code t - 1} of which say nothing about it. Share {@code x} is the value at {@code x} (1 to n)
 * of a random polynomial of degree {@code t - 1} whose constant term is the secret.
 */
public final class Shamir {
  /** 2^521 - 1, a Mersenne prime. */
  public static final BigInteger PRIME = BigInteger.ONE.shiftLeft(521).subtract(BigInteger.ONE);

  /** Largest secret, in bytes: every 64-byte value is below the prime. */
  public static final int MAX_SECRET_BYTES = 64;

  /** Bytes of an encoded share value (521 bits). */
  public static final int SHARE_BYTES = 66;

  private Shamir() {}

  /** Shares of {@code secret} for x = 1..n with threshold t, from a secure random source. */
  public static Map<Integer, BigInteger> split(byte[] secret, int t, int n) {
    return split(new BigInteger(1, checkSecret(secret)), t, n, new SecureRandom());
  }

  /** Shares of {@code secret} for x = 1..n with threshold t; {@code random} draws coefficients. */
  public static Map<Integer, BigInteger> split(BigInteger secret, int t, int n, Random random) {
    if (t < 1 || t > n) {
      throw new IllegalArgumentException(
          "threshold must be between 1 and the number of shares " + n + ", got " + t);
    }
    if (secret.signum() < 0 || secret.compareTo(PRIME) >= 0) {
      throw new IllegalArgumentException("secret must lie in [0, 2^521 - 1)");
    }
    BigInteger[] coefficients = new BigInteger[t];
    coefficients[0] = secret;
    for (int i = 1; i < t; i++) {
      BigInteger c;
      do {
        c = new BigInteger(521, random);
      } while (c.compareTo(PRIME) >= 0);
      coefficients[i] = c;
    }
    Map<Integer, BigInteger> shares = new TreeMap<>();
    for (int x = 1; x <= n; x++) {
      shares.put(x, evaluate(coefficients, x));
    }
    return shares;
  }

  /** The polynomial with these coefficients (constant first) at {@code x}, mod the prime. */
  static BigInteger evaluate(BigInteger[] coefficients, int x) {
    BigInteger bx = BigInteger.valueOf(x);
    BigInteger value = BigInteger.ZERO;
    for (int i = coefficients.length - 1; i >= 0; i--) {
      value = value.multiply(bx).add(coefficients[i]).mod(PRIME);
    }
    return value;
  }

  /**
   * The secret from at least {@code t} shares (x to value): Lagrange interpolation at 0 through the
   * first {@code t} shares by x; every further share must lie on the same polynomial, else an error
   * names the first that does not (a corrupted or forged share).
   */
  public static BigInteger combine(Map<Integer, BigInteger> shares, int t) {
    if (shares.size() < t) {
      throw new IllegalArgumentException(
          "needs " + t + " shares to reconstruct, got " + shares.size());
    }
    List<Map.Entry<Integer, BigInteger>> sorted = new ArrayList<>(new TreeMap<>(shares).entrySet());
    List<Map.Entry<Integer, BigInteger>> basis = sorted.subList(0, t);
    for (Map.Entry<Integer, BigInteger> extra : sorted.subList(t, sorted.size())) {
      if (!interpolate(basis, extra.getKey()).equals(extra.getValue().mod(PRIME))) {
        throw new IllegalArgumentException(
            "the shares are inconsistent: share "
                + extra.getKey()
                + " does not lie on the polynomial through shares "
                + basis.stream().map(e -> e.getKey().toString()).collect(Collectors.joining(", "))
                + " (one of them was corrupted)");
      }
    }
    return interpolate(basis, 0);
  }

  /** The value at {@code at} of the polynomial through {@code points}. */
  private static BigInteger interpolate(List<Map.Entry<Integer, BigInteger>> points, int at) {
    BigInteger result = BigInteger.ZERO;
    BigInteger target = BigInteger.valueOf(at);
    for (Map.Entry<Integer, BigInteger> i : points) {
      BigInteger xi = BigInteger.valueOf(i.getKey());
      BigInteger numerator = BigInteger.ONE;
      BigInteger denominator = BigInteger.ONE;
      for (Map.Entry<Integer, BigInteger> j : points) {
        if (j.getKey().equals(i.getKey())) {
          continue;
        }
        BigInteger xj = BigInteger.valueOf(j.getKey());
        numerator = numerator.multiply(target.subtract(xj)).mod(PRIME);
        denominator = denominator.multiply(xi.subtract(xj)).mod(PRIME);
      }
      BigInteger term =
          i.getValue().multiply(numerator).mod(PRIME).multiply(denominator.modInverse(PRIME));
      result = result.add(term).mod(PRIME);
    }
    return result;
  }

  /** {@code value} as {@link #SHARE_BYTES} big-endian bytes. */
  public static byte[] encode(BigInteger value) {
    byte[] raw = value.toByteArray();
    byte[] out = new byte[SHARE_BYTES];
    int copy = Math.min(raw.length, SHARE_BYTES);
    System.arraycopy(raw, raw.length - copy, out, SHARE_BYTES - copy, copy);
    return out;
  }

  /** The secret as {@code length} big-endian bytes (the length it was split with). */
  public static byte[] toBytes(BigInteger secret, int length) {
    if (secret.bitLength() > 8 * length) {
      throw new IllegalArgumentException(
          "reconstructed value does not fit "
              + length
              + " bytes: the shares are not of one secret");
    }
    byte[] raw = secret.toByteArray();
    byte[] out = new byte[length];
    int copy = Math.min(raw.length, length);
    System.arraycopy(raw, raw.length - copy, out, length - copy, copy);
    return out;
  }

  private static byte[] checkSecret(byte[] secret) {
    if (secret.length == 0 || secret.length > MAX_SECRET_BYTES) {
      throw new IllegalArgumentException(
          "secret must be 1 to " + MAX_SECRET_BYTES + " bytes, got " + secret.length);
    }
    return secret;
  }
}
