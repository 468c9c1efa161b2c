package fedlake.core.secagg;

import fedlake.core.identity.UpdateSignature;
import java.security.PrivateKey;

/** A site's registered Ed25519 key, which signs its phase files. */
public record Signer(String keyId, PrivateKey key) {
  public String sign(byte[] digest) {
    return UpdateSignature.sign(key, digest);
  }
}
