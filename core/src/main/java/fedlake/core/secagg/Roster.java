package fedlake.core.secagg;

import fedlake.core.InvalidInputException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The round job's close of one phase: which sites' files count (each pinned by its SHA-256), the
 * threshold, when it closed, and why other files did not count. Sites read it to know whom to share
 * with, whom to mask against and which shares to reveal; the round job reads it to aggregate
 * exactly the files it lists, whatever arrives later.
 */
public record Roster(
    int phase,
    int round,
    List<String> sites,
    Map<String, String> hashes,
    int threshold,
    long closedMillis,
    Map<String, String> rejected) {
  public Roster {
    sites = List.copyOf(sites);
    hashes = Collections.unmodifiableMap(new TreeMap<>(hashes));
    rejected = Collections.unmodifiableMap(new TreeMap<>(rejected));
  }

  /** The Shamir x of {@code site} (1-based position in the keys roster). */
  public int index(String site) {
    int i = sites.indexOf(site);
    if (i < 0) {
      throw new IllegalArgumentException(site + " is not in the roster");
    }
    return i + 1;
  }

  public boolean has(String site) {
    return hashes.containsKey(site);
  }

  public PhaseFile toFile() {
    PhaseFile f = new PhaseFile();
    f.put("phase", "roster-" + SecAggFiles.PHASES[phase]);
    f.put("round", round);
    f.put("sites", String.join(",", sites));
    f.put("threshold", threshold);
    f.put("closedTime", closedMillis);
    hashes.forEach((site, hash) -> f.put("hash." + site, hash));
    rejected.forEach((site, reason) -> f.put("rejected." + site, reason));
    return f;
  }

  public static Roster parse(PhaseFile f, int phase, int round, String source) {
    if (!("roster-" + SecAggFiles.PHASES[phase]).equals(f.get("phase", source))
        || f.getLong("round", source) != round) {
      throw new InvalidInputException(
          source, "is not the " + SecAggFiles.PHASES[phase] + " roster of round " + round);
    }
    String listed = f.get("sites", source);
    List<String> sites = listed.isEmpty() ? List.of() : List.of(listed.split(","));
    Map<String, String> hashes = new TreeMap<>();
    Map<String, String> rejected = new TreeMap<>();
    for (String site : sites) {
      hashes.put(site, f.get("hash." + site, source));
    }
    f.fields()
        .forEach(
            (k, v) -> {
              if (k.startsWith("rejected.")) {
                rejected.put(k.substring("rejected.".length()), v);
              }
            });
    return new Roster(
        phase,
        round,
        new ArrayList<>(sites),
        hashes,
        (int) f.getLong("threshold", source),
        f.getLong("closedTime", source),
        rejected);
  }
}
