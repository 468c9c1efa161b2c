package fedlake.core.round;

import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import fedlake.schema.UpdateAudit;
import java.util.List;

/** Outcome of aggregating one round. */
public record RoundResult(
    int round,
    Status status,
    String message,
    List<Model> published,
    List<RoundHistory> history,
    List<UpdateAudit> audit) {

  /** What the round job did. */
  public enum Status {
    /** Models for round + 1 were published. */
    PUBLISHED,
    /** No update was valid: nothing was published, history and audit say why. */
    NO_VALID_UPDATES,
    /** The round had been aggregated before; nothing was written. */
    ALREADY_DONE,
    /**
     * Another round job claimed this round first (or published it meanwhile); this job left the
     * store as that job wrote it.
     */
    LOST_RACE
  }

  /**
   * What a job asked to aggregate round {@code expected} (null: whichever is current) does when the
   * current round is {@code current}: null to go on, ALREADY_DONE for an earlier round.
   *
   * @throws IllegalStateException for a round not reached yet
   */
  public static RoundResult unlessCurrent(Integer expected, int current) {
    if (expected == null || expected == current) {
      return null;
    }
    if (expected > current) {
      throw new IllegalStateException(
          "Cannot aggregate round " + expected + ": the current round is " + current);
    }
    return new RoundResult(
        expected,
        Status.ALREADY_DONE,
        "Round "
            + expected
            + " was aggregated already (current round is "
            + current
            + "); nothing to do",
        List.of(),
        List.of(),
        List.of());
  }

  /** Files that passed every check (accepted, clipped, trimmed or excluded by a robust rule). */
  public long accepted() {
    return audit.stream().filter(a -> AuditStatus.valid(a.getStatus())).count();
  }

  public long rejected() {
    return audit.size() - accepted();
  }
}
