package fedlake.core.secagg;

import fedlake.core.InvalidInputException;
import fedlake.schema.MaskedUpdate;
import java.math.BigInteger;
import java.security.PrivateKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileStatus;

/**
 * The round job's side of secure aggregation. {@link #advance} closes every phase that is due (all
 * sites of the previous roster posted, or the phase's deadline passed) by writing its roster, and
 * once the unmask phase is closed reconstructs what the dropped sites and the survivors' self masks
 * need and returns the exact sum of the survivors' quantised inputs. A phase that closes with fewer
 * sites than the threshold ends the round: {@code failed.txt} says why, and nothing is summed.
 */
public final class SecAggServer {
  private final SecAggRound r;
  private final Set<String> registered;

  /** What {@link #advance} found. */
  public sealed interface State permits Waiting, Failed, Summed {}

  /** A phase is still open. */
  public record Waiting(int phase, String message) implements State {}

  /** The round's secure aggregation ended without a sum. */
  public record Failed(String message) implements State {}

  /**
   * The unmasked sum of the survivors' words (mod 2^64; read as signed, the exact integer sums),
   * the survivors, why other files were left out (file to reason), and when the last phase closed.
   */
  public record Summed(
      long[] sum, List<String> survivors, Map<String, String> rejected, long closedMillis)
      implements State {}

  /**
   * @param registered the federation's registered sites ({@code _sites}), or null: the keys phase
   *     then closes at its deadline only
   */
  public SecAggServer(SecAggRound round, Set<String> registered) {
    this.r = round;
    this.registered = registered;
  }

  public State advance(long now) {
    var failed = r.failure();
    if (failed.isPresent()) {
      return new Failed(failed.get());
    }
    for (int phase = 0; phase < 4; phase++) {
      if (r.roster(phase).isPresent()) {
        continue;
      }
      Roster previous = phase == 0 ? null : r.roster(phase - 1).orElseThrow();
      Map<String, String> rejected = new TreeMap<>();
      Map<String, String> accepted = check(phase, previous, rejected);
      java.util.Collection<String> expected =
          phase == 0 ? (registered == null ? null : registered) : previous.sites();
      boolean all =
          expected != null && !expected.isEmpty() && accepted.keySet().containsAll(expected);
      long deadline = r.deadline(phase);
      String name = SecAggFiles.PHASES[phase];
      if (!all && now < deadline) {
        return new Waiting(
            phase,
            "Round "
                + r.round()
                + ": secure aggregation "
                + name
                + " phase open: "
                + accepted.size()
                + (expected == null ? "" : " of " + expected.size())
                + " site(s) posted; it closes at "
                + Instant.ofEpochMilli(deadline)
                + " or when every site posted");
      }
      int n = accepted.size();
      int t =
          phase == 0 ? r.settings().effectiveThreshold(n) : r.roster(0).orElseThrow().threshold();
      if (phase == 0 && n > SecAggSettings.MAX_SITES) {
        return fail(
            "round "
                + r.round()
                + ": "
                + n
                + " sites posted keys, more than the "
                + SecAggSettings.MAX_SITES
                + " one secure aggregation round can hold");
      }
      if (n < t) {
        return fail(
            "round "
                + r.round()
                + ": only "
                + n
                + " site(s) posted "
                + name
                + " files by "
                + (all ? "the close" : "the deadline " + Instant.ofEpochMilli(deadline))
                + ", the threshold is "
                + t
                + (phase == 0
                    ? ""
                    : " (of " + r.roster(0).orElseThrow().sites().size() + " that posted keys)")
                + ": too many dropouts to "
                + (phase == 3 ? "remove the masks" : "go on")
                + "; nothing published"
                + (rejected.isEmpty() ? "" : "; rejected: " + rejected));
      }
      Roster roster =
          new Roster(
              phase, r.round(), new ArrayList<>(accepted.keySet()), accepted, t, now, rejected);
      r.files().create(r.files().roster(phase), roster.toFile().bytes());
    }
    try {
      return sum();
    } catch (IllegalStateException | fedlake.core.InvalidInputException e) {
      // the rosters pin every input: a sum that cannot be made now never can
      return fail(e.getMessage());
    }
  }

