package fedlake.core.identity;

import fedlake.core.round.UpdateFacts;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;

/**
 * What a site signs: SHA-256 over a fixed, versioned encoding of every field of an update the round
 * job uses (site, update id, round, cluster, base model version, kind, shapes, numExamples, local
 * epochs and steps, loss, accuracy, label histogram, spec version, created time, holdout accuracy,
 * the statistics fingerprint and the key id) and of its parameters and control delta as float bits.
 * The signature (Ed25519) binds an update to its round and base model, so a file copied into
 * another round fails, and to its site's key, so a file naming another site fails.
 */
public final class UpdateSignature {
  private static final byte[] TAG = "fedlake-update-v1".getBytes(StandardCharsets.UTF_8);

  private UpdateSignature() {}

  /**
   * The digest of an update.
   *
   * @param parameters the first {@code count} values are the update's parameters, stored layout
   *     (weights, bias, cache keys)
   */
  public static byte[] digest(
      UpdateFacts f,
      float[] parameters,
      int count,
      float[] controlDelta,
      String statisticsFingerprint) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JRE", e);
    }
    sha.update(TAG);
    text(sha, f.site());
    text(sha, f.updateId());
    text(sha, f.baseModelVersion());
    text(sha, f.kind());
    text(sha, statisticsFingerprint);
    text(sha, f.keyId());
    ByteBuffer scalars = ByteBuffer.allocate(96);
    scalars
        .putInt(f.round())
        .putInt(f.cluster())
        .putInt(f.dimension())
        .putInt(f.classCount())
        .putLong(f.numExamples())
        .putInt(f.localEpochs())
        .putInt(f.localSteps())
        .putLong(Double.doubleToLongBits(f.localLoss()))
        .putLong(Double.doubleToLongBits(f.localAccuracy()))
        .putInt(f.specVersion())
        .putLong(f.createdTime())
        .put((byte) (f.holdoutAccuracy() == null ? 0 : 1))
        .putLong(f.holdoutAccuracy() == null ? 0 : Double.doubleToLongBits(f.holdoutAccuracy()));
    sha.update(scalars.array(), 0, scalars.position());
    long[] histogram = f.labelHistogram();
    ByteBuffer longs = ByteBuffer.allocate(4 + 8 * histogram.length).putInt(histogram.length);
    for (long v : histogram) {
      longs.putLong(v);
    }
    sha.update(longs.array());
    floats(sha, parameters, count);
    floats(sha, controlDelta, controlDelta.length);
    return sha.digest();
  }

  /** The base64 Ed25519 signature of {@code digest}. */
  public static String sign(PrivateKey key, byte[] digest) {
    try {
      Signature ed = Signature.getInstance("Ed25519");
      ed.initSign(key);
      ed.update(digest);
      return Base64.getEncoder().encodeToString(ed.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Cannot sign with " + key.getAlgorithm() + ": " + e, e);
    }
  }

  /** Whether {@code signature} (base64) is {@code key}'s Ed25519 signature of {@code digest}. */
  public static boolean verify(PublicKey key, byte[] digest, String signature) {
    try {
      byte[] bytes = Base64.getDecoder().decode(signature);
      Signature ed = Signature.getInstance("Ed25519");
      ed.initVerify(key);
      ed.update(digest);
      return ed.verify(bytes);
    } catch (IllegalArgumentException | GeneralSecurityException e) {
      return false; // not base64, wrong length: not a signature of this key
    }
  }

  private static void text(MessageDigest sha, String value) {
    if (value == null) {
      sha.update(ByteBuffer.allocate(4).putInt(-1).array());
      return;
    }
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    sha.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
    sha.update(bytes);
  }

  private static void floats(MessageDigest sha, float[] values, int count) {
    ByteBuffer buffer = ByteBuffer.allocate(4 + 4 * Math.min(count, 4096));
    buffer.putInt(count);
    for (int i = 0; i < count; i++) {
      if (!buffer.hasRemaining()) {
        sha.update(buffer.array(), 0, buffer.position());
        buffer.clear();
      }
      buffer.putInt(Float.floatToRawIntBits(values[i]));
    }
    sha.update(buffer.array(), 0, buffer.position());
  }
}
