package fedlake.core.round;

import java.util.Locale;

/** What the round job did with one update file ({@code UpdateAudit.status}, in lower case). */
public enum AuditStatus {
  /** Checked and aggregated. */
  ACCEPTED,
  /** Not aggregated; the audit row says why. */
  REJECTED;

  /** The value in audit files: {@code accepted} or {@code rejected}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Whether an audit row's status is this one. */
  public boolean is(String status) {
    return id().equals(status);
  }
}
