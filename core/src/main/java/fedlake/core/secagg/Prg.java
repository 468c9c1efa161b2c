package fedlake.core.secagg;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The mask generator: AES-256 in counter mode keyed by a 32-byte seed, counter block starting at
 * zero (big-endian 128-bit counter), its key stream read as little-endian 64-bit words. The same
 * seed gives the same words on every JVM; word {@code i} is bytes {@code 8i..8i+7} of the stream.
 */
public final class Prg {
  public static final int SEED_BYTES = 32;

  private Prg() {}

  /** The first {@code count} words of the stream of {@code seed}. */
  public static long[] words(byte[] seed, int count) {
    if (seed.length != SEED_BYTES) {
      throw new IllegalArgumentException(
          "mask seed must be " + SEED_BYTES + " bytes, got " + seed.length);
    }
    try {
      Cipher aes = Cipher.getInstance("AES/CTR/NoPadding");
      aes.init(
          Cipher.ENCRYPT_MODE, new SecretKeySpec(seed, "AES"), new IvParameterSpec(new byte[16]));
      byte[] stream = aes.doFinal(new byte[8 * count]);
      long[] out = new long[count];
      ByteBuffer.wrap(stream).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES/CTR is missing from this JRE: " + e, e);
    }
  }

  /** Adds {@code sign} (1 or -1) times the stream of {@code seed} to {@code into}, mod 2^64. */
  public static void add(long[] into, byte[] seed, int sign) {
    long[] mask = words(seed, into.length);
    for (int i = 0; i < into.length; i++) {
      into[i] += sign * mask[i];
    }
  }
}
