package fedlake.core.round;

import fedlake.core.spec.Specs;
import fedlake.core.store.Latest;
import fedlake.core.store.Store;
import fedlake.schema.FederationSpec;
import fedlake.schema.Model;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileStatus;

/**
 * The round policy's rule for when a round may be aggregated: when at least {@code minSites} sites
 * sent a valid update, or, once the round's deadline has passed, when at least one did. The
 * deadline counts from the round's model (the earliest {@code createdTime} of the round's cluster
 * models, all written by one job). A round with no valid update is never ready: there is nothing to
 * publish.
 *
 * <p>One rule, two callers: the round job applies it to the sites whose update it accepted; {@code
 * fedlake round-ready} (the Airflow sensor) applies it to the sites with an update file in the
 * round's folder ({@link #sitesWithUpdates}), without reading the files. That count can only be
 * higher than the round job's (invalid files count for the sensor), so a sensor that says "not
 * ready" is always right, and one that says "ready" is confirmed or refused by the round job, which
 * then publishes nothing and exits 3.
 *
 * @param minSites fewest sites with a valid update before the deadline; at least 1
 * @param deadlineSeconds seconds from the round's model to its deadline; 0: none
 */
public record RoundReadiness(int minSites, long deadlineSeconds) {
  /** The policy of a store without a spec (made before specs): one valid update, no deadline. */
  public static final RoundReadiness DEFAULT = new RoundReadiness(1, 0);

  public RoundReadiness {
    if (minSites < 1) {
      throw new IllegalArgumentException("min-sites must be at least 1, got " + minSites);
    }
    if (deadlineSeconds < 0) {
      throw new IllegalArgumentException(
          "round-deadline must be 0 (none) or a positive number of seconds, got "
              + deadlineSeconds);
    }
  }

  /** The round policy of {@code spec}; {@link #DEFAULT} for null. */
  public static RoundReadiness of(FederationSpec spec) {
    return spec == null
        ? DEFAULT
        : new RoundReadiness(
            spec.getRoundPolicy().getMinSites(), spec.getRoundPolicy().getDeadlineSeconds());
  }

  /** Why a round is or is not ready. */
  public enum Reason {
    /** At least minSites sites: ready. */
    ENOUGH_SITES,
    /** The deadline passed and at least one site: ready. */
    DEADLINE_PASSED,
    /** Fewer than minSites sites and the deadline (if any) still ahead: not ready. */
    WAITING_FOR_SITES,
    /** No site at all: not ready, before or after the deadline. */
    NO_SITES
  }

  /**
   * The rule's answer for one round.
   *
   * @param ready whether the round may be aggregated
   * @param reason why
   * @param sites the sites counted
   * @param deadline the round's deadline, null when the policy has none
   */
  public record Decision(boolean ready, Reason reason, int sites, Instant deadline) {}

  /**
   * Applies the rule.
   *
   * @param sites sites with a (valid) update for the round
   * @param openedMillis when the round's model was written
   * @param nowMillis the time to judge the deadline by
   */
  public Decision decide(int sites, long openedMillis, long nowMillis) {
    Instant deadline =
        deadlineSeconds == 0 ? null : Instant.ofEpochMilli(openedMillis + deadlineSeconds * 1000);
    boolean passed = deadline != null && nowMillis >= deadline.toEpochMilli();
    Reason reason =
        sites == 0
            ? Reason.NO_SITES
            : sites >= minSites
                ? Reason.ENOUGH_SITES
                : passed ? Reason.DEADLINE_PASSED : Reason.WAITING_FOR_SITES;
    return new Decision(
        reason == Reason.ENOUGH_SITES || reason == Reason.DEADLINE_PASSED, reason, sites, deadline);
  }

  /** When a round opened: the earliest creation time of its models. */
  public static long opened(Collection<Model> models) {
    return models.stream()
        .mapToLong(m -> m.getCreatedTime().toEpochMilli())
        .min()
        .orElseThrow(() -> new IllegalArgumentException("a round has at least one model"));
  }

  /**
   * Sites with at least one visible update file ({@code SITE--ID.parquet}) in the round's folder,
   * or, when {@code late} buffers late updates, a pending late file ({@link LateUpdates#earlier}),
   * registered ones only when the store registers sites; the files are not read.
   */
  public static Set<String> sitesWithUpdates(Store store, int round, LateUpdates late) {
    Set<String> registered = store.registeredSites().orElse(null);
    Set<String> sites = new TreeSet<>();
    List<FileStatus> files = new ArrayList<>(late.earlier(store, round).pending());
    files.addAll(store.listUpdates(round));
    files.forEach(
        status -> {
          String site = new UpdateFile(status.getPath().toString(), 0).siteFromName();
          if (site != null && (registered == null || registered.contains(site))) {
            sites.add(site);
          }
        });
    return sites;
  }

  /**
   * The sensor's view of round {@code round} (null: the current round) at {@code nowMillis}: the
   * rule applied to {@link #sitesWithUpdates}. A round already aggregated is reported as {@link
   * Check#done()}; a round after the current one is an error.
   */
  public static Check check(Store store, Integer round, long nowMillis) {
    Latest latest = store.requireLatest();
    int current = latest.round();
    if (round != null && round < current) {
      return new Check(round, current, true, null, null);
    }
    if (round != null && round > current) {
      throw new IllegalStateException(
          "Cannot check round " + round + ": the current round is " + current);
    }
    FederationSpec spec = Specs.current(store).orElse(null);
    RoundReadiness policy = of(spec);
    long opened =
        opened(latest.versions().keySet().stream().map(c -> store.readModel(current, c)).toList());
    Decision decision =
        policy.decide(
            sitesWithUpdates(store, current, LateUpdates.of(spec)).size(), opened, nowMillis);
    return new Check(current, current, false, policy, decision);
  }

  /**
   * What {@link #check} found.
   *
   * @param round the round checked
   * @param current the store's current round
   * @param done whether the round was aggregated already (then policy and decision are null)
   * @param policy the round policy in force
   * @param decision the rule's answer
   */
  public record Check(
      int round, int current, boolean done, RoundReadiness policy, Decision decision) {
    /** Whether the DAG may go on: the round is ready or was aggregated already. */
    public boolean proceed() {
      return done || decision.ready();
    }

    /** One line for a log. */
    public String message() {
      if (done) {
        return "Round " + round + " was aggregated already (current round is " + current + ")";
      }
      String deadline =
          decision.deadline() == null ? "no deadline" : "deadline " + decision.deadline();
      String counted =
          decision.sites() + " site(s) with an update, the spec asks for " + policy.minSites();
      return switch (decision.reason()) {
        case ENOUGH_SITES -> "Round " + round + " is ready: " + counted;
        case DEADLINE_PASSED ->
            "Round " + round + " is ready: its " + deadline + " passed; " + counted;
        case WAITING_FOR_SITES, NO_SITES ->
            "Round " + round + " is not ready: " + counted + "; " + deadline;
      };
    }
  }
}