  /** The files of {@code phase} that pass their checks: site to SHA-256; others into rejected. */
  private Map<String, String> check(int phase, Roster previous, Map<String, String> rejected) {
    Map<String, String> accepted = new TreeMap<>();
    TreeMap<String, FileStatus> listed = r.files().listPhase(phase);
    Roster keysRoster = phase == 0 ? null : r.roster(0).orElseThrow();
    Roster sharesRoster = phase < 2 ? null : r.roster(1).orElseThrow();
    for (Map.Entry<String, FileStatus> e : listed.entrySet()) {
      String site = e.getKey();
      try {
        if (!fedlake.core.store.Store.SITE.matcher(site).matches()) {
          throw new InvalidInputException(e.getValue().getPath().toString(), "invalid site id");
        }
        if (phase == 0 && registered != null && !registered.contains(site)) {
          throw new InvalidInputException(
              e.getValue().getPath().toString(), "unknown site " + site + " (not in _sites)");
        }
        if (previous != null && !previous.has(site)) {
          throw new InvalidInputException(
              e.getValue().getPath().toString(),
              "site " + site + " is not in the " + SecAggFiles.PHASES[phase - 1] + " roster");
        }
        byte[] bytes;
        if (phase == 2) {
          r.checkMasked(site, e.getValue().getPath(), e.getValue().getLen());
          bytes = r.files().read(e.getValue().getPath()).orElseThrow();
        } else {
          bytes = r.files().read(e.getValue().getPath()).orElseThrow();
          switch (phase) {
            case 0 -> r.checkKeys(site, bytes);
            case 1 -> r.checkShares(site, bytes, keysRoster);
            default -> r.checkUnmask(site, bytes, sharesRoster, previous);
          }
        }
        accepted.put(site, PhaseFile.hash(bytes));
      } catch (InvalidInputException ex) {
        rejected.put(site, ex.getMessage());
      }
    }
    return accepted;
  }

  private State fail(String reason) {
    PhaseFile f =
        new PhaseFile().put("phase", "failed").put("round", r.round()).put("reason", reason);
    r.files().create(r.files().failed(), f.bytes());
    return new Failed(r.failure().orElse(reason));
  }

  /** Removes the masks from the listed masked inputs. */
  private State sum() {
    Roster keysRoster = r.roster(0).orElseThrow();
    Roster sharesRoster = r.roster(1).orElseThrow();
    Roster masked = r.roster(2).orElseThrow();
    Roster unmask = r.roster(3).orElseThrow();
    int t = keysRoster.threshold();
    Map<String, String> rejected = new LinkedHashMap<>();
    for (Roster roster : List.of(keysRoster, sharesRoster, masked, unmask)) {
      roster
          .rejected()
          .forEach(
              (site, why) -> rejected.put(SecAggFiles.PHASES[roster.phase()] + "/" + site, why));
    }
    Map<String, SecAggRound.Keys> keys = r.listedKeys(keysRoster);
    long[] sum = new long[r.words()];
    for (String site : masked.sites()) {
      byte[] bytes = r.readListed(2, site, masked); // pinned: the file the roster listed
      MaskedUpdate m = r.checkMasked(site, r.files().phaseFile(2, site), bytes.length);
      int i = 0;
      for (Long v : m.getValues()) {
        sum[i++] += v;
      }
    }
    Map<String, Map<Integer, BigInteger>> selfShares = new TreeMap<>();
    Map<String, Map<Integer, BigInteger>> pairShares = new TreeMap<>();
    for (String holder : unmask.sites()) {
      SecAggRound.Unmask u =
          r.checkUnmask(holder, r.readListed(3, holder, unmask), sharesRoster, masked);
      int x = keysRoster.index(holder);
      u.selfShares()
          .forEach((site, s) -> selfShares.computeIfAbsent(site, k -> new TreeMap<>()).put(x, s));
      u.pairShares()
          .forEach((site, s) -> pairShares.computeIfAbsent(site, k -> new TreeMap<>()).put(x, s));
    }
    for (String site : masked.sites()) {
      byte[] seed =
          reconstruct(selfShares.get(site), t, Prg.SEED_BYTES, "self-mask seed of " + site);
      Prg.add(sum, seed, -1);
    }
    for (String dropped : SecAggRound.minus(sharesRoster.sites(), masked)) {
      byte[] secret =
          reconstruct(
              pairShares.get(dropped), t, SecAggCrypto.KEY_BYTES, "masking key of " + dropped);
      if (!java.util.Arrays.equals(SecAggCrypto.publicOf(secret), keys.get(dropped).masking())) {
        throw new IllegalStateException(
            "round "
                + r.round()
                + ": the masking key of "
                + dropped
                + " rebuilt from the unmask shares does not match its posted public key: a share"
                + " was corrupted; nothing published");
      }
      PrivateKey key = SecAggCrypto.privateKey(secret);
      for (String survivor : masked.sites()) {
        byte[] seed = r.pairSeed(key, keys.get(survivor).masking(), dropped, survivor);
        // the survivor added sign(survivor, dropped) times this mask: take it away
        Prg.add(sum, seed, -SecAggRound.sign(survivor, dropped));
      }
    }
    return new Summed(sum, masked.sites(), rejected, unmask.closedMillis());
  }

  private byte[] reconstruct(Map<Integer, BigInteger> shares, int t, int bytes, String what) {
    if (shares == null || shares.size() < t) {
      throw new IllegalStateException(
          "round "
              + r.round()
              + ": "
              + (shares == null ? 0 : shares.size())
              + " share(s) of the "
              + what
              + ", threshold "
              + t
              + "; nothing published");
    }
    try {
      return Shamir.toBytes(Shamir.combine(shares, t), bytes);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "round "
              + r.round()
              + ": cannot rebuild the "
              + what
              + ": "
              + e.getMessage()
              + "; nothing published",
          e);
    }
  }
}
