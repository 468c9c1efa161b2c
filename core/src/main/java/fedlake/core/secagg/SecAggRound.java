package fedlake.core.secagg;

import fedlake.core.InvalidInputException;
import fedlake.core.identity.SiteKeys;
import fedlake.core.model.Models;
import fedlake.core.store.Store;
import fedlake.schema.FederationSpec;
import fedlake.schema.MaskedUpdate;
import fedlake.schema.Model;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;

/**
 * One round's secure aggregation as both sides see it: the round's model and settings, and the
 * checks every phase file must pass, run by the sites (on the files they read from each other) and
 * by the round job (before it lists a file in a roster). A check that fails throws {@link
 * InvalidInputException} naming the file and the reason.
 */
public final class SecAggRound {
  private final SecAggFiles files;
  private final FederationSpec spec;
  private final SecAggSettings settings;
  private final Model base;
  private final long opened;
  private final SiteKeys keys;
  private final boolean requireSignatures;

  public SecAggRound(Store store, FederationSpec spec, Model base) {
    this.files = new SecAggFiles(store, base.getRound());
    this.spec = spec;
    this.settings = SecAggSettings.of(spec);
    this.base = base;
    this.opened = base.getCreatedTime().toEpochMilli();
    this.requireSignatures = spec.getRobustness().getRequireSignatures();
    this.keys = SiteKeys.load(store);
  }

  public SecAggFiles files() {
    return files;
  }

  public FederationSpec spec() {
    return spec;
  }

  public SecAggSettings settings() {
    return settings;
  }

  public Model base() {
    return base;
  }

  public int round() {
    return base.getRound();
  }

  /** When the round opened: its model's createdTime. */
  public long opened() {
    return opened;
  }

  /**
   * When {@code phase} closes at the latest: its length after the previous phase closed (the keys
   * phase: after the round opened). A round job that runs long after a deadline closes one phase,
   * and the next one gets its full length from then.
   */
  public long deadline(int phase) {
    long start =
        phase == 0
            ? opened
            : roster(phase - 1)
                .map(Roster::closedMillis)
                .orElseThrow(
                    () ->
                        new IllegalStateException(
                            SecAggFiles.PHASES[phase - 1]
                                + " phase of round "
                                + round()
                                + " is open"));
    return start + settings.length(phase) * 1000L;
  }

  /** Words of a site's input: one per model parameter and one for the example count. */
  public int words() {
    return Models.parameterCount(base) + 1;
  }

  /** The roster closing {@code phase}, or empty while the phase is open. */
  public Optional<Roster> roster(int phase) {
    Path file = files.roster(phase);
    return files.readPhase(file).map(f -> Roster.parse(f, phase, round(), file.toString()));
  }

  /** Why the round's secure aggregation failed, or empty. */
  public Optional<String> failure() {
    return files.readPhase(files.failed()).map(f -> f.get("reason", files.failed().toString()));
  }

  /** The public keys a site posted. */
  public record Keys(String site, byte[] encryption, byte[] masking) {}

  public Keys checkKeys(String site, byte[] bytes) {
    String source = files.phaseFile(0, site).toString();
    PhaseFile f = PhaseFile.parse(bytes, source);
    header(f, "keys", site, source);
    byte[] c = f.getBytes("encryptionKey", source);
    byte[] s = f.getBytes("maskingKey", source);
    try {
      SecAggCrypto.publicKey(c);
      SecAggCrypto.publicKey(s);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(source, e.getMessage());
    }
    if (java.util.Arrays.equals(c, s)) {
      throw new InvalidInputException(source, "uses one key for encryption and masking");
    }
    signature(f, site, source);
    return new Keys(site, c, s);
  }

