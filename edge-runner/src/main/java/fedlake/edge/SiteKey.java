package fedlake.edge;

import fedlake.core.identity.SiteKeys;
import fedlake.core.identity.UpdateSignature;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.round.UpdateFacts;
import fedlake.schema.Update;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;

/**
 * A site's signing key: {@code SITE.key} (PKCS #8 PEM, readable by its owner only) with {@code
 * SITE.pub} (X.509 PEM) beside it, by default under the site's state folder ({@code
 * STATE_DIR/keys}). {@code edge keygen} makes them; the operator registers the public key ({@code
 * fedlake site add}); {@code edge train} signs every update with the private key.
 *
 * @param keyId the registry's id of the public key
 */
record SiteKey(PrivateKey key, String keyId, Path file) {
  /** Where {@code site}'s key lives under {@code stateDir}. */
  static Path defaultFile(Path stateDir, String site) {
    return stateDir.resolve("keys").resolve(site + ".key");
  }

  /** Makes a key pair for {@code site} in {@code dir}; refuses to replace one. */
  static SiteKey generate(Path dir, String site) {
    Path key = dir.resolve(site + ".key");
    Path pub = dir.resolve(site + ".pub");
    if (Files.exists(key) || Files.exists(pub)) {
      throw new IllegalArgumentException(
          key
              + " exists: a site keeps its key (to rotate, make the new one in another folder,"
              + " register it, then revoke the old one)");
    }
    KeyPair pair = SiteKeys.generate();
    try {
      Files.createDirectories(dir);
      Files.writeString(pub, SiteKeys.toPem("PUBLIC KEY", pair.getPublic().getEncoded()));
      Files.createFile(key);
      try {
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException e) {
        // a file system without POSIX permissions: the folder's own protection applies
      }
      Files.writeString(key, SiteKeys.toPem("PRIVATE KEY", pair.getPrivate().getEncoded()));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot write the site key to " + dir + ": " + e.getMessage(), e);
    }
    return new SiteKey(pair.getPrivate(), SiteKeys.keyId(pair.getPublic().getEncoded()), key);
  }

  /** Reads {@code file} and the public key beside it ({@code .pub} for {@code .key}). */
  static SiteKey read(Path file) {
    String name = file.getFileName().toString();
    if (!name.endsWith(".key")) {
      throw new IllegalArgumentException(
          "--key " + file + ": a site key file ends in .key, with its .pub beside it");
    }
    Path pub = file.resolveSibling(name.substring(0, name.length() - 4) + ".pub");
    try {
      PrivateKey key = SiteKeys.privateKey(Files.readString(file, StandardCharsets.US_ASCII));
      byte[] encoded = SiteKeys.fromPem(Files.readAllBytes(pub));
      SiteKeys.publicKey(encoded);
      return new SiteKey(key, SiteKeys.keyId(encoded), file);
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "Cannot read the site key " + file + " or " + pub + ": " + e.getMessage(), e);
    }
  }

  /** Sets {@code update}'s key id and signature. */
  void sign(Update update) {
    update.setKeyId(keyId);
    update.setSignature(null);
    float[] parameters = Models.parameters(update);
    byte[] digest =
        UpdateSignature.digest(
            UpdateFacts.of(update),
            parameters,
            parameters.length,
            FloatArrays.toArray(update.getControlDelta()),
            update.getStatisticsFingerprint());
    update.setSignature(UpdateSignature.sign(key, digest));
  }
}
