package fedlake.core.round;

import java.util.Locale;

/** What the round job did with one update file ({@code UpdateAudit.status}, in lower case). */
public enum AuditStatus {
  /** Checked and aggregated. */
  ACCEPTED,
  /** Not aggregated; the audit row says why. */
  REJECTED,
  /** Valid; aggregated after its change was scaled down or its weight capped (robust rules). */
  CLIPPED,
  /** Valid; dropped from more than the expected share of coordinates (median, trimmed mean). */
  TRIMMED,
  /** Valid, but left out of the aggregate (Krum, Multi-Krum). */
  EXCLUDED;

  /** The value in audit files: {@code accepted}, {@code rejected}, {@code clipped}, ... */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Whether an audit row's status says the update passed every check (all but rejected). */
  public static boolean valid(String status) {
    return !REJECTED.is(status);
  }

  /** Whether an audit row's status is this one. */
  public boolean is(String status) {
    return id().equals(status);
  }
}