  /** The sealed shares a site posted, by recipient; one for every site of the keys roster. */
  public Map<String, byte[]> checkShares(String site, byte[] bytes, Roster keysRoster) {
    String source = files.phaseFile(1, site).toString();
    PhaseFile f = PhaseFile.parse(bytes, source);
    header(f, "shares", site, source);
    Map<String, byte[]> sealed = new TreeMap<>();
    for (String to : keysRoster.sites()) {
      sealed.put(to, f.getBytes("to." + to, source));
    }
    long extra = f.fields().keySet().stream().filter(k -> k.startsWith("to.")).count();
    if (extra != sealed.size()) {
      throw new InvalidInputException(
          source, "holds shares for sites outside the keys roster of round " + round());
    }
    signature(f, site, source);
    return sealed;
  }

  /** A masked update of {@code site}: one row, this round, this model, the right length, signed. */
  public MaskedUpdate checkMasked(String site, Path file, long bytes) {
    String source = file.toString();
    long limit = spec.getRobustness().getMaxUpdateBytes();
    if (bytes > limit) {
      throw new InvalidInputException(
          source, "is " + bytes + " bytes, above the limit of " + limit + " (maxUpdateBytes)");
    }
    MaskedUpdate m;
    try {
      m = files.readMasked(file);
    } catch (InvalidInputException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new InvalidInputException(source, "is not a masked update: " + e.getMessage(), e);
    }
    if (!site.equals(m.getSite())) {
      throw new InvalidInputException(
          source, "says it comes from site " + m.getSite() + ", its name says " + site);
    }
    if (m.getRound() != round()) {
      throw new InvalidInputException(
          source, "is for round " + m.getRound() + ", the round is " + round());
    }
    if (!base.getVersion().equals(m.getBaseModelVersion())) {
      throw new InvalidInputException(
          source,
          "was made from model "
              + m.getBaseModelVersion()
              + ", the round's is "
              + base.getVersion());
    }
    if (m.getValues().size() != words()) {
      throw new InvalidInputException(
          source,
          "holds "
              + m.getValues().size()
              + " words, the model needs "
              + words()
              + " (parameters and the example count)");
    }
    String problem = signatureProblem(site, m.getKeyId(), m.getSignature(), SecAggFiles.digest(m));
    if (problem != null) {
      throw new InvalidInputException(source, problem);
    }
    return m;
  }

  /** The shares a survivor reveals: b for sites that sent input, s for sites that dropped. */
  public record Unmask(Map<String, BigInteger> selfShares, Map<String, BigInteger> pairShares) {}

  public Unmask checkUnmask(String site, byte[] bytes, Roster shares, Roster masked) {
    String source = files.phaseFile(3, site).toString();
    PhaseFile f = PhaseFile.parse(bytes, source);
    header(f, "unmask", site, source);
    Map<String, BigInteger> self = new TreeMap<>();
    Map<String, BigInteger> pair = new TreeMap<>();
    for (String u : shares.sites()) {
      boolean survived = masked.has(u);
      String wanted = (survived ? "self." : "pair.") + u;
      String other = (survived ? "pair." : "self.") + u;
      if (f.getOrNull(other) != null) {
        throw new InvalidInputException(
            source,
            "reveals a "
                + (survived ? "pair" : "self")
                + "-mask share of "
                + u
                + ", which "
                + (survived ? "sent" : "did not send")
                + " its masked input: revealing it would unmask a site");
      }
      byte[] share = f.getBytes(wanted, source);
      if (share.length != Shamir.SHARE_BYTES) {
        throw new InvalidInputException(
            source, "share " + wanted + " is not " + Shamir.SHARE_BYTES + " bytes");
      }
      (survived ? self : pair).put(u, new BigInteger(1, share));
    }
    signature(f, site, source);
    return new Unmask(self, pair);
  }

  /**
   * The bytes of the file {@code site} posted in {@code phase}, checked against the hash the roster
   * pinned.
   */
  public byte[] readListed(int phase, String site, Roster roster) {
    Path file = files.phaseFile(phase, site);
    byte[] bytes =
        files
            .read(file)
            .orElseThrow(
                () ->
                    new InvalidInputException(file.toString(), "is listed in the roster but gone"));
    String hash = PhaseFile.hash(bytes);
    if (!hash.equals(roster.hashes().get(site))) {
      throw new InvalidInputException(
          file.toString(),
          "changed after the round job listed it (its SHA-256 is not the roster's)");
    }
    return bytes;
  }

