package fedlake.core.secagg;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.XECPrivateKey;
import java.security.interfaces.XECPublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The JDK primitives of secure aggregation: X25519 key agreement (RFC 7748), HKDF-SHA256 (RFC 5869)
 * to turn a shared secret into a key for one purpose, AES-256-GCM for the shares sites send each
 * other. Keys travel as their 32 raw bytes (little-endian u-coordinate, RFC 7748 encoding).
 */
public final class SecAggCrypto {
  public static final int KEY_BYTES = 32;
  private static final int NONCE_BYTES = 12;
  private static final SecureRandom RANDOM = new SecureRandom();

  private SecAggCrypto() {}

  /** A fresh X25519 key pair. */
  public static KeyPair generate() {
    try {
      return KeyPairGenerator.getInstance("X25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("This JRE cannot make X25519 keys: " + e, e);
    }
  }

  /** The 32 raw bytes of an X25519 public key. */
  public static byte[] raw(PublicKey key) {
    BigInteger u = ((XECPublicKey) key).getU();
    byte[] out = new byte[KEY_BYTES];
    byte[] be = u.toByteArray();
    for (int i = 0; i < KEY_BYTES && i < be.length; i++) {
      out[i] = be[be.length - 1 - i];
    }
    return out;
  }

  /** The 32 raw bytes (the scalar) of an X25519 private key. */
  public static byte[] raw(PrivateKey key) {
    return ((XECPrivateKey) key)
        .getScalar()
        .orElseThrow(() -> new IllegalStateException("X25519 private key without its scalar"));
  }

  public static PublicKey publicKey(byte[] raw) {
    if (raw.length != KEY_BYTES) {
      throw new IllegalArgumentException(
          "an X25519 public key is " + KEY_BYTES + " bytes, got " + raw.length);
    }
    byte[] be = new byte[KEY_BYTES];
    for (int i = 0; i < KEY_BYTES; i++) {
      be[i] = raw[KEY_BYTES - 1 - i];
    }
    be[0] &= 0x7f; // RFC 7748: the top bit of the u-coordinate is ignored
    try {
      return KeyFactory.getInstance("XDH")
          .generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(1, be)));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an X25519 public key: " + e.getMessage(), e);
    }
  }

  public static PrivateKey privateKey(byte[] raw) {
    if (raw.length != KEY_BYTES) {
      throw new IllegalArgumentException(
          "an X25519 private key is " + KEY_BYTES + " bytes, got " + raw.length);
    }
    try {
      return KeyFactory.getInstance("XDH")
          .generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, raw.clone()));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an X25519 private key: " + e.getMessage(), e);
    }
  }

  /** The public key of a raw private key: X25519 of the scalar with the base point u = 9. */
  public static byte[] publicOf(byte[] privateRaw) {
    byte[] base = new byte[KEY_BYTES];
    base[0] = 9;
    return agreeRaw(privateKey(privateRaw), publicKey(base));
  }

  /** The raw X25519 shared secret of {@code mine} and {@code theirs}. */
  static byte[] agreeRaw(PrivateKey mine, PublicKey theirs) {
    try {
      KeyAgreement ka = KeyAgreement.getInstance("XDH");
      ka.init(mine);
      ka.doPhase(theirs, true);
      return ka.generateSecret();
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("X25519 key agreement failed: " + e.getMessage(), e);
    }
  }

  /**
   * A 32-byte key for one purpose from the X25519 agreement of {@code mine} and {@code theirs}:
   * HKDF-SHA256 with salt "fedlake-secagg-v1" and {@code info} naming the purpose (round, pair).
   */
  public static byte[] agree(PrivateKey mine, PublicKey theirs, String info) {
    return hkdf(agreeRaw(mine, theirs), info);
  }

  /** HKDF-SHA256 (RFC 5869), 32 bytes of output. */
  static byte[] hkdf(byte[] secret, String info) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(
          new SecretKeySpec("fedlake-secagg-v1".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] prk = mac.doFinal(secret);
      mac.init(new SecretKeySpec(prk, "HmacSHA256"));
      mac.update(info.getBytes(StandardCharsets.UTF_8));
      mac.update((byte) 1);
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JRE: " + e, e);
    }
  }

  /** AES-256-GCM of {@code plain} under {@code key}, bound to {@code aad}: nonce + ciphertext. */
  public static byte[] seal(byte[] key, byte[] plain, String aad) {
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    try {
      Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
      gcm.init(
          Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
      gcm.updateAAD(aad.getBytes(StandardCharsets.UTF_8));
      byte[] sealed = gcm.doFinal(plain);
      byte[] out = Arrays.copyOf(nonce, NONCE_BYTES + sealed.length);
      System.arraycopy(sealed, 0, out, NONCE_BYTES, sealed.length);
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES/GCM is missing from this JRE: " + e, e);
    }
  }

  /**
   * The plain text of {@link #seal}'s output, or an error when it was changed, sealed for another
   * pair or purpose ({@code aad}), or with another key.
   */
  public static byte[] open(byte[] key, byte[] sealed, String aad) {
    if (sealed.length < NONCE_BYTES + 16) {
      throw new IllegalArgumentException("ciphertext too short (" + sealed.length + " bytes)");
    }
    try {
      Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
      gcm.init(
          Cipher.DECRYPT_MODE,
          new SecretKeySpec(key, "AES"),
          new GCMParameterSpec(128, sealed, 0, NONCE_BYTES));
      gcm.updateAAD(aad.getBytes(StandardCharsets.UTF_8));
      return gcm.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
    } catch (AEADBadTagException e) {
      throw new IllegalArgumentException(
          "ciphertext does not authenticate: changed after it was sealed, or sealed for another"
              + " site, round or key");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES/GCM is missing from this JRE: " + e, e);
    }
  }
}
