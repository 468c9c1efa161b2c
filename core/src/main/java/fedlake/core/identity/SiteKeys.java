package fedlake.core.identity;

import fedlake.core.store.Store;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The sites' public keys (Ed25519), kept by the operator under {@code ROOT/_keys/SITE/KEYID.pub}
 * (PEM); a revoked key has a {@code KEYID.revoked} file beside it holding when. A site may hold
 * several keys (rotation: register the new one, then revoke the old one). The key id is the first
 * 16 hex digits of SHA-256 of the encoded public key. Only the operator may write under {@code
 * _keys} (docs/security.md has a bucket policy); sites write only their updates.
 */
public final class SiteKeys implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * One registered key.
   *
   * @param encoded X.509 SubjectPublicKeyInfo bytes
   * @param revoked when it was revoked; null while valid
   */
  public record Entry(String site, String keyId, byte[] encoded, Instant revoked)
      implements Serializable {}

  private final Map<String, Map<String, Entry>> bySite;
  private transient Map<String, PublicKey> decoded;

  private SiteKeys(Map<String, Map<String, Entry>> bySite) {
    this.bySite = bySite;
  }

  /** The keys registered in {@code store} (none when it has no {@code _keys} folder). */
  public static SiteKeys load(Store store) {
    FileSystem fs = store.fileSystem();
    Path root = store.path("_keys");
    Map<String, Map<String, Entry>> bySite = new TreeMap<>();
    try {
      if (!fs.exists(root)) {
        return new SiteKeys(bySite);
      }
      for (FileStatus siteDir : fs.listStatus(root)) {
        if (!siteDir.isDirectory()) {
          continue;
        }
        String site = siteDir.getPath().getName();
        Map<String, byte[]> keys = new TreeMap<>();
        Map<String, Instant> revoked = new HashMap<>();
        for (FileStatus file : fs.listStatus(siteDir.getPath())) {
          String name = file.getPath().getName();
          if (name.endsWith(".pub")) {
            keys.put(name.substring(0, name.length() - 4), fromPem(read(fs, file.getPath())));
          } else if (name.endsWith(".revoked")) {
            revoked.put(
                name.substring(0, name.length() - 8),
                Instant.parse(new String(read(fs, file.getPath()), StandardCharsets.UTF_8).trim()));
          }
        }
        Map<String, Entry> entries = new TreeMap<>();
        keys.forEach((id, bytes) -> entries.put(id, new Entry(site, id, bytes, revoked.get(id))));
        bySite.put(site, entries);
      }
      return new SiteKeys(bySite);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the site keys under " + root, e);
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "Cannot read the site keys under " + root + ": " + e.getMessage(), e);
    }
  }

  /** Registers {@code pem} (an Ed25519 public key) for {@code site}; returns its key id. */
  public static String add(Store store, String site, String pem) throws IOException {
    Store.checkSite(site);
    byte[] encoded = fromPem(pem.getBytes(StandardCharsets.UTF_8));
    publicKey(encoded); // an Ed25519 key, or an error that says why not
    String id = keyId(encoded);
    Path file = new Path(store.path("_keys/" + site), id + ".pub");
    store.writeAtomically(
        file,
        path -> {
          try (OutputStream out = store.fileSystem().create(path, true)) {
            out.write(toPem("PUBLIC KEY", encoded).getBytes(StandardCharsets.UTF_8));
          }
        });
    return id;
  }

  /** Revokes key {@code keyId} of {@code site} from {@code when} on. */
  public static void revoke(Store store, String site, String keyId, Instant when)
      throws IOException {
    Store.checkSite(site);
    Path dir = store.path("_keys/" + site);
    if (!store.fileSystem().exists(new Path(dir, keyId + ".pub"))) {
      throw new IllegalArgumentException(
          "Site " + site + " has no key " + keyId + " in " + dir + " to revoke");
    }
    store.writeAtomically(
        new Path(dir, keyId + ".revoked"),
        path -> {
          try (OutputStream out = store.fileSystem().create(path, true)) {
            out.write((when + "\n").getBytes(StandardCharsets.UTF_8));
          }
        });
  }

  /** The registered keys of {@code site}, by key id. */
  public Map<String, Entry> of(String site) {
    return bySite.getOrDefault(site, Map.of());
  }

  /** Every site with a key. */
  public Map<String, Map<String, Entry>> all() {
    return bySite;
  }

  /**
   * Why an update's signature does not hold, or null when it is signed by a registered, unrevoked
   * key of its site.
   */
  public String problem(String site, String keyId, String signature, byte[] digest) {
    if (signature == null || keyId == null) {
      return "unsigned update: the federation requires signed updates"
          + " (robustness.requireSignatures; edge keygen, fedlake site add)";
    }
    Entry entry = of(site).get(keyId);
    if (entry == null) {
      return "key " + keyId + " is not a registered key of site " + site;
    }
    if (entry.revoked() != null) {
      return "key " + keyId + " of site " + site + " was revoked at " + entry.revoked();
    }
    if (!UpdateSignature.verify(decoded(entry), digest, signature)) {
      return "signature does not verify with key "
          + keyId
          + " of site "
          + site
          + ": the update was changed after it was signed, or signed with another key";
    }
    return null;
  }

  private synchronized PublicKey decoded(Entry entry) {
    if (decoded == null) {
      decoded = new HashMap<>();
    }
    return decoded.computeIfAbsent(
        entry.site() + "/" + entry.keyId(), k -> publicKey(entry.encoded()));
  }

  /** A new Ed25519 key pair. */
  public static KeyPair generate() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("This JRE cannot make Ed25519 keys: " + e, e);
    }
  }

  /** The first 16 hex digits of SHA-256 of an encoded public key. */
  public static String keyId(byte[] encoded) {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(encoded))
          .substring(0, 16);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is missing from this JRE", e);
    }
  }

  /** An Ed25519 public key from its X.509 encoding. */
  public static PublicKey publicKey(byte[] encoded) {
    try {
      return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(encoded));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an Ed25519 public key (" + e.getMessage() + ")", e);
    }
  }

  /** An Ed25519 private key from a PEM (PKCS #8) text. */
  public static PrivateKey privateKey(String pem) {
    try {
      return KeyFactory.getInstance("Ed25519")
          .generatePrivate(new PKCS8EncodedKeySpec(fromPem(pem.getBytes(StandardCharsets.UTF_8))));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an Ed25519 private key (" + e.getMessage() + ")", e);
    }
  }

  /** PEM text of {@code der} under {@code label} ("PUBLIC KEY", "PRIVATE KEY"). */
  public static String toPem(String label, byte[] der) {
    return "-----BEGIN "
        + label
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + label
        + "-----\n";
  }

  /** The DER bytes of a PEM text (any label). */
  public static byte[] fromPem(byte[] pem) {
    String text = new String(pem, StandardCharsets.US_ASCII);
    String body = text.replaceAll("-----(BEGIN|END) [A-Z ]+-----", "").replaceAll("\\s", "");
    try {
      return Base64.getDecoder().decode(body);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a PEM key: " + e.getMessage(), e);
    }
  }

  private static byte[] read(FileSystem fs, Path file) throws IOException {
    try (InputStream in = fs.open(file)) {
      return in.readNBytes(1 << 16);
    }
  }
}