  private void header(PhaseFile f, String phase, String site, String source) {
    if (!phase.equals(f.get("phase", source))) {
      throw new InvalidInputException(
          source, "is a " + f.get("phase", source) + " file, expected " + phase);
    }
    if (!site.equals(f.get("site", source))) {
      throw new InvalidInputException(
          source, "says it comes from site " + f.get("site", source) + ", its name says " + site);
    }
    if (f.getLong("round", source) != round()) {
      throw new InvalidInputException(
          source, "is for round " + f.get("round", source) + ", the round is " + round());
    }
    if (!base.getVersion().equals(f.get("baseModelVersion", source))) {
      throw new InvalidInputException(
          source,
          "was made for model "
              + f.get("baseModelVersion", source)
              + ", the round's is "
              + base.getVersion());
    }
  }

  private void signature(PhaseFile f, String site, String source) {
    String problem =
        signatureProblem(
            site, f.getOrNull(PhaseFile.KEY_ID), f.getOrNull(PhaseFile.SIGNATURE), f.digest());
    if (problem != null) {
      throw new InvalidInputException(source, problem);
    }
  }

  /**
   * Why a signature does not hold, or null (also null for an unsigned file when none is required).
   */
  String signatureProblem(String site, String keyId, String signature, byte[] digest) {
    if (keyId == null && signature == null && !requireSignatures) {
      return null;
    }
    String problem = keys.problem(site, keyId, signature, digest);
    return problem == null ? null : problem.replace("unsigned update", "unsigned file");
  }

  /** Signs {@code f} with {@code signer} (null: leaves it unsigned). */
  static PhaseFile sign(PhaseFile f, Signer signer) {
    if (signer != null) {
      f.put(PhaseFile.KEY_ID, signer.keyId());
      f.put(PhaseFile.SIGNATURE, signer.sign(f.digest()));
    }
    return f;
  }

  /** The fields every phase file starts with. */
  PhaseFile newFile(String phase, String site) {
    return new PhaseFile()
        .put("phase", phase)
        .put("site", site)
        .put("round", round())
        .put("baseModelVersion", base.getVersion());
  }

  /** The key a pair of sites seeds their mutual mask with. */
  byte[] pairSeed(java.security.PrivateKey mine, byte[] theirPublic, String a, String b) {
    String lo = a.compareTo(b) < 0 ? a : b;
    String hi = a.compareTo(b) < 0 ? b : a;
    return SecAggCrypto.agree(
        mine, SecAggCrypto.publicKey(theirPublic), "mask|round=" + round() + "|" + lo + "|" + hi);
  }

  /** +1 when {@code a} adds the pair mask of {a, b}, -1 when it subtracts it. */
  static int sign(String a, String b) {
    return a.compareTo(b) < 0 ? 1 : -1;
  }

  /** The key {@code from} seals its shares for {@code to} with, and the data it binds. */
  byte[] shareKey(java.security.PrivateKey mine, byte[] theirPublic, String from, String to) {
    return SecAggCrypto.agree(
        mine,
        SecAggCrypto.publicKey(theirPublic),
        "shares|round=" + round() + "|" + from + "|" + to);
  }

  String shareAad(String from, String to) {
    return "fedlake-secagg shares round "
        + round()
        + " model "
        + base.getVersion()
        + " from "
        + from
        + " to "
        + to;
  }

  /** Reads the keys of every listed site, checked against the roster. */
  Map<String, Keys> listedKeys(Roster keysRoster) {
    Map<String, Keys> out = new TreeMap<>();
    for (String site : keysRoster.sites()) {
      out.put(site, checkKeys(site, readListed(0, site, keysRoster)));
    }
    return out;
  }

  static List<String> minus(List<String> all, Roster roster) {
    return all.stream().filter(s -> !roster.has(s)).toList();
  }
}
