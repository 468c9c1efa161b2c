package fedlake.core.secagg;

import fedlake.core.InvalidInputException;
import fedlake.core.model.Models;
import fedlake.core.store.Store;
import fedlake.schema.FederationSpec;
import fedlake.schema.MaskedUpdate;
import fedlake.schema.Model;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * What one site does in a round of secure aggregation. Each {@link #advance} does the step that is
 * due, at most one: post its public keys; once the round job closed the keys phase, post encrypted
 * shares of its secrets for every listed site; once the shares phase closed, train (through the
 * supplied training) and post its masked input; once the masked phase closed, post the shares that
 * let the round job remove the masks. A site that runs it on a schedule moves through the round.
 *
 * <p>The site's secrets (two X25519 private keys and its self-mask seed) stay in its state folder
 * ({@code STATE/secagg/SITE/round-RRRRRR.properties}, owner-only), never in the store.
 */
public final class SecAggSite {
  /** What a site's training gives: trained parameters (stored layout) and its example count. */
  public record Contribution(float[] parameters, long numExamples) {}

  /** What one {@link #advance} came to. */
  public enum Outcome {
    /** The site posted its file of the phase. */
    ACTED,
    /** Nothing is due: the site waits for the round job to close a phase. */
    WAITING,
    /** The site is out of this round: a phase closed without it, or the round failed. */
    OUT,
    /** The site took part in every phase. */
    DONE
  }

  /** The outcome of one {@link #advance}: the phase concerned (or -1) and what happened. */
  public record Step(int phase, Outcome outcome, String message) {
    public boolean acted() {
      return outcome == Outcome.ACTED;
    }
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Store store;
  private final String site;
  private final java.nio.file.Path stateDir;
  private Signer signer;
  private LongSupplier clock = System::currentTimeMillis;

  public SecAggSite(Store store, String site, java.nio.file.Path stateDir) {
    this.store = store;
    this.site = Store.checkSite(site);
    this.stateDir = stateDir;
  }

  /** The site's registered key, which signs every file it posts (null: unsigned). */
  public SecAggSite signer(Signer value) {
    this.signer = value;
    return this;
  }

  public SecAggSite clock(LongSupplier value) {
    this.clock = value;
    return this;
  }

  /** Does the step that is due; {@code training} runs only in the masked-input phase. */
  public Step advance(Supplier<Contribution> training) {
    FederationSpec spec = fedlake.core.spec.Specs.require(store);
    if (!SecAggSettings.on(spec)) {
      throw new IllegalStateException(
          "Site " + site + ": the federation does not run secure aggregation (use edge train)");
    }
    var latest = store.requireLatest();
    Model base = store.readModel(latest.round(), latest.versions().firstKey());
    SecAggRound r = new SecAggRound(store, spec, base);
    SecAggFiles files = r.files();
    String prefix = "site " + site + ", round " + r.round() + ": ";
    var failed = r.failure();
    if (failed.isPresent()) {
      return new Step(-1, Outcome.OUT, prefix + "secure aggregation failed: " + failed.get());
    }
    for (int phase = 0; phase < 4; phase++) {
      boolean posted = files.exists(files.phaseFile(phase, site));
      var roster = r.roster(phase);
      if (!posted) {
        if (roster.isPresent()) {
          return new Step(
              phase,
              Outcome.OUT,
              prefix
                  + "the "
                  + SecAggFiles.PHASES[phase]
                  + " phase closed before this site posted: it sits this round out");
        }
        if (phase > 0) {
          Roster previous = r.roster(phase - 1).orElseThrow();
          if (!previous.has(site)) {
            return new Step(
                phase,
                Outcome.OUT,
                prefix
                    + "this site is not in the "
                    + SecAggFiles.PHASES[phase - 1]
                    + " roster ("
                    + previous.rejected().getOrDefault(site, "its file came too late")
                    + "): it sits this round out");
          }
        }
        String message =
            switch (phase) {
              case 0 -> postKeys(r);
              case 1 -> postShares(r);
              case 2 -> postMasked(r, training);
              default -> postUnmask(r);
            };
        return new Step(phase, Outcome.ACTED, prefix + message);
      }
      if (roster.isEmpty()) {
        return new Step(
            phase,
            Outcome.WAITING,
            prefix
                + "posted its "
                + SecAggFiles.PHASES[phase]
                + " file; waiting for the round job to close the phase (deadline "
                + Instant.ofEpochMilli(r.deadline(phase))
                + ")");
      }
    }
    return new Step(
        -1, Outcome.DONE, prefix + "took part in every phase; the round job publishes the sum");
  }

  private String postKeys(SecAggRound r) {
    KeyPair encryption = SecAggCrypto.generate();
    KeyPair masking = SecAggCrypto.generate();
    byte[] self = new byte[Prg.SEED_BYTES];
    RANDOM.nextBytes(self);
    Properties secrets = new Properties();
    Base64.Encoder b64 = Base64.getEncoder();
    secrets.setProperty("round", Integer.toString(r.round()));
    secrets.setProperty("baseModelVersion", r.base().getVersion());
    secrets.setProperty(
        "encryptionKey", b64.encodeToString(SecAggCrypto.raw(encryption.getPrivate())));
    secrets.setProperty("maskingKey", b64.encodeToString(SecAggCrypto.raw(masking.getPrivate())));
    secrets.setProperty("selfSeed", b64.encodeToString(self));
    saveSecrets(r.round(), secrets); // before posting: a site never posts keys it cannot use
    PhaseFile f =
        r.newFile("keys", site)
            .putBytes("encryptionKey", SecAggCrypto.raw(encryption.getPublic()))
            .putBytes("maskingKey", SecAggCrypto.raw(masking.getPublic()))
            .put("createdTime", clock.getAsLong());
    post(r, 0, SecAggRound.sign(f, signer));
    return "posted its public keys";
  }

  private String postShares(SecAggRound r) {
    Roster keysRoster = r.roster(0).orElseThrow();
    Properties secrets = loadSecrets(r);
    Map<String, SecAggRound.Keys> keys = r.listedKeys(keysRoster);
    PrivateKey encryption = SecAggCrypto.privateKey(secret(secrets, "encryptionKey"));
    byte[] masking = secret(secrets, "maskingKey");
    byte[] self = secret(secrets, "selfSeed");
    int n = keysRoster.sites().size();
    int t = keysRoster.threshold();
    Map<Integer, BigInteger> maskingShares = Shamir.split(masking, t, n);
    Map<Integer, BigInteger> selfShares = Shamir.split(self, t, n);
    PhaseFile f = r.newFile("shares", site);
    for (String to : keysRoster.sites()) {
      int x = keysRoster.index(to);
      byte[] plain = new byte[2 * Shamir.SHARE_BYTES];
      System.arraycopy(Shamir.encode(maskingShares.get(x)), 0, plain, 0, Shamir.SHARE_BYTES);
      System.arraycopy(
          Shamir.encode(selfShares.get(x)), 0, plain, Shamir.SHARE_BYTES, Shamir.SHARE_BYTES);
      byte[] key = r.shareKey(encryption, keys.get(to).encryption(), site, to);
      f.putBytes("to." + to, SecAggCrypto.seal(key, plain, r.shareAad(site, to)));
    }
    post(r, 1, SecAggRound.sign(f, signer));
    return "posted encrypted shares of its secrets for " + n + " sites (threshold " + t + ")";
  }

  private String postMasked(SecAggRound r, Supplier<Contribution> training) {
    Roster keysRoster = r.roster(0).orElseThrow();
    Roster sharesRoster = r.roster(1).orElseThrow();
    Properties secrets = loadSecrets(r);
    Map<String, SecAggRound.Keys> keys = r.listedKeys(keysRoster);
    Contribution contribution = training.get();
    float[] base = Models.parameters(r.base());
    if (contribution.parameters().length != base.length) {
      throw new IllegalStateException(
          "training gave "
              + contribution.parameters().length
              + " parameters, the model has "
              + base.length);
    }
    double[] change = new double[base.length];
    for (int i = 0; i < change.length; i++) {
      change[i] = (double) contribution.parameters()[i] - base[i];
    }
    long[] words = r.settings().quantizer().encode(change, contribution.numExamples());
    mask(r, words, secrets, keys, sharesRoster);
    List<Long> values = new ArrayList<>(words.length);
    for (long w : words) {
      values.add(w);
    }
    MaskedUpdate masked =
        MaskedUpdate.newBuilder()
            .setSite(site)
            .setRound(r.round())
            .setBaseModelVersion(r.base().getVersion())
            .setSpecVersion(r.spec().getSpecVersion())
            .setValues(values)
            .setCreatedTime(Instant.ofEpochMilli(clock.getAsLong()))
            .setKeyId(signer == null ? null : signer.keyId())
            .setSignature(null)
            .build();
    if (signer != null) {
      masked.setSignature(signer.sign(SecAggFiles.digest(masked)));
    }
    if (!r.files().writeMasked(masked)) {
      throw new IllegalStateException(
          "Site " + site + " posted its masked input for round " + r.round() + " already");
    }
    return "trained on "
        + contribution.numExamples()
        + " examples and posted its masked input ("
        + words.length
        + " words, masked against "
        + (sharesRoster.sites().size() - 1)
        + " sites)";
  }

  /** Adds the self mask and the pair masks with every other site of the shares roster. */
  private void mask(
      SecAggRound r,
      long[] words,
      Properties secrets,
      Map<String, SecAggRound.Keys> keys,
      Roster sharesRoster) {
    Prg.add(words, secret(secrets, "selfSeed"), 1);
    PrivateKey masking = SecAggCrypto.privateKey(secret(secrets, "maskingKey"));
    for (String other : sharesRoster.sites()) {
      if (!other.equals(site)) {
        byte[] seed = r.pairSeed(masking, keys.get(other).masking(), site, other);
        Prg.add(words, seed, SecAggRound.sign(site, other));
      }
    }
  }

  private String postUnmask(SecAggRound r) {
    Roster keysRoster = r.roster(0).orElseThrow();
    Roster sharesRoster = r.roster(1).orElseThrow();
    Roster masked = r.roster(2).orElseThrow();
    if (masked.sites().size() < keysRoster.threshold()) {
      throw new IllegalStateException(
          "only "
              + masked.sites().size()
              + " sites sent masked input, fewer than the threshold "
              + keysRoster.threshold()
              + ": this site reveals nothing");
    }
    Properties secrets = loadSecrets(r);
    Map<String, SecAggRound.Keys> keys = r.listedKeys(keysRoster);
    PrivateKey encryption = SecAggCrypto.privateKey(secret(secrets, "encryptionKey"));
    PhaseFile f = r.newFile("unmask", site);
    for (String from : sharesRoster.sites()) {
      Map<String, byte[]> sealed =
          r.checkShares(from, r.readListed(1, from, sharesRoster), keysRoster);
      byte[] key = r.shareKey(encryption, keys.get(from).encryption(), from, site);
      byte[] plain;
      try {
        plain = SecAggCrypto.open(key, sealed.get(site), r.shareAad(from, site));
      } catch (IllegalArgumentException e) {
        throw new InvalidInputException(
            r.files().phaseFile(1, from).toString(), "share for " + site + ": " + e.getMessage());
      }
      boolean survived = masked.has(from);
      byte[] share =
          java.util.Arrays.copyOfRange(
              plain,
              survived ? Shamir.SHARE_BYTES : 0,
              survived ? 2 * Shamir.SHARE_BYTES : Shamir.SHARE_BYTES);
      f.putBytes((survived ? "self." : "pair.") + from, share);
    }
    post(r, 3, SecAggRound.sign(f, signer));
    return "posted its unmask shares ("
        + masked.sites().size()
        + " self-mask, "
        + (sharesRoster.sites().size() - masked.sites().size())
        + " pair-mask for sites that dropped)";
  }

  private void post(SecAggRound r, int phase, PhaseFile f) {
    if (!r.files().create(r.files().phaseFile(phase, site), f.bytes())) {
      throw new IllegalStateException(
          "Site "
              + site
              + " posted its "
              + SecAggFiles.PHASES[phase]
              + " file for round "
              + r.round()
              + " already");
    }
  }

  private java.nio.file.Path secretsFile(int round) {
    return stateDir.resolve("secagg").resolve(site).resolve(Store.roundName(round) + ".properties");
  }

  private void saveSecrets(int round, Properties secrets) {
    java.nio.file.Path file = secretsFile(round);
    try {
      Files.createDirectories(file.getParent());
      java.nio.file.Path temporary = Files.createTempFile(file.getParent(), ".secrets", ".tmp");
      try {
        Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException e) {
        // no POSIX permissions: the state folder's own protection applies
      }
      try (var out = Files.newOutputStream(temporary)) {
        secrets.store(out, "secure aggregation secrets of site " + site + ": never share");
      }
      Files.move(
          temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Site "
              + site
              + " cannot save its secure aggregation secrets to "
              + file
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private Properties loadSecrets(SecAggRound r) {
    java.nio.file.Path file = secretsFile(r.round());
    Properties secrets = new Properties();
    try (var in = Files.newInputStream(file)) {
      secrets.load(in);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalStateException(
          "Site "
              + site
              + " posted keys for round "
              + r.round()
              + " but its secrets are gone from "
              + file
              + ": it cannot take further part in this round");
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file + ": " + e.getMessage(), e);
    }
    if (!r.base().getVersion().equals(secrets.getProperty("baseModelVersion"))) {
      throw new IllegalStateException(
          file
              + " holds secrets for model "
              + secrets.getProperty("baseModelVersion")
              + ", the round's is "
              + r.base().getVersion());
    }
    return secrets;
  }

  private static byte[] secret(Properties secrets, String name) {
    return Base64.getDecoder().decode(secrets.getProperty(name));
  }
}
