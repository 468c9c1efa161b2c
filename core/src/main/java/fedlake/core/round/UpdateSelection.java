package fedlake.core.round;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which update of each site counts, reading every file's parameters at most once. Of several valid
 * uploads of one site the latest (by createdTime, then update id, then file) counts.
 *
 * <p>Files named {@code SITE--ID.parquet} are grouped by the site in their name. A site with one
 * file goes straight to the one-read scan. For a site with several, a footer-and-facts pass orders
 * them newest first and only the newest is scanned; if it fails, the next one is scanned in a later
 * pass. Files with other names are scanned directly; if two of them turn out to be accepted updates
 * of one site, the scan is repeated without the older ones (rare: the edge runner never names files
 * so).
 */
public final class UpdateSelection {
  private static final Comparator<UpdateCheck> NEWEST_FIRST =
      Comparator.comparingLong(UpdateCheck::createdTime)
          .thenComparing(c -> c.updateId() == null ? "" : c.updateId())
          .thenComparing(UpdateCheck::file)
          .reversed();

  private UpdateSelection() {}

  /**
   * Scans {@code files} so that each site's latest valid update is accepted and folded, and every
   * file has one check.
   */
  public static ScanResult run(List<UpdateFile> files, RoundRules rules, UpdateScanner scanner) {
    Map<String, List<UpdateFile>> bySite = new LinkedHashMap<>();
    List<UpdateFile> direct = new ArrayList<>();
    for (UpdateFile file : files) {
      String site = file.siteFromName();
      if (site == null) {
        direct.add(file);
      } else {
        bySite.computeIfAbsent(site, s -> new ArrayList<>()).add(file);
      }
    }
    List<UpdateFile> repeated = new ArrayList<>();
    bySite.values().forEach(group -> (group.size() == 1 ? direct : repeated).addAll(group));

    List<UpdateCheck> settled = new ArrayList<>(); // checks of files never scanned in full
    Map<String, Deque<UpdateCheck>> candidates = new HashMap<>();
    Map<String, UpdateFile> byUri = new HashMap<>();
    files.forEach(f -> byUri.put(f.uri(), f));
    if (!repeated.isEmpty()) {
      for (UpdateCheck facts : scanner.facts(repeated, rules)) {
        if (facts.accepted()) {
          candidates.computeIfAbsent(facts.site(), s -> new ArrayDeque<>()).add(facts);
        } else {
          settled.add(facts);
        }
      }
      candidates.replaceAll(
          (site, queue) -> {
            List<UpdateCheck> sorted = new ArrayList<>(queue);
            sorted.sort(NEWEST_FIRST);
            return new ArrayDeque<>(sorted);
          });
    }

    ScanResult total = new ScanResult();
    List<UpdateFile> pass = new ArrayList<>(direct);
    Map<String, String> scannedCandidate = new HashMap<>(); // file uri -> site, for fallbacks
    candidates.forEach(
        (site, queue) -> {
          UpdateCheck first = queue.poll();
          pass.add(byUri.get(first.file()));
          scannedCandidate.put(first.file(), site);
        });
    while (!pass.isEmpty()) {
      ScanResult result = scanner.scan(pass, rules);
      pass.clear();
      for (UpdateCheck check : result.checks()) {
        String site = scannedCandidate.get(check.file());
        if (site != null && !check.accepted() && !candidates.get(site).isEmpty()) {
          UpdateCheck next = candidates.get(site).poll();
          pass.add(byUri.get(next.file()));
          scannedCandidate.put(next.file(), site);
        }
      }
      total.merge(result);
    }

    Map<String, UpdateCheck> winners = new HashMap<>();
    for (UpdateCheck check : total.checks()) {
      if (check.accepted()) {
        winners.merge(check.site(), check, (a, b) -> NEWEST_FIRST.compare(a, b) <= 0 ? a : b);
      }
    }
    long accepted = total.checks().stream().filter(UpdateCheck::accepted).count();
    if (accepted > winners.size()) { // two accepted files of one site among directly scanned names
      List<UpdateFile> keep = new ArrayList<>();
      List<UpdateCheck> rest = new ArrayList<>();
      for (UpdateCheck check : total.checks()) {
        if (!check.accepted()) {
          rest.add(check);
        } else if (winners.get(check.site()) == check) {
          keep.add(byUri.get(check.file()));
        } else {
          rest.add(superseded(check, winners.get(check.site())));
        }
      }
      ScanResult again = scanner.scan(keep, rules);
      again.checks().addAll(rest);
      total = again;
    }
    candidates.forEach(
        (site, queue) -> queue.forEach(check -> settled.add(superseded(check, winners.get(site)))));
    total.checks().addAll(settled);
    total.checks().sort(Comparator.comparing(UpdateCheck::file));
    return total;
  }

  private static UpdateCheck superseded(UpdateCheck check, UpdateCheck winner) {
    return check.reject(
        "superseded: site "
            + check.site()
            + " uploaded again for this round ("
            + (winner == null ? "a later file" : winner.file())
            + "); its latest valid update counts");
  }
}
