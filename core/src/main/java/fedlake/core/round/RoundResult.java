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

  /** Files that passed every check (accepted, clipped, trimmed or excluded by a robust rule). */
  public long accepted() {
    return audit.stream().filter(a -> AuditStatus.valid(a.getStatus())).count();
  }

  public long rejected() {
    return audit.size() - accepted();
  }
}
