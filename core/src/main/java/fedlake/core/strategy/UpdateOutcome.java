package fedlake.core.strategy;

/**
 * What a robust aggregation did to one accepted update, for the audit.
 *
 * @param site the update's site (one accepted update per site and round)
 * @param action what happened to it
 * @param reason the figures: norm and bound, weight and cap, share of coordinates trimmed, score
 */
public record UpdateOutcome(String site, Action action, String reason)
    implements java.io.Serializable {
  /** What a robust aggregation did to an update. */
  public enum Action {
    /** Used as sent (the reason may still give figures, such as a share trimmed). */
    KEPT,
    /** Its change was scaled down to the norm bound, or its weight capped; then used. */
    CLIPPED,
    /** Dropped from more than the expected share of coordinates by a coordinate-wise rule. */
    TRIMMED,
    /** Left out entirely (Krum, Multi-Krum). */
    EXCLUDED
  }
}
